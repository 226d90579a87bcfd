"""What the caption metrics (CIDEr-D and BLEU, ROUGE-L, METEOR) share: their state, input checks and tokens.

State is each image's candidate and references as given. CoreNLP's tokens of a caption can depend on the
start of the next one (see :mod:`evalkit.metrics.ptb_tokenizer`), so, as pycocoevalcap does, the candidates are
tokenised as one input in state order and the references as another, once per state version, and what a metric
derives from the tokens is cached with them (the Java tokenizer then runs once, not once per batch).
"""
from __future__ import annotations

from itertools import chain
from typing import Any, Mapping, Sequence

from evalkit.errors import InputError
from evalkit.metrics.base import Metric
from evalkit.metrics.ptb_tokenizer import tokenize
from evalkit.metrics.state import Column

TOKENIZERS = ("python", "java", "none")


def caption_text(prediction: Any, where: object = None) -> str:
    """A caption from a string or a ``{"caption": ...}`` record (strings first: typing's isinstance is slow)."""
    if isinstance(prediction, str):
        return prediction
    if isinstance(prediction, Mapping):
        prediction = prediction.get("caption")
    if not isinstance(prediction, str):
        raise InputError(f"a caption must be a string, got {type(prediction).__name__}", record=where, field="caption")
    return prediction


def _plain_captions(predictions: list[Any], targets: list[Any]) -> bool:
    """Whether every prediction is a string and every target a non-empty list (or tuple) of strings."""
    return (set(map(type, predictions)) <= {str} and set(map(type, targets)) <= {list, tuple} and all(targets)
            and set(map(type, chain.from_iterable(targets))) <= {str})


class CaptionMetric(Metric):
    """A caption metric: ``update(captions, reference lists, image ids)``; subclasses write :meth:`derive`."""

    state = {"candidate": Column(), "references": Column()}
    defaults = {"tokenizer": "python"}
    reference = "pycocoevalcap"

    def __init__(self, **options: Any):
        super().__init__(**options)
        if self.options["tokenizer"] not in TOKENIZERS:
            raise InputError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, got {self.options['tokenizer']!r}",
                             field="tokenizer")
        self.tokenizer = self.options["tokenizer"]

    def reset_caches(self) -> None:
        self._tokens: tuple[int, tuple[list[str], list[list[str]]]] | None = None
        self._derived: tuple[int, Any] | None = None

    def update(self, predictions: Any, targets: Any, ids: Sequence[Any] | None = None) -> None:
        predictions, targets = list(predictions), list(targets)
        if len(predictions) != len(targets):
            raise InputError(f"{len(predictions)} captions but {len(targets)} reference lists")
        ids = [str(i) for i in ids] if ids is not None else self.default_ids(len(predictions))
        if _plain_captions(predictions, targets):  # checked in bulk: strings, non-empty lists of strings
            self.add(ids, candidate=predictions, references=list(map(list, targets)))
            return
        cands, all_refs = [], []
        for sample_id, prediction, refs in zip(ids, predictions, targets):
            if isinstance(refs, str) or not refs:
                raise InputError("every image needs a non-empty list of reference captions", record=sample_id,
                                 field="references")
            cands.append(caption_text(prediction, sample_id))
            all_refs.append([caption_text(r, sample_id) for r in refs])
        self.add(ids, candidate=cands, references=all_refs)

    def tokenized(self) -> tuple[list[str], list[list[str]]]:
        """Tokenised candidates and references in state order (the candidates one input, the references another)."""
        version = self._state.version
        if self._tokens is None or self._tokens[0] != version:
            cands, refs = list(self.column("candidate")), self.column("references")
            flat = [r for rs in refs for r in rs]
            if self.tokenizer != "none":
                cands, flat = tokenize(cands, self.tokenizer), tokenize(flat, self.tokenizer)
            tok_refs, at = [], 0
            for rs in refs:
                tok_refs.append(flat[at : at + len(rs)])
                at += len(rs)
            self._tokens = (version, (list(cands), tok_refs))
        return self._tokens[1]

    def derived(self) -> Any:
        """What :meth:`derive` computes from the tokens of the whole state, once per state version."""
        version = self._state.version
        if self._derived is None or self._derived[0] != version:
            self._derived = (version, self.derive(*self.tokenized()))
        return self._derived[1]

    def derive(self, cands: list[str], refs: list[list[str]]) -> Any:
        """Per-image scores or tables from the tokenised captions of every image."""
        raise NotImplementedError

    def extras(self) -> dict[str, Any]:
        return {"tokenizer": self.tokenizer, "num_images": self.num_samples()}
