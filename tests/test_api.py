"""evalkit.evaluate on live objects gives the same numbers as a direct computation."""
from __future__ import annotations

import json

import pytest
import torch
from timm.utils import accuracy
from torch.utils.data import DataLoader, TensorDataset

import evalkit


@pytest.fixture()
def live():
    torch.manual_seed(0)
    x, y = torch.randn(50, 3, 8, 8), torch.randint(0, 7, (50,))
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 7)).eval()
    with torch.no_grad():
        top1, top5 = accuracy(model(x), y, topk=(1, 5))
    return model, x, y, top1.item(), top5.item()


def test_dataset_and_dataloader_give_timm_numbers(live):
    model, x, y, top1, top5 = live
    for data in (TensorDataset(x, y), DataLoader(TensorDataset(x, y), batch_size=9)):
        result = evalkit.evaluate(model, data, metrics=["topk"], batch_size=8)
        assert result.scores["top1_accuracy"] == pytest.approx(top1, rel=1e-6)
        assert result.scores["top5_error"] == pytest.approx(100 - top5, rel=1e-6)
        assert result.record["dataset"]["num_evaluated"] == 50


def test_api_writes_the_same_record_as_the_cli(live, tmp_path):
    model, x, y, *_ = live
    result = evalkit.evaluate(model, TensorDataset(x, y), output_dir=tmp_path, name="my-study", ci=True, limit=20)
    saved = json.loads(result.path.read_text())
    assert saved["metrics"] == result.scores and saved["dataset"]["num_evaluated"] == 20
    low, high = saved["ci"]["top1_error"]
    assert low <= saved["metrics"]["top1_error"] <= high
    frame = result.to_pandas()
    assert set(frame["metric"]) >= {"top1_error", "top5_error"} and frame["ci_low"].notna().any()


def test_readme_python_example_runs():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    code = re.search(r"## Python API\s+```python\n(.*?)```", readme, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
    result = namespace["result"]
    assert result.record["dataset"]["num_evaluated"] == 64 and "top1_error" in result.record["ci"]


def test_run_suite_and_evaluate_task_from_python(tmp_path):
    """lm-eval's simple_evaluate, evalkit's way: a suite file or mapping, or a task with a model, from Python."""
    import pandas as pd

    from tests._dist_suite import QUICK, write_suite

    suite = write_suite(tmp_path, ["wmt17", "analogy"])
    results = evalkit.run_suite(suite, overrides=["evaluations[0].runtime.limit=12"], batch_size=4)
    assert [r.record["suite"]["evaluation"] for r in results] == ["wmt17", "analogy"]
    assert results[0].record["dataset"]["num_evaluated"] == 12 and results[0].record["timing"]["batch_size"] == 4
    frame = results.to_pandas()
    assert isinstance(frame, pd.DataFrame) and set(frame["evaluation"]) == {"wmt17", "analogy"}
    assert not (tmp_path / "results").exists()
    one = evalkit.evaluate_task(
        "translation", {"adapter": "predictions", "label": "uedin",
                        "path": str(QUICK / "wmt17_en_de/newstest2017.uedin-nmt.4722.en-de.xz")},
        dataset={"reference_file": str(QUICK / "wmt17_en_de/newstest2017-ende-ref.de.xz")}, limit=12, batch_size=4)
    assert one.scores["BLEU"] == results[0].scores["BLEU"]
    assert one.to_pandas().set_index("metric")["value"]["BLEU"] == one.scores["BLEU"]
