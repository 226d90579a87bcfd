"""Weights & Biases, offline only: one offline run per record under ``<output-dir>/wandb/``, uploaded later (if
ever) with ``wandb sync <output-dir>/wandb/offline-run-*``. Nothing here reaches the network.

- history and summary (step 0): ``metrics/<key>``, ``metrics/<key>.ci_low|ci_high``, ``timing/...``, and the
  per-sample predictions as a ``wandb.Table`` (``predictions``);
- config: the signatures and run settings (the same names as the other trackers' params);
- the record file as an artifact of type ``evalkit-record``, by reference (policy ``immutable``: not copied
  into W&B's staging folder; ``wandb sync`` reads it from the output folder).
"""
from __future__ import annotations

from pathlib import Path

from evalkit.trackers.base import LoggedRun, params, predictions_frame, scalars
from evalkit.trackers.config import inside


class WandbTracker:
    def __init__(self, options: dict[str, str], output_dir: Path, suite_name: str):
        self.dir = inside(output_dir, options.get("dir"), ".")
        self.project = options.get("project") or suite_name
        self.runs: list[str] = []

    def log(self, run: LoggedRun) -> None:
        import wandb

        settings = wandb.Settings(mode="offline", silent=True, console="off", save_code=False, disable_git=True,
                                  x_disable_stats=True, x_disable_meta=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        live = wandb.init(dir=str(self.dir), project=self.project, name=run.title, config=params(run.record),
                          settings=settings, reinit="create_new", job_type="evaluation",
                          group=(run.record.get("suite") or {}).get("evaluation"))
        try:
            values: dict[str, object] = dict(scalars(run.record))
            frame = predictions_frame(run)
            if frame is not None:
                values["predictions"] = wandb.Table(dataframe=frame)
            live.log(values, step=0)
            artifact = wandb.Artifact(f"record-{run.record['run_id']}", type="evalkit-record",
                                      metadata={"run_id": run.record["run_id"], "record": run.record_path.name})
            artifact.add_file(str(run.record_path), name=run.record_path.name, policy="immutable")
            live.log_artifact(artifact)
            self.runs.append(live.id)
        finally:
            live.finish()

    def close(self) -> str:
        import wandb

        if wandb.run is None:  # no run of the caller's own is open: stop W&B's service, so every run file is closed
            wandb.teardown()
        return (f"wandb: {len(self.runs)} offline run(s) in {self.dir / 'wandb'} (upload later with: "
                f"wandb sync {self.dir / 'wandb'}/offline-run-*)")
