"""Suite files: the YAML schema and its validation, done before anything runs."""
from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from evalkit.errors import InputError, SuiteError
from evalkit.models.base import check_factory_spec, display_label
from evalkit.trackers.config import LoggingConfig, parse_logging

PATH_KEY = re.compile(r"^(root|path|checkpoint)$|_(file|dir|path|files)$")
NAME_OK = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")  # \Z: "$" would let a trailing newline through


@dataclass(frozen=True)
class Component:
    """A registry name with its options (a dataset loader, a model adapter or a metric)."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Runtime:
    device: str = "auto"
    precision: str = "fp32"
    #: samples per batch, or "auto": the largest (up to 256) whose forward pass fits; a batch that runs out of
    #: memory is split and retried either way
    batch_size: int | str = 32
    workers: int = 0
    limit: int | None = None
    channels_last: bool = False
    compile: bool = False
    warmup_batches: int = 1
    pin_memory: bool | None = None
    #: batches each DataLoader worker prepares ahead (torch's default: 2)
    prefetch_factor: int | None = None
    #: keep DataLoader workers for the next model when its batches and preprocessing are the same
    persistent_workers: bool = False
    ci: bool = False
    n_resamples: int = 1000
    seed: int = 12345
    progress: bool = True


RUNTIME_TYPES: dict[str, tuple[type, ...]] = {
    "device": (str,), "precision": (str,), "batch_size": (int, str), "workers": (int,), "limit": (int, type(None)),
    "channels_last": (bool,), "compile": (bool,), "warmup_batches": (int,), "pin_memory": (bool, type(None)),
    "prefetch_factor": (int, type(None)), "persistent_workers": (bool,),
    "ci": (bool,), "n_resamples": (int,), "seed": (int,), "progress": (bool,),
}
RUNTIME_CHOICES = {"precision": ("fp32", "fp16", "bf16")}
#: the text values an int runtime option may take instead of a number
RUNTIME_WORDS = {"batch_size": ("auto",)}


@dataclass(frozen=True)
class Evaluation:
    """One task on one dataset for one or more models."""

    name: str
    task: str
    dataset: Component
    models: tuple[Component, ...]
    metrics: tuple[Component, ...]
    runtime: Runtime
    spec: dict[str, Any]


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path | None
    sha256: str
    evaluations: tuple[Evaluation, ...]
    #: the ``--set`` overrides applied before validation (part of ``sha256``)
    overrides: tuple[str, ...] = ()
    #: the ``logging:`` block: experiment trackers each record is logged to (``--log-to`` chooses others)
    logging: LoggingConfig | None = None


class _Checker:
    """Builds errors that name the file and the key path."""

    def __init__(self, file: Path | str):
        self.file = file

    def fail(self, keypath: str, message: str) -> SuiteError:
        return SuiteError(message, file=self.file, field=keypath or "<top level>")

    def mapping(self, value: Any, keypath: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(keypath, f"expected a mapping, got {type(value).__name__}")
        return value

    def only(self, value: dict[str, Any], keypath: str, allowed: set[str]) -> None:
        extra = sorted(set(value) - allowed, key=str)  # YAML keys may be numbers, null or bools
        if extra:
            raise self.fail(f"{keypath}.{extra[0]}".lstrip("."),
                            f"unknown key (expected one of: {', '.join(sorted(allowed))})")


#: a suite is a short YAML file; larger ones are refused before parsing (a 50 MB suite took 47 s to fail)
MAX_SUITE_BYTES = 1 << 20
#: values a suite may expand to through YAML aliases (a 716-byte alias bomb otherwise expands without end)
MAX_SUITE_VALUES = 100_000


def load_suite(path: str | Path, data_root: str | Path | None = None, overrides: Sequence[str] = ()) -> Suite:
    """Read and validate a suite file; relative paths become absolute (see ``resolve paths``).

    ``overrides`` (``KEY.PATH=YAML value``, as ``--set`` gives them) change the suite before it is
    validated, exactly as if the file said so; the suite's hash is then the hash of the suite as run.
    """
    path = Path(path)
    if not path.is_file():
        raise SuiteError("suite file not found", file=path)
    size = path.stat().st_size
    if size > MAX_SUITE_BYTES:
        raise SuiteError(f"a suite file is at most {MAX_SUITE_BYTES:,} bytes; this one has {size:,}", file=path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise SuiteError(f"not UTF-8 text (byte {err.start}): is this a suite file?", file=path) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SuiteError(f"not valid YAML: {err}", file=path) from None
    _check_expansion(raw, path)
    if overrides:
        raw = apply_overrides(raw, overrides, path)
    suite = parse_suite(raw, file=path, text=None if overrides else text, data_root=data_root)
    return dataclasses.replace(suite, overrides=tuple(overrides))


_KEY_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_KEY_PATH = re.compile(r"[^.\[\]=]+(\[\d+\])*(\.[^.\[\]=]+(\[\d+\])*)*")


def apply_overrides(raw: Any, overrides: Sequence[str], file: Path | str) -> Any:
    """A copy of ``raw`` with each ``a.b[0].c=value`` applied (the value read as YAML: 32, true, [1, 2], text)."""
    import copy

    check = _Checker(file)
    raw = copy.deepcopy(raw)
    for override in overrides:
        keypath, sep, text = override.partition("=")
        parts = [(m.group(1), m.group(2)) for m in _KEY_PART.finditer(keypath)]
        if not sep or not _KEY_PATH.fullmatch(keypath):
            raise check.fail(keypath or "--set", f"--set takes KEY.PATH=VALUE (e.g. runtime.batch_size=32), "
                                                 f"got {override!r}")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise check.fail(keypath, f"--set value is not YAML: {err}") from None
        node, done = raw, []
        for (key, index), last in zip(parts, [False] * (len(parts) - 1) + [True]):
            where = ".".join(done).replace(".[", "[") or "<top level>"
            if index is not None:
                if not isinstance(node, list) or int(index) >= len(node):
                    raise check.fail(where, f"--set {keypath}: no item [{index}] here")
                step: Any = int(index)
            else:
                if not isinstance(node, dict):
                    raise check.fail(where, f"--set {keypath}: {where} is not a mapping")
                step = key
            if last:
                node[step] = value
            else:
                if isinstance(step, str) and step not in node:
                    node[step] = {}
                node = node[step]
            done.append(f"[{index}]" if index is not None else key)
    return raw


def _check_expansion(raw: Any, file: Path) -> None:
    """Refuse a suite whose aliases expand to too many values, or refer to themselves."""
    count = 0
    stack: list[tuple[Any, tuple[int, ...]]] = [(raw, ())]
    while stack:
        value, parents = stack.pop()
        count += 1
        if count > MAX_SUITE_VALUES:
            raise SuiteError(f"expands to more than {MAX_SUITE_VALUES:,} values through YAML aliases (&/*)",
                             file=file)
        if isinstance(value, (dict, list)):
            if id(value) in parents:
                raise SuiteError("a YAML alias refers to a value that contains it", file=file)
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, parents + (id(value),)) for child in children)


def parse_suite(raw: Any, file: Path | str = "<suite>", text: str | None = None,
                data_root: str | Path | None = None) -> Suite:
    """Validate a suite given as a Python mapping (``file`` names it in errors)."""
    from evalkit.registry import DATASETS, METRICS, MODELS, TASKS

    check = _Checker(file)
    top = check.mapping(raw, "")
    base = Path(file).resolve().parent if isinstance(file, Path) else Path.cwd()
    data_base = Path(data_root).expanduser().resolve() if data_root else base
    name = top.get("name") or (Path(file).stem if isinstance(file, Path) else "suite")
    if not isinstance(name, str) or not NAME_OK.match(name):
        raise check.fail("name", f"expected a name of letters, digits, '.', '_' or '-', got {name!r}")
    evaluation_keys = {"name", "task", "benchmark", "dataset", "models", "metrics", "runtime", "description"}
    if "evaluations" in top:
        check.only(top, "", {"name", "description", "runtime", "evaluations", "logging"})
        parts = top["evaluations"]
        if not isinstance(parts, list) or not parts:
            raise check.fail("evaluations", "expected a non-empty list of evaluations")
        items = [(f"evaluations[{i}]", check.mapping(p, f"evaluations[{i}]")) for i, p in enumerate(parts)]
    else:
        check.only(top, "", evaluation_keys | {"logging"})
        items = [("", {**{k: v for k, v in top.items() if k != "logging"}, "name": top.get("name", name)})]
    shared_runtime = check.mapping(top.get("runtime", {}) or {}, "runtime") if "evaluations" in top else {}
    evaluations, seen = [], set()
    for keypath, part in items:
        check.only(part, keypath, evaluation_keys)
        k = (keypath + ".").lstrip(".")
        ev_name = part.get("name") or part.get("task")
        if not isinstance(ev_name, str) or not NAME_OK.match(ev_name):
            raise check.fail(f"{k}name", f"expected an evaluation name, got {ev_name!r}")
        if ev_name in seen:
            raise check.fail(f"{k}name", f"duplicate evaluation name {ev_name!r}")
        seen.add(ev_name)
        task_name = _registered_name(check, part.get("task"), f"{k}task", TASKS)
        benchmark = part.get("benchmark")
        if benchmark is not None and not (isinstance(benchmark, str) and NAME_OK.match(benchmark)):
            raise check.fail(f"{k}benchmark", f"expected a benchmark name such as coco or vqa, got {benchmark!r}")
        task = TASKS.get(task_name)
        dataset = _component(check, part.get("dataset"), f"{k}dataset", "loader", DATASETS,
                             default=task.default_loader, base=data_base)
        models_raw = part.get("models")
        if not isinstance(models_raw, list) or not models_raw:
            raise check.fail(f"{k}models", "expected a non-empty list of models ({adapter: NAME, ...options})")
        _check_serves(check, DATASETS.get(dataset.name), task_name, f"{k}dataset.loader", "loader")
        models = tuple(_component(check, m, f"{k}models[{i}]", "adapter", MODELS, base=base)
                       for i, m in enumerate(models_raw))
        for i, model in enumerate(models):
            _check_serves(check, MODELS.get(model.name), task_name, f"{k}models[{i}].adapter", "model adapter")
            if "factory" in model.options:
                try:
                    check_factory_spec(model.options["factory"])
                except InputError as err:
                    raise check.fail(f"{k}models[{i}].factory", str(err).split(": ", 1)[-1]) from None
        labels = [display_label(m.name, m.options) for m in models]
        if len(set(labels)) != len(labels):
            raise check.fail(f"{k}models", "two models share a display name; give them distinct 'label's")
        metrics_raw = part.get("metrics", list(task.default_metrics))
        if not isinstance(metrics_raw, list) or not metrics_raw:
            raise check.fail(f"{k}metrics", "expected a non-empty list of metric names or {name: ..., ...}")
        metrics = tuple(_component(check, m, f"{k}metrics[{i}]", "name", METRICS, base=base)
                        for i, m in enumerate(metrics_raw))
        _check_metrics(check, metrics, f"{k}metrics")
        runtime = _runtime(check, {**shared_runtime, **check.mapping(part.get("runtime", {}) or {}, f"{k}runtime")},
                           f"{k}runtime")
        spec = {key: part[key] for key in part}
        evaluations.append(Evaluation(ev_name, task_name, dataset, models, metrics, runtime, spec))
    digest = hashlib.sha256((text if text is not None else yaml.safe_dump(raw, sort_keys=True)).encode()).hexdigest()
    logging = parse_logging(top["logging"], check.fail) if "logging" in top else None
    return Suite(name, Path(file).resolve() if isinstance(file, Path) else None, digest, tuple(evaluations),
                 logging=logging)


def _check_serves(check: _Checker, cls: Any, task: str, keypath: str, kind: str) -> None:
    """A loader or adapter that declares its tasks must serve this one (undeclared: any task)."""
    served = getattr(cls, "tasks", None)
    if served is None and isinstance(getattr(cls, "task", None), str):
        served = (cls.task,)
    if served is not None and task not in served:
        raise check.fail(keypath, f"{kind} {cls.name!r} serves task {', '.join(served)}, not {task!r}")


def _check_metrics(check: _Checker, metrics: tuple[Component, ...], keypath: str) -> None:
    """Every metric's options are known, and no two metrics write the same record key."""
    from evalkit.registry import METRICS

    owner: dict[str, str] = {}
    for i, metric in enumerate(metrics):
        cls = METRICS.get(metric.name)
        try:
            cls.check_options(metric.options)
        except InputError as err:
            raise check.fail(f"{keypath}[{i}].{err.field}", str(err).split(": ", 1)[-1]) from None
        for key in getattr(cls, "keys", ()):
            name = cls.record_key(key)
            if name in owner:
                raise check.fail(f"{keypath}[{i}]", f"metrics {owner[name]!r} and {metric.name!r} both write "
                                                    f"{name!r}; list each metric once")
            owner[name] = metric.name


