"""hf-embeddings: a local Hugging Face model's input embeddings as word vectors, scored as gensim scores them."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import yaml

from evalkit.cli import main

WORDS = ["king", "queen", "man", "woman", "paris", "france", "rome", "italy", "big", "bigger", "small", "smaller"]
QUESTIONS = """: capital-common-countries
paris france rome italy
rome italy paris france
: family
man woman king queen
king queen man woman
: gram2-comparative
big bigger small smaller
small smaller big bigger
"""


@pytest.fixture()
def bert_dir(tmp_path):
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, "##s"]
    tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(vocab)})
    config = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32)
    torch.manual_seed(0)
    model = BertModel(config)
    rng = np.random.default_rng(3)
    weights = rng.standard_normal((len(vocab), 16)).astype(np.float32)
    offsets = {"woman": ("man", 0), "queen": ("king", 0), "france": ("paris", 1), "italy": ("rome", 1),
               "bigger": ("big", 2), "smaller": ("small", 2)}
    directions = rng.standard_normal((3, 16)).astype(np.float32) * 3
    for word, (base, d) in offsets.items():
        weights[vocab.index(word)] = weights[vocab.index(base)] + directions[d]
    with torch.no_grad():
        model.get_input_embeddings().weight.copy_(torch.from_numpy(weights))
    model.save_pretrained(tmp_path / "bert")
    tokenizer.save_pretrained(tmp_path / "bert")
    return tmp_path / "bert", vocab, weights


def test_embeddings_answer_like_gensim(tmp_path, capsys, bert_dir):
    from gensim.models import KeyedVectors

    path, vocab, weights = bert_dir
    (tmp_path / "q.txt").write_text(QUESTIONS)
    suite = {"name": "emb", "task": "analogy", "dataset": {"loader": "analogy", "root": str(tmp_path / "q.txt")},
             "models": [{"adapter": "hf-embeddings", "path": str(path)}], "runtime": {"device": "cpu"}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(suite))
    assert main(["run", str(tmp_path / "s.yaml"), "--json", "--no-progress", "--output-dir", str(tmp_path / "o")]) == 0
    record = json.loads(capsys.readouterr().out)
    kv = KeyedVectors(vector_size=16)
    kv.add_vectors(vocab, weights)
    score, sections = kv.evaluate_word_analogies(str(tmp_path / "q.txt"))
    total = next(s for s in sections if s["section"] == "Total accuracy")
    assert record["metrics"]["accuracy"] == pytest.approx(score, rel=1e-12)
    assert record["metrics"]["correct"] == len(total["correct"]) == 6
