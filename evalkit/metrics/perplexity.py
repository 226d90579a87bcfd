"""Language-model perplexity, two recipes that give different numbers for the same model:

- ``perplexity``: lm-evaluation-harness's ``wikitext`` task. Per document: the rolling log-likelihood, and
  the words (``re.split(r"\\s+")``) and UTF-8 bytes of the original document text. ``word_perplexity`` and
  ``byte_perplexity`` are ``exp(-Σ ll / Σ words|bytes)``, ``bits_per_byte`` is ``-Σ ll / Σ bytes / ln 2``
  (lm-eval's ``weighted_perplexity`` and ``bits_per_byte`` aggregations). Bootstrap units: documents.
- ``strided-perplexity``: the Transformers perplexity guide's strided sliding window. Per window: the mean
  NLL (``outputs.loss``) and the guide's weight; ``token_perplexity = exp(Σ loss·weight / Σ weight)``.
  Bootstrap units: windows.

Predictions are :class:`evalkit.lmtypes.DocumentScore` objects from a causal-LM adapter.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from evalkit.errors import InputError
from evalkit.lmtypes import count_bytes, count_words
from evalkit.metrics.base import Metric
from evalkit.metrics.state import Column, Shared
from evalkit.registry import METRICS


def _field(prediction: Any, name: str) -> Any:
    return prediction[name] if isinstance(prediction, dict) else getattr(prediction, name)


@METRICS.register("perplexity")
class Perplexity(Metric):
    name = "perplexity"
    state = {"loglikelihood": Column("float64"), "words": Column("int64"), "bytes": Column("int64"),
             "tokens": Column("int64"), "max_length": Shared()}
    keys = ("word_perplexity", "byte_perplexity", "bits_per_byte")
    main_key = "word_perplexity"
    higher_is_better = False
    reference = "lm-eval"

    def update(self, predictions: Any, targets: Any, ids: Sequence[Any] | None = None) -> None:
        predictions, targets = list(predictions), list(targets)
        if len(predictions) != len(targets):
            raise InputError(f"{len(predictions)} predictions for {len(targets)} documents")
        lls, words, nbytes, tokens = [], [], [], []
        for prediction, original in zip(predictions, targets):
            if not isinstance(original, str):
                raise InputError("perplexity needs each document's original text as its target")
            lls.append(float(_field(prediction, "loglikelihood")))
            tokens.append(int(_field(prediction, "num_tokens")))
            words.append(count_words(original))
            nbytes.append(count_bytes(original))
            max_length = int(_field(prediction, "max_length") or 0) or None
            self._state.set_shared("max_length", max_length)
        self.add(ids, loglikelihood=lls, words=words, bytes=nbytes, tokens=tokens)

    def score(self) -> dict[str, float]:
        lls = self.column("loglikelihood")
        if not len(lls):
            return {k: float("nan") for k in self.keys}
        total = sum(lls.tolist())  # lm-eval's weighted_mean: Python sums, in document order
        words = sum(self.column("words").tolist())
        nbytes = sum(self.column("bytes").tolist())
        return {"word_perplexity": math.exp(-total / words),
                "byte_perplexity": math.exp(-total / nbytes) if nbytes else float("nan"),
                "bits_per_byte": -total / nbytes / math.log(2) if nbytes else float("nan")}

    def extras(self) -> dict[str, Any]:
        tokens = self.column("tokens")
        return {"documents": self.num_samples(), "tokens": int(tokens.sum()) if len(tokens) else 0,
                "words": int(self.column("words").sum()) if len(tokens) else 0,
                "bytes": int(self.column("bytes").sum()) if len(tokens) else 0,
                "max_length": self._state.shared["max_length"],
                "recipe": "lm-eval loglikelihood_rolling: disjoint max_length windows, BOS (else EOS) prefix"}


@METRICS.register("strided-perplexity")
class StridedPerplexity(Metric):
    name = "strided-perplexity"
    state = {"mean_nll": Column("float64"), "weight": Column("int64"), "window": Shared()}
    keys = ("token_perplexity",)
    higher_is_better = False
    reference = "transformers"

    def update(self, predictions: Any, targets: Any, ids: Sequence[Any] | None = None) -> None:
        predictions = list(predictions)
        ids = [str(i) for i in ids] if ids is not None else [str(self.num_samples() + i) for i in range(len(predictions))]
        window_ids, means, weights = [], [], []
        for sample_id, prediction in zip(ids, predictions):
            strided = _field(prediction, "strided")
            if strided is None:
                raise InputError("strided-perplexity needs strided windows: set 'stride' on the model adapter "
                                 "(hf-causal-lm or torch-lm)", field="stride")
            self._state.set_shared("window", {"stride": int(_field(strided, "stride")),
                                              "max_length": int(_field(strided, "max_length"))})
            for begin, mean, weight in zip(_field(strided, "begins"), _field(strided, "mean_nll"),
                                           _field(strided, "weights")):
                window_ids.append(f"{sample_id}@{int(begin)}")
                means.append(float(mean))
                weights.append(int(weight))
        self.add(window_ids, mean_nll=np.asarray(means, np.float64), weight=np.asarray(weights, np.int64))

    def score(self) -> dict[str, float]:
        means, weights = self.column("mean_nll"), self.column("weight")
        total = float(weights.sum()) if len(weights) else 0.0
        if not total:
            return {"token_perplexity": float("nan")}
        # the guide accumulates ``loss * num_loss_tokens`` in a float32 tensor, window by window: so does this
        nll = np.float32(0.0)
        for mean, weight in zip(means.astype(np.float32), weights.astype(np.float32)):
            nll = np.float32(nll + np.float32(mean * weight))
        return {"token_perplexity": float(np.exp(np.float32(nll / np.float32(total))))}

    def per_sample(self) -> dict[str, Any]:
        """Nothing per document: the units are windows (kept in the state file), not the evaluation's documents."""
        return {}

    def extras(self) -> dict[str, Any]:
        return {"windows": self.num_samples(), "scored_tokens": int(self.column("weight").sum()) if
                self.num_samples() else 0, **(self._state.shared["window"] or {}),
                "recipe": "Transformers perplexity guide: corpus joined with \\n\\n, strided windows"}
