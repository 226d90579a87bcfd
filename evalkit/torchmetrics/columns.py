"""Adapters for evalkit metrics whose state is per-sample columns: top-k error, BLEU, CIDEr-D, VQA accuracy.

``update`` scores the batch with a scratch evalkit metric and appends its columns to tensor list states;
``compute`` appends every gathered column to a fresh evalkit metric and returns its scalars as float64
tensors (float64 so that they equal evalkit's floats exactly). Every rank must ``update`` at least once
before a synchronised ``compute``: a rank without data has no typed tensors to gather.
"""
from __future__ import annotations

from typing import Any, ClassVar, Mapping, Sequence

import numpy as np
import torch
from torchmetrics import Metric as TorchMetric

from evalkit.metrics import bleu, cider, topk, vqa
from evalkit.metrics.base import Metric
from evalkit.torchmetrics import _codec


class ColumnAdapter(TorchMetric):
    """A ``torchmetrics.Metric`` holding the declared columns of one evalkit metric.

    ``ids`` (optional, integers) name the samples: CIDEr-D sums its images in id order, so with ids the
    numbers equal evalkit's on the same ids; without, samples are ordered by content, which keeps them
    independent of which rank saw which sample.
    """

    is_differentiable = False
    full_state_update = False
    higher_is_better = True
    evalkit_class: ClassVar[type[Metric]]
    #: every column of the evalkit state, with its kind (see ``_codec.PARTS``)
    columns: ClassVar[Mapping[str, str]]

    def __init__(self, options: Mapping[str, Any] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.evalkit_options = dict(options or {})
        self.new_metric()  # a bad option fails here, not at the first batch
        self.add_state("sample_ids", default=[], dist_reduce_fx="cat")
        for name, kind in self.columns.items():
            for part in _codec.PARTS[kind]:
                self.add_state(f"{name}_{part}", default=[], dist_reduce_fx="cat")

    def new_metric(self) -> Metric:
        """An empty evalkit metric with this adapter's options."""
        return self.evalkit_class(**self.evalkit_options)

    def score_batch(self, metric: Metric, preds: Any, target: Any) -> None:
        """Add one batch to the scratch evalkit ``metric`` (its own ``update`` by default)."""
        metric.update(preds, target)

    def update(self, preds: Any, target: Any, ids: Sequence[int] | torch.Tensor | None = None) -> None:
        scratch = self.new_metric()
        self.score_batch(scratch, preds, target)
        n = scratch.num_samples()
        given = torch.as_tensor(ids, dtype=torch.int64).reshape(-1) if ids is not None else None
        if given is not None and (len(given) != n or bool((given < 0).any())):
            raise ValueError(f"ids must be {n} non-negative integers, one per sample")
        self.sample_ids.append((given if given is not None else torch.full((n,), -1, dtype=torch.int64))
                               .to(self.device))
        for name, kind in self.columns.items():
            values = scratch.column(name)
            if kind == "number":
                tensors: tuple[torch.Tensor, ...] = (_codec.number_tensor(values),)
            elif kind == "text":
                tensors = _codec.text_tensors(values)
            else:
                tensors = _codec.texts_tensors(values)
            for part, tensor in zip(_codec.PARTS[kind], tensors):
                getattr(self, f"{name}_{part}").append(tensor.to(self.device))

    def evalkit_metric(self) -> Metric:
        """The evalkit metric holding every sample seen (after the sync, every rank's), for extras and CIs."""
        metric = self.new_metric()
        ids = _codec.joined(self.sample_ids, np.int64)
        n = len(ids)
        if n == 0:
            return metric
        if (ids < 0).all():
            names = [""] * n
        elif (ids >= 0).all():
            names = [str(i) for i in ids.tolist()]
        else:
            raise ValueError("give ids for every batch or for none")
        spec = metric.state
        columns: dict[str, Any] = {}
        for name, kind in self.columns.items():
            parts = {p: getattr(self, f"{name}_{p}") for p in _codec.PARTS[kind]}
            if kind == "number":
                values = _codec.joined(parts["values"], spec[name].dtype)
                columns[name] = values.reshape(n, -1) if len(values) != n else values
                continue
            texts = _codec.decode_texts(_codec.joined(parts["bytes"], np.uint8), _codec.joined(parts["len"], np.int64))
            columns[name] = texts if kind == "text" else _codec.split_lists(texts, _codec.joined(parts["count"], np.int64))
        metric.add(names, **columns)
        return metric

    def compute(self) -> dict[str, torch.Tensor]:
        """evalkit's scalars (``aggregate()``), each a float64 tensor."""
        metric = self.evalkit_metric()
        return {k: torch.tensor(v, dtype=torch.float64) for k, v in metric.aggregate().items()}


class TopKError(ColumnAdapter):
    """Top-1/top-5 error and accuracy in percent, as timm's ``validate.py``.

    ``update(logits, target)``: ``logits`` (N, C) scores, ``target`` (N,) integer classes.
    """

    higher_is_better = False
    evalkit_class = topk.TopKError
    columns = {"label": "number", "top5": "number", "correct1": "number", "correct5": "number"}

    def score_batch(self, metric: Metric, preds: Any, target: Any) -> None:
        metric.update(preds.detach(), target.detach() if isinstance(target, torch.Tensor) else target)


class BLEU(ColumnAdapter):
    """sacreBLEU's corpus BLEU (0–100); ``sacrebleu_options`` are ``sacrebleu.metrics.BLEU``'s.

    ``update(hypotheses, references)``: a list of strings, and per hypothesis a list of its references
    (torchmetrics' ``SacreBLEUScore`` convention). State: sacrebleu's per-segment statistics.
    """

    evalkit_class = bleu.BLEUMetric
    columns = {"stats": "number", "nrefs": "number"}

    def __init__(self, sacrebleu_options: Mapping[str, Any] | None = None, **kwargs: Any):
        super().__init__(sacrebleu_options, **kwargs)


class CiderD(ColumnAdapter):
    """CIDEr-D and BLEU-1..4 as pycocoevalcap's ``Cider`` and ``Bleu`` on the evaluated set.

    ``update(captions, references, ids=None)``: a caption per image and a list of reference captions
    per image. Document frequencies come from the whole evaluated set, so the state is the captions
    themselves (their UTF-8 bytes), tokenised once in ``compute``. ``tokenizer``: as evalkit's ``cider``.
    """

    evalkit_class = cider.CiderD
    columns = {"candidate": "text", "references": "texts"}

    def __init__(self, tokenizer: str = "python", sigma: float = 6.0, **kwargs: Any):
        super().__init__({"tokenizer": tokenizer, "sigma": sigma}, **kwargs)


class VQAAccuracy(ColumnAdapter):
    """Official VQA accuracy (percent, ``overall``).

    ``update(answers, targets)``: an answer string per question, and per question either its list of
    (ten) human answer strings or its official annotation record (``answers``, ``question_type``,
    ``answer_type``: then ``evalkit_metric().compute()`` also has the per-type tables).
    State: each question's official accuracy, types and answer.
    """

    evalkit_class = vqa.VQAAccuracy
    columns = {"accuracy": "number", "question_type": "text", "answer_type": "text", "answer": "text"}

    def score_batch(self, metric: Metric, preds: Any, target: Any) -> None:
        records = [t if isinstance(t, Mapping) else
                   {"question_id": 0, "answers": [{"answer": a, "answer_id": j + 1} for j, a in enumerate(t)]}
                   for t in target]
        metric.update(list(preds), records, ids=[""] * len(records))
