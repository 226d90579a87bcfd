"""Word-vector adapters for the analogy task: the 'model' is a vector file, the prediction a chosen word.

``predict`` runs the batched search (on the suite's device) for a batch of questions,
so the runner's batch loop times the search itself.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from evalkit.errors import MissingResourceError
from evalkit.models.base import ModelAdapter
from evalkit.registry import MODELS
from evalkit.types import Batch
from evalkit.vectors import WordVectors, load_vectors


class VectorsAdapter(ModelAdapter):
    """Word vectors read from ``path`` (``format`` as in :data:`evalkit.vectors.FORMATS`)."""

    tasks = ("analogy",)
    #: the file format read when the suite does not give ``format`` (None: guess from the name)
    default_format: ClassVar[str | None] = None

    def __init__(self, path: str | None = None, format: str | None = None, restrict_vocab: int | None = 300000,
                 case_insensitive: bool = True, method: str = "3cosadd", limit: int | None = None,
                 search: str = "auto", **options: Any):
        super().__init__(path=path, format=format or self.default_format, restrict_vocab=restrict_vocab,
                         case_insensitive=case_insensitive, method=method, limit=limit, search=search, **options)
        self.solver: Any = None
        self.vectors: WordVectors | None = None

    def read(self) -> WordVectors:
        path = self.options.get("path")
        if not path:
            raise MissingResourceError(f"the {self.name} adapter needs 'path' (a vectors file)")
        return load_vectors(Path(path).expanduser(), self.options["format"], self.options["limit"],
                            allow_pickle=bool(self.options.get("allow_pickle", False)))

    def load(self, device: str, precision: str = "fp32", channels_last: bool = False, compile: bool = False) -> None:
        from evalkit.vectors.engine import AnalogySolver

        super().load(device, "fp32")
        self.vectors = self.read()
        self.solver = AnalogySolver(self.vectors, self.options["restrict_vocab"], self.options["case_insensitive"],
                                    self.options["method"], device, search=self.options["search"])

    def predict(self, batch: Batch) -> list[Any]:
        if self.solver is None:
            raise RuntimeError(f"{type(self).__name__}.load() must run before predict()")
        return self.solver.answer(batch.inputs)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        if self.vectors is not None:
            info.update(vocabulary=len(self.vectors), dimensions=self.vectors.dim,
                        searched=int(self.solver.matrix.shape[0]), exact_rescored=self.solver.exact_count)
        return info


@MODELS.register("word2vec")
class Word2VecVectors(VectorsAdapter):
    """word2vec C format: binary for ``.bin`` files (GoogleNews-vectors-negative300.bin), else text."""

    name = "word2vec"

    def read(self) -> WordVectors:
        if self.options["format"] is None:
            path = str(self.options.get("path") or "")
            self.options["format"] = "word2vec-binary" if path.endswith((".bin", ".bin.gz")) else "word2vec"
        return super().read()


def _one_format_adapter(class_name: str, file_format: str, doc: str) -> type[VectorsAdapter]:
    """The adapter named after the one file format it reads."""
    adapter = type(class_name, (VectorsAdapter,),
                   {"__doc__": doc, "__module__": __name__, "name": file_format, "default_format": file_format})
    return MODELS.register(file_format)(adapter)


GloveVectors = _one_format_adapter("GloveVectors", "glove", "GloVe text vectors: ``word v1 v2 …`` lines, no header.")
FastTextVectors = _one_format_adapter("FastTextVectors", "fasttext",
                                      "fastText ``.vec`` text vectors (a word2vec text header).")
KeyedVectorsFile = _one_format_adapter("KeyedVectorsFile", "keyedvectors", "A gensim ``KeyedVectors.save`` file. "
                                       "It is a pickle: loading needs ``allow_pickle: true``.")


@MODELS.register("hf-embeddings")
class HFInputEmbeddings(VectorsAdapter):
    """The input embedding matrix of a local Hugging Face model, its tokens as the vocabulary (in id order).

    ``path`` is a model folder (or a hub id already in the local cache). Subword tokens stay
    as the tokenizer writes them, so only whole-word tokens can answer.
    """

    name = "hf-embeddings"

    def read(self) -> WordVectors:
        import numpy as np
        from transformers import AutoModel, AutoTokenizer

        path = self.options.get("path")
        if not path:
            raise MissingResourceError("the hf-embeddings adapter needs 'path' (a local model folder)")
        try:
            trust = bool(self.options.get("trust_remote_code", False))
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=trust)
            model = AutoModel.from_pretrained(path, local_files_only=True, trust_remote_code=trust)
        except OSError as err:
            raise MissingResourceError(f"cannot load a Hugging Face model from {path!r}: {err}") from err
        weights = model.get_input_embeddings().weight.detach().float().cpu().numpy()
        by_id = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
        tokens = [token for token, index in by_id if index < len(weights)]
        rows = np.array([index for _, index in by_id if index < len(weights)], dtype=np.int64)
        limit = self.options["limit"]
        if limit is not None:
            tokens, rows = tokens[:limit], rows[:limit]
        return WordVectors(tokens, weights[rows], str(path))
