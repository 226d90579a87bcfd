"""Start-up: a command imports only what it runs (``evalkit score vqa`` never imports the analogy stack)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.registry import BUILTIN_METRICS, BUILTIN_SCORERS, METRICS, SCORERS

ROOT = Path(__file__).resolve().parents[1]
VQA = ROOT / "data" / "quickstart" / "vqa"


@pytest.mark.parametrize("registry, table", [(SCORERS, BUILTIN_SCORERS), (METRICS, BUILTIN_METRICS)],
                         ids=["scorers", "metrics"])
def test_builtin_tables_name_the_registering_module(registry, table):
    for name, module in table.items():
        assert registry.get(name).__module__ == module, name


def test_every_builtin_scorer_is_in_the_table():
    """A scorer missing from the table still works (by importing every scorer), but costs start-up."""
    builtin = {n for n in SCORERS.names() if SCORERS.get(n).__module__.startswith("evalkit.")}
    assert builtin == set(BUILTIN_SCORERS)


def _run(code: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}  # without conftest's test plugin
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def test_score_vqa_imports_only_the_vqa_scorer():
    code = (
        "import contextlib, io, json, sys\n"
        "from evalkit.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    rc = main(['score', 'vqa', '--annotations', {str(VQA / 'annotations.json')!r},\n"
        f"               '--questions', {str(VQA / 'questions.json')!r}, '--pred', {str(VQA / 'results_normalised.json')!r}])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'torch', 'scipy', 'pandas')\n"
        "                or m.startswith(('evalkit.scoring.', 'evalkit.vectors', 'evalkit.datasets', 'evalkit.models',\n"
        "                                 'evalkit.reports', 'evalkit.metrics.analogy', 'evalkit.metrics.coco')))\n"
        "print(json.dumps({'rc': rc, 'out': out.getvalue(), 'loaded': loaded}))\n"
    )
    result = _run(code)
    assert result["rc"] == 0 and "overall" in result["out"]
    assert result["loaded"] == ["evalkit.scoring.base", "evalkit.scoring.vqa"]


def test_score_help_still_lists_every_scorer():
    from evalkit.cli import build_parser

    full = build_parser(["score", "--help"]).format_help()
    assert "score" in full
    sub = build_parser(["score", "vqaa"])
    with pytest.raises(SystemExit):
        sub.parse_args(["score", "vqaa"])
    scorer_action = next(a for a in build_parser(["score"])._subparsers._group_actions)
    score_parser = scorer_action.choices["score"]
    names = set(next(iter(score_parser._subparsers._group_actions)).choices)
    assert names == set(SCORERS.names())
    only = build_parser(["score", "vqa", "--help"])
    action = next(iter(only._subparsers._group_actions)).choices["score"]
    assert set(next(iter(action._subparsers._group_actions)).choices) == {"vqa"}


def test_list_and_top_level_help_are_whole():
    from evalkit.cli import build_parser

    commands = set(next(iter(build_parser([])._subparsers._group_actions)).choices)
    assert {"run", "score", "list", "merge", "rescore"} <= commands
