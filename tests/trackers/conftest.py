"""One small suite (3 VQA questions; 30 WMT17 sentences scored by BLEU and chrF, with bootstrap intervals) run
once through ``evalkit run --log-to mlflow,tensorboard,wandb``; the tests read back what each tracker wrote
through that tracker's own reader. No network: MLflow's telemetry is off, W&B is offline, HOME is a temp folder."""
from __future__ import annotations

import contextlib
import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

QUICK = Path(__file__).resolve().parents[2] / "data" / "quickstart"


def tiny_suite(folder: Path, logging: dict[str, Any] | None = None) -> Path:
    suite = {
        "name": "trk",
        "runtime": {"device": "cpu", "progress": False, "ci": True, "n_resamples": 200},
        "evaluations": [
            {"name": "vqa3", "task": "vqa",
             "dataset": {"loader": "vqa", "questions_file": str(QUICK / "vqa/questions.json"),
                         "annotations_file": str(QUICK / "vqa/annotations.json"), "images_required": False},
             "models": [{"adapter": "predictions", "label": "normalised",
                         "path": str(QUICK / "vqa/results_normalised.json")}],
             "metrics": ["vqa"]},
            {"name": "wmt17", "task": "translation",
             "dataset": {"loader": "translation",
                         "reference_file": str(QUICK / "wmt17_en_de/newstest2017-ende-ref.de.xz")},
             "models": [{"adapter": "predictions", "label": "uedin",
                         "path": str(QUICK / "wmt17_en_de/newstest2017.uedin-nmt.4722.en-de.xz")}],
             "metrics": ["bleu", "chrf"], "runtime": {"limit": 30, "batch_size": 16}},
        ],
    }
    if logging is not None:
        suite["logging"] = logging
    path = folder / "trk.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


def offline_environment(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No tracker reaches the network, and none writes into the real home folder."""
    for key, value in {"HOME": home, "WANDB_MODE": "offline", "WANDB_SILENT": "true",
                       "WANDB_DATA_DIR": home / "wandb-data", "WANDB_CACHE_DIR": home / "wandb-cache",
                       "WANDB_CONFIG_DIR": home / "wandb-config", "MLFLOW_DISABLE_TELEMETRY": "true"}.items():
        monkeypatch.setenv(key, str(value))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    from evalkit.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="package")
def logged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The output folder of one run logged to all three trackers, and its records by evaluation."""
    missing = [p for p in ("mlflow", "tensorboard", "wandb") if importlib.util.find_spec(p) is None]
    if missing:
        pytest.skip(f"tracker packages not installed: {', '.join(missing)} (pip install 'evalkit[trackers]')")
    folder = tmp_path_factory.mktemp("trackers")
    with pytest.MonkeyPatch.context() as monkeypatch:
        offline_environment(monkeypatch, folder / "home")
        out = folder / "results"
        code, stdout, stderr = run_cli(["run", str(tiny_suite(folder)), "--output-dir", str(out),
                                        "--log-to", "mlflow,tensorboard,wandb", "--json"])
    assert code == 0, stderr
    assert len(json.loads(stdout)) == 2  # --json: stdout is the records alone, the trackers' lines go to stderr
    return {"out": out, "records": records_in(out), "stderr": stderr, "home": folder / "home"}


def records_in(out: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    """The records written in ``out``, by evaluation name, with their files."""
    found = {}
    for path in sorted(out.glob("*.json")):
        record = json.loads(path.read_text())
        found[record["suite"]["evaluation"]] = (path, record)
    return found
