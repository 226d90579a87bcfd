"""``evalkit.evaluate``: the same runner for live objects in research code."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from evalkit.datasets.base import DatasetLoader
from evalkit.distributed import is_main_process
from evalkit.models.base import ModelAdapter
from evalkit.result import RunResult
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
