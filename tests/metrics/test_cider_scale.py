"""Issue 6 at benchmark scale: 5,000 images x 5 references, Python tokenizer + engine vs Java + pycocoevalcap."""
from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest

from tests.conftest import REPO


@pytest.mark.slow
@pytest.mark.java
@pytest.mark.skipif(shutil.which("java") is None, reason="java not installed")
def test_benchmark_scale_per_image_scores_identical():
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_cider import run_evalkit, run_reference
    from gen_cider import make_captions

    refs, cands = make_captions()
    ours = run_evalkit(refs, cands)
    theirs = np.asarray(run_reference(refs, cands))
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
