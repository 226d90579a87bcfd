"""Python entry points for research code: ``evaluate`` (live objects), ``run_suite`` and ``evaluate_task``."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from evalkit.datasets.base import DatasetLoader
from evalkit.distributed import is_main_process
from evalkit.models.base import ModelAdapter
from evalkit.result import RunResult, SuiteResult
from evalkit.run_record import save_result
from evalkit.runner import evaluate_adapter
from evalkit.suite import Runtime


def _as_adapter(model: Any, preprocess: Any) -> ModelAdapter:
    if isinstance(model, ModelAdapter):
        return model
    from evalkit.models.torch_module import TorchModuleFactoryAdapter

    adapter = TorchModuleFactoryAdapter(module=model, preprocess=preprocess if preprocess is not None else False)
    return adapter


def _as_loader(dataset: Any) -> DatasetLoader:
    if isinstance(dataset, DatasetLoader):
        return dataset
    from torch.utils.data import DataLoader

    from evalkit.datasets.torch_dataset import DataLoaderLoader, TorchDatasetLoader

    return DataLoaderLoader(dataset) if isinstance(dataset, DataLoader) else TorchDatasetLoader(dataset)


def evaluate(
    model: Any,
    dataset: Any,
    metrics: Sequence[str | tuple[str, dict[str, Any]]] = ("topk",),
    task: str = "imagenet",
    output_dir: str | Path | None = None,
    name: str = "api",
    preprocess: dict[str, Any] | None = None,
    **runtime: Any,
) -> RunResult:
    """Evaluate ``model`` (an ``nn.Module`` or a ModelAdapter) on ``dataset`` (a torch ``Dataset``
    of ``(input, target)``, a ``DataLoader``, or a DatasetLoader).

    ``runtime`` takes the suite's runtime options (device, precision, batch_size, limit, ci...).
    Inputs of a plain Dataset are used as given unless ``preprocess`` (a timm-style data config)
    is passed. With ``output_dir`` the record is written as ``evalkit run`` writes it.
    """
    specs = [(m, {}) if isinstance(m, str) else (m[0], dict(m[1])) for m in metrics]
    runtime_options = Runtime(**{"progress": False, **runtime})
    adapter, loader = _as_adapter(model, preprocess), _as_loader(dataset)
    record, live_metrics = evaluate_adapter(task_name=task, dataset=loader, adapter=adapter,
                                            metric_specs=specs, runtime=runtime_options)
    record["suite"] = {"name": name, "path": None, "sha256": None, "evaluation": name, "spec": None}
    result = RunResult(record, live_metrics)
    if output_dir is not None and is_main_process():
        result.path = save_result(Path(output_dir), name, name, adapter.display_name(), record, live_metrics)
    return result


def run_suite(suite: str | Path | dict[str, Any], overrides: Sequence[str] = (), models: Sequence[str] | None = None,
              output_dir: str | Path | None = None, data_root: str | Path | None = None,
              log_to: str | Sequence[str] | None = None, **runtime: Any) -> SuiteResult:
    """Run a suite (a YAML file or the same mapping) as ``evalkit run`` does, without the command line.

    ``overrides`` are ``--set`` strings; ``runtime`` keyword arguments set every evaluation's runtime, as the
    command line's options do (validated as the file is: ``batch_size=32``, ``device="cpu"``, ``ci=True``...);
    ``models`` selects models by label.
    Records are written only with ``output_dir``. ``log_to`` (``"mlflow,wandb"`` or a list) logs each record to
    those experiment trackers, as ``--log-to`` does (the suite's ``logging:`` block otherwise; both need ``output_dir``).
    """
    from evalkit import runner
    from evalkit.errors import InputError
    from evalkit.suite import apply_overrides, load_suite, parse_suite, with_runtime
    from evalkit.trackers import log_results, plan

    if isinstance(suite, dict):
        loaded = parse_suite(apply_overrides(suite, overrides, "<suite>") if overrides else suite, data_root=data_root)
    else:
        loaded = load_suite(suite, data_root=data_root, overrides=overrides)
    loaded = with_runtime(loaded, **runtime)
    trackers = plan(loaded.logging, log_to)
    if trackers is not None and output_dir is None:
        raise InputError("experiment trackers log written records: give output_dir", field="log_to")
    results = SuiteResult(runner.run_suite(loaded, output_dir=Path(output_dir) if output_dir is not None else None,
                                           models=models, cache=output_dir is not None))
    if trackers is not None and is_main_process():
        log_results(results, trackers, Path(output_dir), loaded.name)
    return results


def evaluate_task(task: str, model: Any, data_root: str | Path | None = None, dataset: dict[str, Any] | None = None,
                  metrics: Sequence[Any] | None = None, output_dir: str | Path | None = None,
                  **runtime: Any) -> RunResult:
    """One model on a task's standard data and metrics (as lm-eval's ``simple_evaluate``).

    ``model``: an adapter spec (``{"adapter": "timm", "name": "resnet50", "pretrained": True}``), an adapter
    name, an ``nn.Module`` or a ModelAdapter. ``data_root`` is the root of the task's default loader;
    ``dataset`` gives loader options (and ``loader`` to choose another). Metrics default to the task's.
    """
    from evalkit.registry import DATASETS, TASKS

    task_def = TASKS.get(task)
    dataset_spec = {"loader": task_def.default_loader, **({"root": str(data_root)} if data_root else {}),
                    **(dataset or {})}
    metric_list = list(metrics) if metrics else list(task_def.default_metrics)
    if isinstance(model, (str, dict)):
        spec = {"adapter": model} if isinstance(model, str) else dict(model)
        suite = {"name": task, "task": task, "dataset": dataset_spec, "models": [spec], "metrics": metric_list,
                 "runtime": {"progress": False}}
        return run_suite(suite, output_dir=output_dir, **runtime)[0]
    loader = DATASETS.get(dataset_spec.pop("loader"))(**dataset_spec)
    return evaluate(model, loader, metrics=metric_list, task=task, output_dir=output_dir, name=task, **runtime)


def analogy_accuracy(vectors: Any, questions: Any = None, restrict_vocab: int | None = 300000,
                     case_insensitive: bool = True, method: str = "3cosadd", device: str = "cpu",
                     vectors_format: str | None = None, search: str = "auto") -> dict[str, Any]:
    """Functional form of the ``analogy`` metric: gensim's ``evaluate_word_analogies`` numbers for one set of vectors.

    It lives here, above datasets and the vector engine (it was ``evalkit.metrics.analogy.analogy_accuracy``:
    metrics import neither).

    ``vectors``: a file path, a gensim ``KeyedVectors``, a :class:`WordVectors` or a ``(words, matrix)`` pair;
    ``questions``: a questions-words.txt path, vecto CSV or BATS folder (default: gensim's questions-words.txt).
    """
    from evalkit.datasets.analogy import AnalogyQuestions
    from evalkit.metrics.analogy import AnalogyAccuracy
    from evalkit.vectors import as_word_vectors
    from evalkit.vectors.engine import AnalogySolver

    solver = AnalogySolver(as_word_vectors(vectors, vectors_format), restrict_vocab, case_insensitive, method, device,
                           search=search)
    dataset = AnalogyQuestions(questions)
    metric = AnalogyAccuracy()
    metric.bind(dataset.dataset_meta())
    metric.update(solver.answer([q.words for q in dataset.questions]),
                  [(q.section_index, q.section, q.words[3]) for q in dataset.questions], dataset.sample_ids())
    return metric.compute()
