"""METEOR 1.5 as pycocoevalcap's ``Meteor`` computes it: the jar is the engine, the aggregation is exact.

pycocoevalcap runs ``java -jar -Xmx2G meteor-1.5.jar - - -stdio -l en -norm``, sends one ``SCORE ||| ref1 |||
... ||| hyp`` line per image (the PTB-tokenised captions; ``|||`` removed from the hypothesis and double spaces
made single) and gets back the image's *sufficient statistics* (23 numbers: test and reference lengths and
function words, content/function matches of the exact, stem, synonym and paraphrase stages, chunks and word
matches, those of the reference that scores best). It then sends ``EVAL ||| stats1 ||| stats2 ...`` and reads
each image's score and the corpus score. The corpus score is *not* the mean of the image scores: the jar adds
the statistics of all images (an image's chunks only when it is not a perfect match) and scores the sums once.

Here the jar computes each image's statistics (one jar process per Python process, kept running as
pycocoevalcap keeps it; answers cached per line);
the scores are computed from them in Python with the jar's own arithmetic (en defaults α=0.85, β=0.2, γ=0.6,
δ=0.75, stage weights 1.0 0.6 0.8 0.6): for the image scores and the corpus score pycocoevalcap reports, and for
any bootstrap resample (the statistics of a drawn image count once per draw), with no further Java launch.

State: each image's candidate and references, as ``cider`` and ``rouge`` keep them (tokens depend on the
tokeniser's whole input, see :mod:`evalkit.metrics.ptb_tokenizer`); the statistics are derived once per state.
Java is required (``MissingResourceError`` without it); SPICE is not offered (it downloads CoreNLP models).
"""
from __future__ import annotations

import atexit
import math
import subprocess
import threading
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.errors import MissingResourceError
from evalkit.metrics.ptb_tokenizer import java_available, pycocoevalcap_jar
from evalkit.metrics.captioning import CaptionMetric
from evalkit.registry import METRICS

#: METEOR 1.5's parameters for ``-l en`` (task "default"): alpha, beta, gamma, delta and the stage weights
ALPHA, BETA, GAMMA, DELTA = 0.85, 0.2, 0.6, 0.75
WEIGHTS = (1.0, 0.6, 0.8, 0.6)
MODULES = 4
N_STATS = 4 + 4 * MODULES + 3
#: SCORE line -> its statistics, for this process (the jar's answer to a line never changes)
_STATS_CACHE: dict[str, tuple[float, ...]] = {}


def meteor_jar() -> Path:
    """pycocoevalcap's ``meteor-1.5.jar`` (with its ``data/paraphrase-en.gz``)."""
    return pycocoevalcap_jar("pycocoevalcap.meteor.meteor", "METEOR_JAR", "metric 'meteor' (METEOR 1.5 jar)")


def score_line(candidate: str, references: list[str]) -> str:
    """The ``SCORE`` line pycocoevalcap's ``Meteor._stat`` sends for one image."""
    hypothesis = candidate.replace("|||", "").replace("  ", " ")
    line = " ||| ".join(("SCORE", " ||| ".join(references), hypothesis))
    return line.replace("\n", " ").replace("\r", " ")


#: the jar, started once per process and kept (as pycocoevalcap keeps it): loading its paraphrase table takes seconds
_PROCESS: subprocess.Popen | None = None
_LOCK = threading.Lock()
#: SCORE lines written before their answers are read: their answers (about 100 bytes each) fit in a pipe's buffer,
#: so the jar never blocks on its output while we write
_CHUNK = 256


