"""The README's two commands, as a user and CI run them, and the quickstart's numbers."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.registry import METRICS

REPO = Path(__file__).resolve().parents[1]


def readme_quickstart_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", text, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def test_readme_quick_start_is_exactly_two_make_commands_and_ci_runs_the_test_one():
    assert readme_quickstart_commands() == ["make demo", "make test"]
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)


@pytest.mark.parametrize("target, runs", [("demo", "evalkit run suites/quickstart.yaml"), ("test", "-m pytest -q")])
def test_make_targets_install_everything_then_run(target, runs, tmp_path):
    """Dry run in a fresh venv location: the target creates the venv, installs torch pins and '.[dev]', then runs."""
    out = subprocess.run(["make", "-n", target, f"VENV={tmp_path / 'venv'}"], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    assert "-m venv" in out and "torch==" in out and "-e '.[dev]'" in out and runs in out
    assert out.index("-e '.[dev]'") < out.index(runs)


@pytest.fixture(scope="module")
def quickstart_records(tmp_path_factory) -> list[dict]:
    """What `make demo` runs once installed."""
    out_dir = tmp_path_factory.mktemp("results")
    proc = subprocess.run([sys.executable, "-m", "evalkit", "run", "suites/quickstart.yaml", "--json",
                           "--output-dir", str(out_dir), "--no-progress"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = json.loads(proc.stdout)
    assert len(list(out_dir.glob("*.json"))) == len(records)
    return records


def _sources_table(path: Path) -> dict[str, float]:
    """system → full-precision value from a SOURCES.md table (last column)."""
    rows = {}
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"-?\d+\.\d+", cells[-1].split()[0] if cells[-1] else ""):
            rows[cells[0]] = float(cells[-1].split()[0])
    return rows


def test_quickstart_bleu_equals_sacrebleu_full_precision_values(quickstart_records):
    expected = _sources_table(REPO / "data" / "quickstart" / "wmt17_en_de" / "SOURCES.md")
    bleu = {r["model"]["name"]: r["metrics"]["BLEU"] for r in quickstart_records if r["task"] == "translation"}
    assert len(bleu) >= 4
    for label, value in bleu.items():
        system = next(s for s in expected if s.startswith(label + "."))
        assert round(value, 6) == expected[system], label
    signature = next(r for r in quickstart_records if r["task"] == "translation")["details"]["bleu"]["signature"]
    assert "tok:13a" in signature and "smooth:exp" in signature


def test_quickstart_random_weights_are_said_plainly(quickstart_records):
    (imagenet,) = [r for r in quickstart_records if r["suite"]["evaluation"] == "imagefolder-timm"]
    assert imagenet["model"]["random_weights"] is True
    assert any("random" in n and "chance" in n for n in imagenet["notes"])
    assert imagenet["timing"]["throughput"] > 0


def test_quickstart_table_says_random_weights(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "evalkit", "run", "suites/quickstart.yaml", "--model",
                           "resnet18-random", "--limit", "4", "--output-dir", str(tmp_path), "--no-progress"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "(random weights)" in proc.stdout and "chance" in proc.stdout


def test_imagenet_suite_fails_fast_naming_the_path(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "evalkit", "run", "suites/imagenet.yaml", "--data-root",
                           str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert str(tmp_path / "imagenet" / "val") in proc.stderr


def test_quickstart_coco_parts_give_the_published_stats(quickstart_records):
    lines = (REPO / "data" / "quickstart" / "coco" / "SOURCES.md").read_text().splitlines()
    header = next(line for line in lines if line.startswith("| iou type"))
    keys = [c.strip() for c in header.strip("|").split("|")][1:]
    published = {}
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells and cells[0] in ("segm", "bbox"):
            published[cells[0]] = dict(zip(keys, map(float, cells[1:])))
    by_label = {r["model"]["name"]: r["metrics"] for r in quickstart_records if r["task"] == "coco"}
    for iou_type, label in (("segm", "cocoapi-fake-segm"), ("bbox", "cocoapi-fake-bbox")):
        for key, value in published[iou_type].items():
            record_key = METRICS.get(f"coco-{iou_type}").record_key(key)  # box stats: "coco-bbox.AP", ...
            assert round(by_label[label][record_key], 3) == value, (iou_type, key)


def test_quickstart_cider_equals_pycocoevalcap_value(quickstart_records):
    text = (REPO / "data" / "quickstart" / "captions" / "SOURCES.md").read_text()
    expected = float(re.search(r"CIDEr-D (\d+\.\d+)", text).group(1))
    (captions,) = [r for r in quickstart_records if r["task"] == "captions"]
    assert captions["metrics"]["CIDEr"] == pytest.approx(expected, rel=1e-9)


def test_quickstart_vqa_equals_the_sources_values(quickstart_records):
    text = (REPO / "data" / "quickstart" / "vqa" / "SOURCES.md").read_text()
    expected = {label: float(re.search(rf"^- results_{stem}\.json.*?overall (\d+\.\d+)", text, re.S | re.M).group(1))
                for label, stem in (("sources-example", "sources_example"), ("normalised", "normalised"))}
    got = {r["model"]["name"]: r["metrics"]["overall"] for r in quickstart_records if r["task"] == "vqa"}
    assert {k: round(v, 2) for k, v in got.items()} == expected


def test_quickstart_analogy_equals_gensims_values(quickstart_records):
    text = (REPO / "data" / "quickstart" / "analogy" / "SOURCES.md").read_text()
    expected = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\| (\S+) \| (0\.\d+) \|", text, re.M)}
    got = {Path(r["model"]["options"]["path"]).name: r["metrics"]["accuracy"]
           for r in quickstart_records if r["task"] == "analogy"}
    assert set(got) == set(expected)
    assert all(got[name] == pytest.approx(expected[name], rel=1e-12) for name in got)


def test_quickstart_digits_model_reproduces_its_error_exactly(quickstart_records):
    """A real trained model (scripts/train_digits.py) on real images: make demo reproduces its error exactly."""
    sources = (REPO / "data" / "quickstart" / "digits" / "SOURCES.md").read_text()
    expected = float(re.search(r"top-1 error ([0-9.]+) %", sources).group(1))
    weights_sha = re.search(r"weights: sha256 `([0-9a-f]{64})`", sources).group(1)
    record = next(r for r in quickstart_records if r["model"]["name"] == "test_resnet-digits")
    assert record["metrics"]["top1_error"] == expected and record["dataset"]["num_evaluated"] == 899
    assert record["model"]["random_weights"] is False and record["model"]["weights_sha256"] == weights_sha
    assert record["dataset"]["fingerprint"] in sources and "year" not in record["model"]


#: Relative tolerance per model adapter where the number depends on the CPU's kernels. SmolLM2's float32 forward
#: pass moves the quickstart perplexity by 1.4e-5 relative between torch's AVX2 and AVX-512 kernels
#: (ATEN_CPU_CAPABILITY=avx2 on an AVX-512 machine: 745.9241 against 745.9353; the committed 745.9348 came from
#: another CPU). Everything else is computed from files and moves by float rounding at most (BLAS summation
#: order: CIDEr by one ulp with OpenBLAS's Haswell kernels).
CPU_DEPENDENT_REL = {"hf-causal-lm": 1e-4}


def test_quickstart_numbers_equal_the_committed_measured_tables(quickstart_records):
    """results/measured/*.csv (scripts/update_results_tables.py) holds the numbers `make demo` prints, to float
    rounding; a float32 network's numbers to the tolerance its CPU-dependent kernels need (CPU_DEPENDENT_REL)."""
    import csv

    measured = {}
    for path in (REPO / "results" / "measured").glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as rows:
            measured.update({(r["evaluation"], r["model"], r["metric"]): r for r in csv.DictReader(rows)})
    compared = 0
    for record in quickstart_records:
        for name, keys in record["metric_keys"].items():
            for key in keys:
                row = measured.get((record["suite"]["evaluation"], record["model"]["name"], key))
                if row is not None:
                    rel = CPU_DEPENDENT_REL.get(record["model"]["adapter"], 1e-12)
                    assert float(row["value"]) == pytest.approx(record["metrics"][key], rel=rel), (row, record["metrics"][key])
                    assert row["signature"] == record["signatures"][name]["text"], row
                    compared += 1
    assert compared >= 50