def _registered_name(check: _Checker, name: Any, keypath: str, registry: Any) -> str:
    """``name`` if ``registry`` knows it (importing its module on demand); else an error at ``keypath``
    listing the names, or with the registry's "did you mean"."""
    if not isinstance(name, str):
        raise check.fail(keypath, f"expected a {registry.kind} name (one of: {', '.join(registry.names())})")
    if name not in registry:
        try:
            registry.get(name)
        except KeyError as err:
            raise check.fail(keypath, str(err)) from None
    return name


def _component(check: _Checker, raw: Any, keypath: str, name_key: str, registry: Any, base: Path,
               default: str | None = None) -> Component:
    if isinstance(raw, str):
        raw = {name_key: raw}
    if raw is None and default is not None:
        raw = {}
    options = dict(check.mapping(raw, keypath))
    for key in options:
        if not isinstance(key, str):  # YAML reads `0:` or `null:` as a number or None
            raise check.fail(f"{keypath}.{key}", "option names must be strings")
    name = _registered_name(check, options.pop(name_key, default), f"{keypath}.{name_key}", registry)
    if registry.kind in ("model adapter", "dataset"):  # built as cls(**options): a missing argument is a TypeError
        missing = _missing_arguments(registry.get(name), options)
        if missing:
            raise check.fail(f"{keypath}.{missing[0]}", f"{registry.kind} {name!r} needs the option {missing[0]!r}")
    for key, value in options.items():
        if PATH_KEY.search(key):
            options[key] = _resolve(value, base)
    return Component(name, options)


