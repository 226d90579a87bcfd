"""Seeded tiny random causal LMs (GPT-2 and Llama configs) with tokenizers trained here: nothing downloaded."""
from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path

WORDS = ("the of and to in a is was for on as with by he at from his an were are which this be also has or had "
         "first one their its new after who they two her she been other when time during there into school "
         "season most years world city film game war album song team river species church = @-@ , . ( ) ; : ' "
         "Robert Boulter valkyria chronicles tower green 1998 2005 £ é —").split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def training_text() -> list[str]:
    rng = random.Random(7)
    return [sentence(rng, rng.randint(5, 40)) for _ in range(400)]


def documents() -> list[str]:
    """Short, one-window-ish, many-window documents, a whitespace-only one and an empty one."""
    rng = random.Random(11)
    docs = [sentence(rng, 3), " = Robert Boulter = \n \n He was born in 1998 . \n", sentence(rng, 60),
            "\n".join(sentence(rng, rng.randint(4, 30)) for _ in range(25)), "   ", ""]
    return docs


@lru_cache(maxsize=None)
def tokenizer(kind: str):
    """``gpt2``: byte-level BPE, BOS = EOS = <|endoftext|>, nothing added when encoding.
    ``llama``: BPE that adds <s> when encoding (BOS prefix). ``nobos``: no BOS token at all, EOS </s>."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>"] if kind == "gpt2" else ["<unk>", "<s>", "</s>"]
    tok = Tokenizer(models.BPE(unk_token=None if kind == "gpt2" else "<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(training_text(), trainer)
    if kind == "gpt2":
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
        return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>")
    if kind == "llama":
        tok.post_processor = processors.Sequence([
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)])])
        return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="</s>", unk_token="<unk>")


def model(arch: str, max_positions: int = 64, seed: int = 0, vocab: int = 300):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    if arch == "gpt2":
        config = GPT2Config(vocab_size=vocab, n_positions=max_positions, n_embd=32, n_layer=2, n_head=2,
                            bos_token_id=0, eos_token_id=0)
        net = GPT2LMHeadModel(config)
    else:
        config = LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                             num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=max_positions,
                             bos_token_id=1, eos_token_id=2)
        net = LlamaForCausalLM(config)
    # larger logits than the init's, so log-probabilities differ visibly between contexts
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(4.0)
    return net.eval()


def save(folder: Path, arch: str, kind: str, max_positions: int = 64) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model(arch, max_positions).save_pretrained(folder)
    tokenizer(kind).save_pretrained(folder)
    return folder
