"""``hf-captioning`` end to end on CPU: a tiny random ViT + GPT-2 VisionEncoderDecoder saved here, a COCO
captions fixture with generated images, through the runner and the CLI into the ``cider`` metric, checked
against the model's own ``generate`` and pycocoevalcap's ``Cider``."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from evalkit.cli import main
from evalkit.datasets.captions import CocoCaptions
from evalkit.errors import InputError, MissingResourceError
from evalkit.metrics.cider import cider_d
from evalkit.metrics.ptb_tokenizer import tokenize
from evalkit.registry import MODELS
from evalkit.runner import evaluate_adapter
from evalkit.suite import Runtime
from tests.helpers import write_image

pycocoevalcap = pytest.importorskip("pycocoevalcap")
from pycocoevalcap.cider.cider import Cider  # noqa: E402

WORDS = "a cat dog sits on the mat man rides horse red blue".split()
SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]
REFERENCES = [["A cat sits on the mat.", "The cat on a red mat"],
              ["A man rides a horse.", "man on the horse", "A man riding a blue horse"],
              ["a dog", "The dog sits."],
              ["A red horse", "a blue horse on the mat"],
              ["The man and the dog.", "A dog sits on a man"],
              ["a mat", "the blue mat"],
              ["A cat rides a dog", "the cat on the dog"]]


@pytest.fixture(scope="module")
def tiny_captioner(tmp_path_factory) -> Path:
    """A random 1-layer ViT encoder + 1-layer GPT-2 decoder, word-level tokenizer and ViT processor (32 px).

    Weights are drawn wide (std 1) and the pad/bos/unk output rows zeroed, so captions differ between
    images and have different lengths (some end with <eos>) instead of repeating <bos>.
    """
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (GPT2Config, PreTrainedTokenizerFast, ViTConfig, ViTImageProcessor,
                              VisionEncoderDecoderConfig, VisionEncoderDecoderModel)

    folder = tmp_path_factory.mktemp("tiny-captioner")
    vocab = {token: i for i, token in enumerate(SPECIALS + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
                            unk_token="<unk>").save_pretrained(folder)
    encoder = ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, initializer_range=1.0)
    decoder = GPT2Config(vocab_size=len(vocab), n_embd=32, n_layer=1, n_head=2, n_positions=64, bos_token_id=1,
                         eos_token_id=2, pad_token_id=0, initializer_range=1.0, tie_word_embeddings=False)
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.decoder_start_token_id, config.pad_token_id, config.eos_token_id = 1, 0, 2
    torch.manual_seed(0)
    model = VisionEncoderDecoderModel(config)
    with torch.no_grad():
        model.decoder.lm_head.weight[[0, 1, 3]] = 0
    model.save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_blip(tmp_path_factory) -> Path:
    """A random BLIP captioner (1-layer ViT and BERT decoder, 32 px) with a BLIP image processor; pad/bos/unk
    outputs get a -1e4 bias so that captions are words."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BlipConfig, BlipForConditionalGeneration, BlipImageProcessor, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-blip")
    vocab = {token: i for i, token in enumerate(["[PAD]", "[DEC]", "[SEP]", "[UNK]"] + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="[DEC]", eos_token="[SEP]", sep_token="[SEP]",
                            pad_token="[PAD]", unk_token="[UNK]").save_pretrained(folder)
    config = BlipConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, max_position_embeddings=64, initializer_range=1.0, bos_token_id=1,
                         eos_token_id=2, sep_token_id=2, pad_token_id=0, encoder_hidden_size=32),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                           image_size=32, patch_size=8, initializer_range=1.0),
        projection_dim=16)
    torch.manual_seed(0)
    model = BlipForConditionalGeneration(config)
    with torch.no_grad():
        model.text_decoder.cls.predictions.bias[[0, 1, 3]] = -1e4
    model.save_pretrained(folder)
    BlipImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


@pytest.fixture()
def captions_root(tmp_path) -> Path:
    """captions_val2014-style annotations and a folder of generated JPEGs (40 px, resized to 32 by the processor)."""
    images, annotations = [], []
    for i, refs in enumerate(REFERENCES):
        image_id = 1000 + 7 * i
        name = f"COCO_val2014_{image_id:012d}.jpg"
        write_image(tmp_path / "val2014" / name, seed=i)
        images.append({"id": image_id, "file_name": name, "height": 40, "width": 40})
        annotations += [{"id": len(annotations), "image_id": image_id, "caption": c} for c in refs]
    (tmp_path / "captions.json").write_text(json.dumps({"images": images, "annotations": annotations}))
    return tmp_path


def dataset(root: Path) -> CocoCaptions:
    return CocoCaptions(root=root / "val2014", annotation_file=root / "captions.json")


