"""``hf-seq2seq`` end to end on CPU: a tiny random Marian and a tokenizer trained here, through to sacrebleu."""
from __future__ import annotations

from pathlib import Path

import pytest
import sacrebleu

from evalkit.datasets.translation import TranslationDataset
from evalkit.errors import InputError, MissingResourceError
from evalkit.models.hf_seq2seq import length_sorted_chunks
from evalkit.registry import METRICS, MODELS

SOURCES = ["the cat sat on the mat", "a dog", "the dog ran to the house and sat down", "hello",
           "a cat and a dog", "the house", "on the mat the cat sat quietly", "bye"]
REFERENCES = ["die Katze sass auf der Matte", "ein Hund", "der Hund lief zum Haus und setzte sich", "hallo",
              "eine Katze und ein Hund", "das Haus", "auf der Matte sass die Katze ruhig", "tschuess"]


@pytest.fixture(scope="module")
def tiny_marian(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer Marian with a word-level tokenizer trained on the test sentences."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import MarianConfig, MarianMTModel, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-marian")
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(SOURCES + REFERENCES, trainers.WordLevelTrainer(special_tokens=["<pad>", "</s>", "<unk>"]))
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    tokenizer.save_pretrained(folder)
    config = MarianConfig(vocab_size=tok.get_vocab_size(), d_model=16, encoder_layers=2, decoder_layers=2,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                          max_position_embeddings=64, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
                          forced_eos_token_id=1)
    torch.manual_seed(0)
    MarianMTModel(config).save_pretrained(folder)
    return folder


@pytest.fixture()
def dataset(tmp_path) -> TranslationDataset:
    (tmp_path / "src.en").write_text("\n".join(SOURCES) + "\n", encoding="utf-8")
    (tmp_path / "ref.de").write_text("\n".join(REFERENCES) + "\n", encoding="utf-8")
    return TranslationDataset(root=tmp_path, source_file="src.en", reference_file="ref.de")


def translate(adapter, dataset, batch_size: int) -> tuple[list[str], list[str], float]:
    metric = METRICS.get("bleu")()
    outputs: list[str] = []
    for batch in dataset.batches(dataset.select(), batch_size):
        predictions = adapter.predict(batch)
        assert isinstance(predictions, list) and len(predictions) == len(batch)
        assert all(isinstance(p, str) for p in predictions)
        metric.update(predictions, batch.targets, batch.ids)
        outputs.extend(predictions)
    return outputs, metric.sample_ids(), metric.compute()["BLEU"]


def test_batched_sorted_generation_reaches_the_metric_in_order(tiny_marian, dataset):
    adapter = MODELS.get("hf-seq2seq")(path=str(tiny_marian), num_beams=2, max_new_tokens=8, generation_batch_size=3,
                                       random_weights=True)
    adapter.load("cpu")
    outputs, ids, score = translate(adapter, dataset, batch_size=5)
    assert ids == [str(i) for i in range(len(SOURCES))]
    assert score == sacrebleu.corpus_bleu(outputs, [REFERENCES]).score
    one_by_one = [adapter.predict(next(dataset.batches([i], 1)))[0] for i in range(len(SOURCES))]
    assert outputs == one_by_one  # sorting by length and padding did not change or reorder translations
    info = adapter.describe()
    assert info["random_weights"] and info["architecture"] == "MarianMTModel" and info["parameters"] > 0


def test_prefix_and_decoding_as_the_tokenizer_does(tiny_marian, dataset):
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    adapter = MODELS.get("hf-seq2seq")(path=str(tiny_marian), num_beams=1, max_new_tokens=6, prefix="the ")
    adapter.load("cpu")
    got = adapter.predict(next(dataset.batches([1], 1)))
    tokenizer = AutoTokenizer.from_pretrained(tiny_marian, local_files_only=True)
    model = AutoModelForSeq2SeqLM.from_pretrained(tiny_marian, local_files_only=True).eval()
    with torch.inference_mode():
        ids = model.generate(**tokenizer(["the " + SOURCES[1]], return_tensors="pt"), num_beams=1, max_new_tokens=6)
    assert got == tokenizer.batch_decode(ids, skip_special_tokens=True)


def test_errors_name_the_problem(tmp_path, tiny_marian):
    with pytest.raises(MissingResourceError, match="no-model"):
        MODELS.get("hf-seq2seq")(path=str(tmp_path / "no-model")).load("cpu")
    (tmp_path / "ref.de").write_text("x\n", encoding="utf-8")
    refs_only = TranslationDataset(reference_file=str(tmp_path / "ref.de"))
    adapter = MODELS.get("hf-seq2seq")(path=str(tiny_marian))
    adapter.load("cpu")
    with pytest.raises(InputError, match="source"):
        adapter.predict(next(refs_only.batches([0], 1)))


def test_length_sorted_chunks_cover_every_index_once():
    chunks = length_sorted_chunks([3, 9, 1, 9, 4], 2)
    assert chunks == [[1, 3], [4, 0], [2]]
    assert sorted(i for c in chunks for i in c) == list(range(5))


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("precision", ["fp32", "fp16", "bf16"])
def test_generation_on_cuda_in_each_precision(tiny_marian, dataset, precision):
    import torch

    adapter = MODELS.get("hf-seq2seq")(path=str(tiny_marian), num_beams=2, max_new_tokens=8, generation_batch_size=3)
    adapter.load("cuda", precision)
    weight = next(adapter.model.parameters())
    assert weight.is_cuda and weight.dtype == {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]
    outputs, ids, score = translate(adapter, dataset, batch_size=5)
    assert ids == [str(i) for i in range(len(SOURCES))]
    assert score == sacrebleu.corpus_bleu(outputs, [REFERENCES]).score
    if precision == "fp32":
        on_cpu = MODELS.get("hf-seq2seq")(path=str(tiny_marian), num_beams=2, max_new_tokens=8, generation_batch_size=3)
        on_cpu.load("cpu")
        assert outputs == translate(on_cpu, dataset, batch_size=5)[0]
