"""``evalkit.evaluate``: the same runner for live objects in research code."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from evalkit.datasets.base import DatasetLoader
from evalkit.distributed import is_main_process
from evalkit.models.base import ModelAdapter
from evalkit.records import record_stem, save_run
from evalkit.runner import RunResult, _merge_columns, _state, evaluate_adapter
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
        stem = record_stem(name, name, adapter.display_name(), record["run_id"])
        result.path = save_run(Path(output_dir), stem, record, _merge_columns(live_metrics),
                               {m.name: _state(m) for m in live_metrics})
    return result
