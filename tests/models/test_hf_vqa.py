"""``hf-vqa`` end to end on CPU: a tiny random ViLT classifier saved here, generated images, a VQA fixture,
through the runner into the ``vqa`` metric, checked against ViLT run by hand and the vqaEval transcription."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.metrics import _vqa_reference as ref
from evalkit.datasets.vqa import VQADataset
from evalkit.errors import InputError, MissingResourceError
from evalkit.registry import MODELS
from evalkit.runner import evaluate_adapter
from evalkit.suite import Runtime
from tests.helpers import write_image

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "what", "color", "is", "the", "how", "many", "dog", "?"]
LABELS = ["yes", "no", "2", "red", "net", "two dogs", "the Dog."]
QUESTIONS = ["what color is the dog?", "how many dog?", "is the dog red?", "what is the dog?", "how many?"]
ANSWERS = [["red"] * 10, ["2"] * 6 + ["two"] * 4, ["yes"] * 7 + ["no"] * 3, ["dog"] * 5 + ["net"] * 5, ["2"] * 10]


@pytest.fixture(scope="module")
def tiny_vilt(tmp_path_factory) -> Path:
    """A 1-layer random ViLT with a 7-answer head (32 px images), its image processor and a word-piece tokenizer."""
    import torch
    from transformers import BertTokenizerFast, ViltConfig, ViltForQuestionAnswering, ViltImageProcessor, ViltProcessor

    folder = tmp_path_factory.mktemp("tiny-vilt")
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(WORDS) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab), do_lower_case=True)
    config = ViltConfig(vocab_size=len(WORDS), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, image_size=32, patch_size=16, max_position_embeddings=40,
                        num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
                        label2id={label: i for i, label in enumerate(LABELS)}, initializer_range=1.0)
    torch.manual_seed(0)
    ViltForQuestionAnswering(config).save_pretrained(folder)
    processor = ViltProcessor(ViltImageProcessor(size={"shortest_edge": 32}, size_divisor=16), tokenizer)
    processor.save_pretrained(folder)
    return folder


@pytest.fixture()
def vqa_root(tmp_path) -> Path:
    questions, annotations = [], []
    for i, (question, answers) in enumerate(zip(QUESTIONS, ANSWERS)):
        image_id, qid = 10 + i // 2, (10 + i // 2) * 1000 + i
        write_image(tmp_path / "val2014" / f"COCO_val2014_{image_id:012d}.jpg", seed=i, size=48 + 8 * i)
        questions.append({"image_id": image_id, "question": question, "question_id": qid})
        annotations.append({"question_id": qid, "image_id": image_id, "question_type": question.split()[0],
                            "answer_type": "other", "multiple_choice_answer": answers[0],
                            "answers": [{"answer": a, "answer_confidence": "yes", "answer_id": k + 1}
                                        for k, a in enumerate(answers)]})
    (tmp_path / "v2_OpenEnded_mscoco_val2014_questions.json").write_text(json.dumps({"questions": questions}))
    (tmp_path / "v2_mscoco_val2014_annotations.json").write_text(json.dumps({"annotations": annotations}))
    return tmp_path


def by_hand(model_dir: Path, dataset: VQADataset) -> list[str]:
    """Each question alone through ViltProcessor and ViltForQuestionAnswering — no evalkit code."""
    import torch
    from PIL import Image
    from transformers import ViltForQuestionAnswering, ViltProcessor

    model = ViltForQuestionAnswering.from_pretrained(model_dir, local_files_only=True).eval()
    processor = ViltProcessor.from_pretrained(model_dir, local_files_only=True)
    out = []
    for record in dataset.annotations:
        question = dataset.questions[record["question_id"]]
        with Image.open(dataset.image_path(question["image_id"])) as image:
            encoded = processor(images=image.convert("RGB"), text=question["question"], return_tensors="pt")
        with torch.inference_mode():
            out.append(model.config.id2label[int(model(**encoded).logits.argmax(-1))])
    return out


def test_runner_feeds_vilt_answers_to_the_vqa_metric(tiny_vilt, vqa_root):
    dataset = VQADataset(root=vqa_root)
    adapter = MODELS.get("hf-vqa")(path=str(tiny_vilt), random_weights=True)
    record, (metric,) = evaluate_adapter(task_name="vqa", dataset=dataset, adapter=adapter,
                                         metric_specs=[("vqa", {})],
                                         runtime=Runtime(device="cpu", batch_size=2, progress=False))
    answers = metric.per_sample()["answer"]
    assert metric.sample_ids() == dataset.sample_ids()
    assert all(a in LABELS for a in answers)
    assert answers == by_hand(tiny_vilt, dataset)  # batching with padding changes no answer
    accuracy, per_question, _ = ref.evaluate(copy.deepcopy(dataset.annotations), [
        {"question_id": int(i), "answer": a} for i, a in zip(metric.sample_ids(), answers)])
    assert metric.accuracies().tolist() == per_question
    assert record["metrics"]["overall"] == pytest.approx(100 * sum(per_question) / len(per_question), rel=1e-12)
    assert metric.official_accuracy() == accuracy
    assert record["model"]["mode"] == "classify" and record["model"]["architecture"] == "ViltForQuestionAnswering"


def test_errors_name_the_problem(tmp_path, tiny_vilt):
    with pytest.raises(MissingResourceError, match="no-model"):
        MODELS.get("hf-vqa")(path=str(tmp_path / "no-model")).load("cpu")
    with pytest.raises(InputError, match="mode"):
        MODELS.get("hf-vqa")(path=str(tiny_vilt), mode="guess")
    from evalkit.datasets.base import Batch

    adapter = MODELS.get("hf-vqa")(path=str(tiny_vilt))
    adapter.load("cpu")
    with pytest.raises(InputError, match="question"):
        adapter.predict(Batch(["1"], [object()], [None]))
