"""ImageNet-V2, -Sketch, -A, -R and ReaL on generated folders in each published layout, against timm's own logic.

One tiny timm model (random weights) gives the logits; evalkit's loaders and metrics score them, and so does
what timm's ``validate.py`` does on the same files: timm's ImageFolder reader (``create_dataset``, with
``--class-map`` where validate.py needs one), ``output[:, valid_labels]`` for A/R, ``timm.utils.accuracy``,
and ``RealLabelsImagenet`` for ReaL.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("timm")

import timm  # noqa: E402
from timm.data import RealLabelsImagenet, create_dataset  # noqa: E402
from timm.utils import accuracy, natural_key  # noqa: E402

from evalkit.datasets.imagenet import ImageNetVal  # noqa: E402
from evalkit.datasets.imagenet_family import ImageNetA, ImageNetR, ImageNetSketch, ImageNetV2  # noqa: E402
from evalkit.errors import InputError  # noqa: E402
from evalkit.formats.imagenet import class_subset, imagenet_classes  # noqa: E402
from evalkit.models.timm_models import TimmAdapter  # noqa: E402
from evalkit.registry import METRICS  # noqa: E402
from tests.helpers import write_image  # noqa: E402

TIMM_INFO = Path(timm.__file__).parent / "data" / "_info"
WNIDS = [w for w, _, _ in imagenet_classes()]


def tiny_logits(loader) -> dict[str, torch.Tensor]:
    """Logits of a random-weight timm test_resnet (1000 classes, 32 px) for every sample id of ``loader``."""
    torch.manual_seed(0)
    adapter = TimmAdapter(name="test_resnet", num_classes=1000, preprocess={"input_size": [3, 32, 32], "crop_pct": 1.0})
    adapter.bind(loader, "imagenet")
    adapter.load("cpu")
    out: dict[str, torch.Tensor] = {}
    for batch in loader.batches(range(len(loader)), 8, adapter.transform()):
        out.update(zip(batch.ids, adapter.predict(batch).float()))
    return out


def evalkit_metric(loader, logits: dict[str, torch.Tensor], name: str = "topk", **options):
    metric = METRICS.get(name)(**options)
    metric.bind(loader.dataset_meta())
    ids = loader.sample_ids()
    metric.update(torch.stack([logits[i] for i in ids]), torch.tensor(loader.labels), ids)
    return metric


def timm_validate(root: Path, logits: dict[str, torch.Tensor], class_map: str = "",
                  valid_labels: Path | None = None) -> tuple[dict[str, bool], float, float]:
    """validate.py on the same files: per-file top-1 hits and its Acc@1 / Acc@5 (one batch)."""
    dataset = create_dataset("", root=str(root), class_map=class_map)
    samples = dataset.reader.samples
    output = torch.stack([logits[str(Path(path).relative_to(root))] for path, _ in samples])
    target = torch.tensor([t for _, t in samples])
    if valid_labels is not None:
        output = output[:, [int(line) for line in valid_labels.read_text().split()]]
    acc1, acc5 = accuracy(output, target, topk=(1, 5))
    hits = (output.topk(1, 1, True, True).indices[:, 0] == target).tolist()
    return {str(Path(p).relative_to(root)): h for (p, _), h in zip(samples, hits)}, acc1.item(), acc5.item()


def assert_same_as_timm(metric, timm_result) -> None:
    hits, acc1, acc5 = timm_result
    assert dict(zip(metric.sample_ids(), metric.column("correct1").tolist())) == hits
    scores = metric.aggregate()
    assert scores["top1_accuracy"] == pytest.approx(acc1, abs=1e-4)  # timm's accuracy() is float32
    assert scores["top5_accuracy"] == pytest.approx(acc5, abs=1e-4)


def populate(root: Path, folders: list[str], per_folder: int = 2, suffix: str = ".JPEG") -> Path:
    for f, folder in enumerate(folders):
        for i in range(per_folder):
            write_image(root / folder / f"{folder}_{i}{suffix}", seed=f * 10 + i, size=24)
    return root


# --- ImageNet-V2: folders named by class index --------------------------------------------------------------------
def test_v2_folder_name_is_the_class_index_as_timm_natural_sort_gives_it():
    names = [str(i) for i in range(1000)]
    assert sorted(names, key=natural_key) == names  # timm's ImageFolder: folder k is class k
    assert sorted(names)[:3] == ["0", "1", "10"]  # a plain string sort (torchvision) would not be


def test_v2_layout_matches_validate_py(tmp_path):
    root = populate(tmp_path / "imagenetv2-matched-frequency-format-val", ["0", "2", "10", "100", "999"])
    loader = ImageNetV2(root, variant="matched-frequency")
    assert dict(zip(loader.sample_ids(), loader.labels))["10/10_0.JPEG"] == 10
    assert loader.describe()["benchmark"] == "ImageNet-V2 matched-frequency"
    class_map = tmp_path / "v2_classes.txt"  # folder names in class order: what natural sort gives on the full set
    class_map.write_text("\n".join(str(i) for i in range(1000)))
    logits = tiny_logits(loader)
    assert_same_as_timm(evalkit_metric(loader, logits), timm_validate(root, logits, str(class_map)))


@pytest.mark.parametrize("folder", ["07", "1000", "cat"])
def test_v2_rejects_a_folder_that_is_not_a_class_index(tmp_path, folder):
    populate(tmp_path, ["1", folder], per_folder=1)
    with pytest.raises(InputError, match=f"'{folder}'"):
        ImageNetV2(tmp_path)


def test_v2_variant_is_checked(tmp_path):
    with pytest.raises(InputError, match="variant"):
        ImageNetV2(populate(tmp_path, ["1"], 1), variant="matched")


# --- ImageNet-Sketch: wnid folders --------------------------------------------------------------------------------
def test_sketch_layout_matches_validate_py_with_the_imagenet_class_map(tmp_path):
    root = populate(tmp_path / "sketch", [WNIDS[0], WNIDS[5], WNIDS[999]], per_folder=3)
    loader = ImageNetSketch(root)
    assert sorted(set(loader.labels)) == [0, 5, 999] and loader.describe()["benchmark"] == "ImageNet-Sketch"
    logits = tiny_logits(loader)
    timm_result = timm_validate(root, logits, str(TIMM_INFO / "imagenet_synsets.txt"))
    assert_same_as_timm(evalkit_metric(loader, logits), timm_result)


def test_sketch_rejects_a_folder_that_is_not_a_wnid(tmp_path):
    populate(tmp_path, [WNIDS[0], "n99999999"], per_folder=1)
    with pytest.raises(InputError, match="n99999999"):
        ImageNetSketch(tmp_path)


# --- ImageNet-A / -R: 200-class subsets ---------------------------------------------------------------------------
@pytest.mark.parametrize("loader_class, letter", [(ImageNetA, "a"), (ImageNetR, "r")])
def test_subset_indices_are_timms_valid_labels(loader_class, letter):
    indices = [int(x) for x in (TIMM_INFO / f"imagenet_{letter}_indices.txt").read_text().split()]
    assert list(class_subset(loader_class.name)) == indices and len(indices) == 200


@pytest.mark.parametrize("loader_class, letter", [(ImageNetA, "a"), (ImageNetR, "r")])
def test_subset_layout_matches_validate_py_valid_labels(tmp_path, loader_class, letter):
    wnids = (TIMM_INFO / f"imagenet_{letter}_synsets.txt").read_text().split()
    root = populate(tmp_path / f"imagenet-{letter}", [wnids[0], wnids[7], wnids[199]], per_folder=3, suffix=".jpg")
    (root / "README.txt").write_text("not an image, not a class")
    loader = loader_class(root)
    logits = tiny_logits(loader)
    metric = evalkit_metric(loader, logits, class_subset=loader.subset)
    # validate.py --class-map imagenet_[ar]_synsets.txt --valid-labels imagenet_[ar]_indices.txt
    timm_result = timm_validate(root, logits, str(TIMM_INFO / f"imagenet_{letter}_synsets.txt"),
                                TIMM_INFO / f"imagenet_{letter}_indices.txt")
    assert_same_as_timm(metric, timm_result)
    assert set(metric.column("top5").ravel().tolist()) <= set(class_subset(loader.subset))
    assert "class_subset:imagenet-" + letter in str(metric.signature())


def test_subset_data_set_needs_its_class_subset_on_topk(tmp_path):
    loader = ImageNetA(populate(tmp_path, ["n01498041"], 1))
    with pytest.raises(InputError, match="class_subset: imagenet-a"):
        METRICS.get("topk")().bind(loader.dataset_meta())
    with pytest.raises(InputError, match="class_subset: imagenet-a"):
        METRICS.get("topk")(class_subset="imagenet-r").bind(loader.dataset_meta())


def test_subset_rejects_a_class_outside_it(tmp_path):
    populate(tmp_path, ["n01498041", WNIDS[0]], per_folder=1)  # tench is not an ImageNet-A class
    with pytest.raises(InputError, match=WNIDS[0]):
        ImageNetA(tmp_path)


def test_unknown_class_subset_fails_when_the_metric_is_made():
    with pytest.raises(InputError, match="imagenet-b"):
        METRICS.get("topk")(class_subset="imagenet-b")


# --- ReaL on ILSVRC2012 val -----------------------------------------------------------------------------------------
def real_json(path: Path, sets: list[list[int]]) -> Path:
    path.write_text(json.dumps(sets))
    return path


def flat_val(tmp_path: Path, n: int) -> Path:
    val = tmp_path / "val"
    for i in range(n):
        write_image(val / f"ILSVRC2012_val_{i + 1:08d}.JPEG", seed=i, size=24)
    (tmp_path / "ILSVRC2012_validation_ground_truth.txt").write_text("".join(f"{1 + i % 7}\n" for i in range(n)))
    return val


@pytest.mark.parametrize("layout", ["flat", "imagefolder"])
def test_real_matches_real_labels_imagenet(tmp_path, layout):
    n = 12
    val = flat_val(tmp_path, n)
    if layout == "imagefolder":  # the same files moved into wnid folders
        for i, path in enumerate(sorted(val.iterdir())):
            (val / WNIDS[i % 3]).mkdir(exist_ok=True)
            path.rename(val / WNIDS[i % 3] / path.name)
    loader = ImageNetVal(val)
    logits = tiny_logits(loader)
    rng = np.random.default_rng(3)
    sets = [[] if i in (2, 7) else sorted(set(rng.integers(0, 1000, rng.integers(1, 4)).tolist())) for i in range(n)]
    for i in (0, 4, 9):  # make a few top-1 and top-5 hits certain
        top = logits[loader.sample_ids()[[Path(s).name for s in loader.sample_ids()].index(
            f"ILSVRC2012_val_{i + 1:08d}.JPEG")]].topk(5).indices.tolist()
        sets[i] = sorted({top[0] if i != 9 else top[3], 5})
    labels_file = real_json(tmp_path / "real.json", sets)
    metric = evalkit_metric(loader, logits, "real-topk", real_labels=str(labels_file))

    files = [p for p in sorted(val.rglob("*.JPEG"))]
    reference = RealLabelsImagenet([p.name for p in files], real_json=str(labels_file))
    by_name = {Path(i).name: logits[i] for i in loader.sample_ids()}
    reference.add_result(torch.stack([by_name[p.name] for p in files]))
    scores = metric.aggregate()
    assert scores["top1_accuracy"] == reference.get_accuracy(1)
    assert scores["top5_accuracy"] == reference.get_accuracy(5)
    assert scores["top1_error"] == 100 - reference.get_accuracy(1)
    assert 0 < scores["top1_accuracy"] < scores["top5_accuracy"]
    assert metric.extras() == {"rated_images": n - 2, "unrated_images": 2}


def test_real_file_that_does_not_match_the_image_count_is_an_error_naming_it(tmp_path):
    loader = ImageNetVal(flat_val(tmp_path, 3))
    labels_file = real_json(tmp_path / "real_short.json", [[1], [2]])
    with pytest.raises(InputError, match=r"real_short\.json.*2 label sets but the data set has 3 images"):
        METRICS.get("real-topk")(real_labels=str(labels_file)).bind(loader.dataset_meta())
    with pytest.raises(InputError, match=r"imagenet_real_labels\.json.*50000 label sets"):
        METRICS.get("real-topk")().bind(loader.dataset_meta())  # the bundled file is for the full val set


def test_real_through_the_cli_exits_2_naming_the_file(tmp_path, capsys):
    import yaml

    from evalkit.cli import main

    val = flat_val(tmp_path, 3)
    suite = {"name": "real", "task": "imagenet", "dataset": {"root": str(val)},
             "models": [{"adapter": "timm", "name": "test_resnet", "num_classes": 1000,
                         "preprocess": {"input_size": [3, 32, 32], "crop_pct": 1.0}}],
             "metrics": ["topk", {"name": "real-topk", "real_labels": str(real_json(tmp_path / "bad.json", [[1]]))}],
             "runtime": {"device": "cpu", "batch_size": 4}}
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    assert main(["run", str(path), "--no-progress", "--output-dir", str(tmp_path / "out")]) == 2
    assert "bad.json" in capsys.readouterr().err


def test_malformed_real_file_names_the_record(tmp_path):
    labels_file = real_json(tmp_path / "real.json", [[1], [2, "x"]])
    metric = METRICS.get("real-topk")(real_labels=str(labels_file))
    with pytest.raises(InputError, match=r"real\.json, record 1 \(ILSVRC2012_val_00000002\.JPEG\)"):
        metric.update(np.zeros((1, 1000), np.float32), [0], ["ILSVRC2012_val_00000001.JPEG"])


def test_real_needs_val_file_names(tmp_path):
    labels_file = real_json(tmp_path / "real.json", [[1], [2]])
    metric = METRICS.get("real-topk")(real_labels=str(labels_file))
    with pytest.raises(InputError, match="n01440764/img_0.JPEG"):
        metric.update(np.zeros((1, 1000), np.float32), [0], ["n01440764/img_0.JPEG"])
    with pytest.raises(InputError, match="ILSVRC2012_val_00000003.JPEG"):
        metric.update(np.zeros((1, 1000), np.float32), [0], ["ILSVRC2012_val_00000003.JPEG"])


# --- full folder sets: validate.py exactly as run on the published data, no class map ------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("letter", ["v2", "a"])
def test_full_layout_matches_plain_validate_py(tmp_path, letter):
    """timm's ImageFolder indexes the folders it finds in natural-sort order: with every class present that is
    the class index (V2) or the position in the subset that --valid-labels expects (A)."""
    if letter == "v2":
        folders, loader_class, valid_labels, options = [str(i) for i in range(1000)], ImageNetV2, None, {}
    else:
        folders = (TIMM_INFO / "imagenet_a_synsets.txt").read_text().split()
        loader_class, valid_labels, options = ImageNetA, TIMM_INFO / "imagenet_a_indices.txt", {"class_subset": "imagenet-a"}
    root = tmp_path / letter
    for f, folder in enumerate(folders):
        write_image(root / folder / "0.jpeg", seed=f, size=8)
    loader = loader_class(root)
    logits = tiny_logits(loader)
    assert_same_as_timm(evalkit_metric(loader, logits, **options), timm_validate(root, logits, "", valid_labels))