def _jar_process() -> subprocess.Popen:
    global _PROCESS
    if _PROCESS is None or _PROCESS.poll() is not None:
        if not java_available():
            raise MissingResourceError("metric 'meteor' needs a java executable on PATH (METEOR 1.5 is a jar)")
        jar = meteor_jar()
        _PROCESS = subprocess.Popen(
            ["java", "-jar", "-Xmx2G", str(jar), "-", "-", "-stdio", "-l", "en", "-norm"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=str(jar.parent),
        )
        if not getattr(_jar_process, "registered", False):
            atexit.register(_close_jar)
            _jar_process.registered = True  # type: ignore[attr-defined]
    return _PROCESS


def _close_jar() -> None:
    global _PROCESS
    if _PROCESS is not None:
        try:
            _PROCESS.stdin.close()  # type: ignore[union-attr]
            _PROCESS.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            _PROCESS.kill()
        _PROCESS = None


def jar_statistics(lines: list[str]) -> np.ndarray:
    """The jar's statistics for each ``SCORE`` line, shape (n, 23); lines not cached go to the process's jar."""
    todo = list(dict.fromkeys(line for line in lines if line not in _STATS_CACHE))
    with _LOCK:
        for start in range(0, len(todo), _CHUNK):
            chunk = todo[start : start + _CHUNK]
            proc = _jar_process()
            try:
                proc.stdin.write(("\n".join(chunk) + "\n").encode("utf-8"))  # type: ignore[union-attr]
                proc.stdin.flush()  # type: ignore[union-attr]
                answers = [proc.stdout.readline().decode("utf-8") for _ in chunk]  # type: ignore[union-attr]
            except OSError as err:
                _close_jar()
                raise MissingResourceError(f"METEOR jar failed: {err}") from None
            for line, stats in zip(chunk, answers):
                values = tuple(float(v) for v in stats.split())
                if len(values) != N_STATS:
                    _close_jar()
                    raise MissingResourceError(f"METEOR jar answered {stats.strip()!r} to a SCORE line")
                _STATS_CACHE[line] = values
    return np.array([_STATS_CACHE[line] for line in lines], dtype=np.float64).reshape(len(lines), N_STATS)


def _parts(stats: np.ndarray) -> dict[str, np.ndarray]:
    stages = stats[:, 4 : 4 + 4 * MODULES].reshape(-1, MODULES, 4)  # per stage: test/ref content, test/ref function
    return {"tl": stats[:, 0], "rl": stats[:, 1], "tf": stats[:, 2], "rf": stats[:, 3], "stages": stages,
            "chunks": stats[:, -3], "twm": stats[:, -2], "rwm": stats[:, -1],
            # totals as the jar's parser adds them: stage by stage, content then function
            "ttm": _stage_sum(stages, 0, 2), "rtm": _stage_sum(stages, 1, 3)}


def _stage_sum(stages: np.ndarray, first: int, second: int) -> np.ndarray:
    total = np.zeros(len(stages))
    for i in range(MODULES):
        total = total + stages[:, i, first]
        total = total + stages[:, i, second]
    return total


def scores_from_statistics(stats: np.ndarray) -> np.ndarray:
    """METEOR of each row of statistics, with the jar's operations in the jar's order (IEEE doubles)."""
    p = _parts(np.atleast_2d(np.asarray(stats, dtype=np.float64)))
    with np.errstate(all="ignore"):  # Java's division: x/0 is ±inf, 0/0 is NaN
        twl = (DELTA * (p["tl"] - p["tf"])) + ((1.0 - DELTA) * p["tf"])
        rwl = (DELTA * (p["rl"] - p["rf"])) + ((1.0 - DELTA) * p["rf"])
        twmatch, rwmatch = np.zeros(len(twl)), np.zeros(len(twl))
        for i in range(MODULES):
            twmatch = twmatch + p["stages"][:, i, 0] * WEIGHTS[i] * DELTA
        for i in range(MODULES):
            rwmatch = rwmatch + p["stages"][:, i, 1] * WEIGHTS[i] * DELTA
        for i in range(MODULES):
            twmatch = twmatch + p["stages"][:, i, 2] * WEIGHTS[i] * (1.0 - DELTA)
        for i in range(MODULES):
            rwmatch = rwmatch + p["stages"][:, i, 3] * WEIGHTS[i] * (1.0 - DELTA)
        precision = twmatch / twl
        recall = rwmatch / rwl
        fmean = 1.0 / (((1.0 - ALPHA) / precision) + (ALPHA / recall))
        perfect = (p["ttm"] == p["tl"]) & (p["rtm"] == p["rl"]) & (p["chunks"] == 1)
        frag = np.where(perfect, 0.0, p["chunks"] / ((p["twm"] + p["rwm"]) / 2))
        # math.pow (C's pow, correctly rounded here) as Java's Math.pow; numpy's power can be 1 ulp off
        penalty = GAMMA * np.array([math.pow(f, BETA) if math.isfinite(f) else float(np.power(f, BETA)) for f in frag],
                                   dtype=np.float64)
        score = fmean * (1.0 - penalty)
    return np.where(np.isnan(score), 0.0, np.maximum(score, 0.0))


def aggregate_statistics(stats: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The jar's ``addStats`` over images (an image drawn k times counts k times): every number is summed,
    except that a perfectly matched image (all words matched, one chunk) adds no chunks. Shape (1, 23)."""
    stats = np.atleast_2d(np.asarray(stats, dtype=np.float64))
    weights = np.ones(len(stats)) if weights is None else np.asarray(weights, dtype=np.float64)
    p = _parts(stats)
    perfect = (p["ttm"] == p["tl"]) & (p["rtm"] == p["rl"]) & (p["chunks"] == 1)
    counted = stats.copy()
    counted[:, -3] = np.where(perfect, 0.0, counted[:, -3])
    return (counted * weights[:, None]).sum(axis=0, keepdims=True)  # integer-valued doubles: exact in any order


@METRICS.register("meteor")
class Meteor(CaptionMetric):
    """``METEOR`` (0..1) of captions: pycocoevalcap's ``Meteor`` (METEOR 1.5 jar, ``-l en -norm``); needs Java.

    Option ``tokenizer``: ``python`` (default), ``java`` or ``none``, as for ``cider``.
    """

    name = "meteor"
    keys = ("METEOR",)

    def derive(self, cands: list[str], refs: list[list[str]]) -> np.ndarray:
        return jar_statistics([score_line(c, r) for c, r in zip(cands, refs)])

    def statistics(self) -> np.ndarray:
        """Each image's METEOR statistics (the jar's answer to its SCORE line), shape (n, 23), state order."""
        return self.derived() if self.num_samples() else np.zeros((0, N_STATS))

    def image_scores(self) -> np.ndarray:
        """Per-image METEOR in state order (the numbers pycocoevalcap's jar prints for its EVAL line)."""
        return scores_from_statistics(self.statistics()) if self.num_samples() else np.zeros(0)

    def score(self) -> dict[str, float]:
        return self.aggregate(None)

    def aggregate(self, indices: np.ndarray | None = None) -> dict[str, float]:
        if not self.num_samples():
            return {"METEOR": float("nan")}
        weights = None if indices is None else np.bincount(np.asarray(indices, dtype=np.int64),
                                                           minlength=self.num_samples())
        return {"METEOR": float(scores_from_statistics(aggregate_statistics(self.statistics(), weights))[0])}

    def per_sample(self) -> dict[str, Any]:
        if not self.num_samples():
            return {}
        return {"sample_id": self.sample_ids(), "caption": list(self.column("candidate")),
                "METEOR": self.image_scores()}