def _missing_arguments(cls: Any, options: dict[str, Any]) -> list[str]:
    """The required keyword arguments of ``cls(**options)`` that ``options`` lacks."""
    import inspect

    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in parameters if p.default is inspect.Parameter.empty and p.name not in options
            and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]


def _resolve(value: Any, base: Path) -> Any:
    if isinstance(value, list):
        return [_resolve(v, base) for v in value]
    if isinstance(value, str) and value:
        p = Path(value).expanduser()
        return str(p if p.is_absolute() else (base / p))
    return value


def runtime_from(raw: Any, file: Path | str, keypath: str = "runtime") -> Runtime:
    """A runtime read back from a file evalkit wrote (a cache's run.json, a part file), checked as a suite's."""
    check = _Checker(file)
    return _runtime(check, check.mapping(raw, keypath), keypath)


def with_runtime(suite: Suite, **options: Any) -> Suite:
    """``suite`` with ``options`` (batch_size, device, limit...) set in every evaluation's runtime, validated as a
    suite's ``runtime`` is (the command line's --batch-size and Python's keyword arguments)."""
    if not options:
        return suite
    check = _Checker(suite.path or suite.name)
    evaluations = tuple(dataclasses.replace(e, runtime=_runtime(check, {**dataclasses.asdict(e.runtime), **options},
                                                                "runtime")) for e in suite.evaluations)
    return dataclasses.replace(suite, evaluations=evaluations)


def _runtime(check: _Checker, raw: dict[str, Any], keypath: str) -> Runtime:
    check.only(raw, keypath, set(RUNTIME_TYPES))
    for key, value in raw.items():
        types = RUNTIME_TYPES[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise check.fail(f"{keypath}.{key}", f"expected {expected}, got {value!r}")
        if isinstance(value, str) and key in RUNTIME_WORDS:
            if value not in RUNTIME_WORDS[key]:
                raise check.fail(f"{keypath}.{key}", f"expected int or {' or '.join(RUNTIME_WORDS[key])}, got {value!r}")
            continue
        if key in RUNTIME_CHOICES and value not in RUNTIME_CHOICES[key]:
            raise check.fail(f"{keypath}.{key}", f"expected one of {', '.join(RUNTIME_CHOICES[key])}, got {value!r}")
        if key in ("batch_size", "n_resamples") and value < 1 or key in ("workers", "warmup_batches") and value < 0:
            raise check.fail(f"{keypath}.{key}", f"out of range: {value!r}")
        if key in ("limit", "prefetch_factor") and value is not None and value < 1:
            raise check.fail(f"{keypath}.{key}", f"expected a positive number, got {value!r}")
    return Runtime(**raw)