def reference_generate(model_dir: Path, root: Path, ids: list[str], model_class: str = "VisionEncoderDecoderModel",
                       **kwargs) -> list[str]:
    """Each image alone through the processor, ``generate`` and ``batch_decode`` — no evalkit code."""
    import torch
    import transformers
    from PIL import Image
    from transformers import AutoImageProcessor, AutoTokenizer

    model = getattr(transformers, model_class).from_pretrained(model_dir, local_files_only=True).eval()
    processor = AutoImageProcessor.from_pretrained(model_dir, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    out = []
    for image_id in ids:
        with Image.open(root / "val2014" / f"COCO_val2014_{int(image_id):012d}.jpg") as img:
            pixels = processor(images=img.convert("RGB"), return_tensors="pt")["pixel_values"]
        with torch.inference_mode():
            generated = model.generate(pixel_values=pixels, **kwargs)
        out.append(tokenizer.batch_decode(generated, skip_special_tokens=True)[0].strip())
    return out


def run(model_dir: Path, root: Path, batch_size: int = 3, precision: str = "fp32", **options):
    adapter = MODELS.get("hf-captioning")(path=str(model_dir), random_weights=True, **options)
    record, metrics = evaluate_adapter(task_name="captions", dataset=dataset(root), adapter=adapter,
                                       metric_specs=[("cider", {})],
                                       runtime=Runtime(device="cpu", batch_size=batch_size, precision=precision,
                                                       progress=False))
    return record, metrics[0]


def test_runner_feeds_batched_captions_to_cider_as_generate_and_pycocoevalcap_do(tiny_captioner, captions_root):
    record, metric = run(tiny_captioner, captions_root, num_beams=2, max_new_tokens=7)
    ids = [str(1000 + 7 * i) for i in range(len(REFERENCES))]
    assert metric.sample_ids() == ids
    assert metric.column("references") == REFERENCES
    captions = metric.column("candidate")
    assert all(isinstance(c, str) and c == c.strip() for c in captions)
    assert len(set(captions)) > 1 and all(set(c.split()) <= set(WORDS) for c in captions)
    assert captions == reference_generate(tiny_captioner, captions_root, ids, num_beams=2, max_new_tokens=7)

    tokens = tokenize([c for refs in REFERENCES for c in refs] + captions, "python")
    gts, at = {}, 0
    for image_id, refs in zip(ids, REFERENCES):
        gts[image_id], at = tokens[at : at + len(refs)], at + len(refs)
    res = {image_id: [tokens[at + i]] for i, image_id in enumerate(ids)}
    assert metric.tokenized()[0] == [res[k][0] for k in ids]
    mean, per_image = Cider().compute_score(gts, res)
    assert record["metrics"]["CIDEr"] == pytest.approx(mean, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(metric.image_scores(), per_image, rtol=1e-9, atol=1e-12)
    assert record["model"]["architecture"] == "VisionEncoderDecoderModel" and record["model"]["random_weights"]
    assert record["dataset"]["num_evaluated"] == len(REFERENCES)


def test_blip_captions_reach_the_metric(tiny_blip, captions_root):
    record, metric = run(tiny_blip, captions_root, batch_size=4, max_new_tokens=6)
    expected = reference_generate(tiny_blip, captions_root, metric.sample_ids(), "BlipForConditionalGeneration",
                                  max_new_tokens=6)
    assert metric.column("candidate") == expected and len(set(expected)) > 2
    assert record["model"]["architecture"] == "BlipForConditionalGeneration"
    again = cider_d(dict(zip(metric.sample_ids(), REFERENCES)), dict(zip(metric.sample_ids(), expected)))
    assert record["metrics"]["CIDEr"] == again["CIDEr"]


def test_bf16_autocast_runs_on_cpu(tiny_captioner, captions_root):
    record, bf16 = run(tiny_captioner, captions_root, precision="bf16", max_new_tokens=5)
    assert record["timing"]["precision"] == "bf16"
    assert all(isinstance(c, str) for c in bf16.column("candidate")) and bf16.num_samples() == len(REFERENCES)


def test_cli_suite_writes_a_captions_record(tiny_captioner, captions_root, tmp_path, capsys):
    suite = {"name": "caps", "task": "captions",
             "dataset": {"loader": "coco-captions", "annotation_file": str(captions_root / "captions.json"),
                         "root": str(captions_root / "val2014")},
             "models": [{"adapter": "hf-captioning", "path": str(tiny_captioner), "label": "tiny",
                         "max_new_tokens": 6, "random_weights": True}],
             "metrics": ["cider"], "runtime": {"device": "cpu", "batch_size": 4}}
    path = tmp_path / "caps.yaml"
    path.write_text(yaml.safe_dump(suite))
    assert main(["run", str(path), "--json", "--no-progress", "--output-dir", str(tmp_path / "out")]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["task"] == "captions" and record["model"]["name"] == "tiny"
    assert set(record["metrics"]) >= {"CIDEr", "BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4"}
    frame = pd.read_parquet(tmp_path / "out" / record["predictions_file"])
    refs = {str(1000 + 7 * i): r for i, r in enumerate(REFERENCES)}
    again = cider_d(refs, dict(zip(frame["sample_id"], frame["caption"])))
    assert record["metrics"]["CIDEr"] == pytest.approx(again["CIDEr"], rel=1e-12)


def test_errors_name_the_problem(tmp_path, tiny_captioner, captions_root):
    with pytest.raises(MissingResourceError, match="no-model"):
        MODELS.get("hf-captioning")(path=str(tmp_path / "no-model")).load("cpu")
    adapter = MODELS.get("hf-captioning")(path=str(tiny_captioner))
    adapter.load("cpu")
    refs_only = CocoCaptions(annotation_file=captions_root / "captions.json")
    with pytest.raises(InputError, match="root"):
        adapter.predict(next(refs_only.batches([0], 1, adapter.transform())))
    with pytest.raises(InputError, match="precision"):
        MODELS.get("hf-captioning")(path=str(tiny_captioner)).load("cpu", precision="fp8")
    (captions_root / "val2014" / "COCO_val2014_000000001000.jpg").unlink()
    with pytest.raises(MissingResourceError, match="1000"):
        next(dataset(captions_root).batches([0], 1, adapter.transform()))
