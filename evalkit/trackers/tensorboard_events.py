"""TensorBoard: one event-file run per record, ``<output-dir>/tensorboard/<record stem>/``, written with
TensorBoard's own event writer and summary protos (no TensorFlow, no torch).

- scalars (Scalars tab), all at step 0: ``metrics/<key>``, ``metrics/<key>.ci_low|ci_high``, ``timing/...``,
  kept as float64 tensors so they read back equal to the record (TensorBoard's own summaries round to float32);
- text (Text tab): ``signature/<metric>`` and the run's settings (``model/...``, ``timing/device``...), the record
  as JSON (``record``) and the per-sample predictions as a table (``predictions``, its first ``TABLE_ROWS`` rows:
  a Text tab of more rows stops being readable);
- every prediction row as ``predictions.csv`` next to the event file.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from evalkit.records import write_atomic
from evalkit.trackers.base import LoggedRun, params, predictions_frame, scalars
from evalkit.trackers.config import inside

TABLE_ROWS = 1000


class TensorBoardTracker:
    def __init__(self, options: dict[str, str], output_dir: Path, suite_name: str):
        self.root = inside(output_dir, options.get("dir"), "tensorboard")
        self.count = 0

    def log(self, run: LoggedRun) -> None:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.plugins.scalar import metadata as scalar_metadata
        from tensorboard.plugins.text.summary_v2 import text_pb
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
        from tensorboard.util import tensor_util

        folder = self.root / run.name
        summary = summary_pb2.Summary()
        for tag, value in scalars(run.record).items():
            summary.value.add(tag=tag, metadata=scalar_metadata.create_summary_metadata(None, None),
                              tensor=tensor_util.make_tensor_proto(np.float64(value)))
        texts = params(run.record)
        texts["record"] = "\n".join("    " + line for line in run.record_text().splitlines())  # a Markdown code block
        frame = predictions_frame(run)
        if frame is not None:
            rows = [[str(v) for v in row] for row in frame.head(TABLE_ROWS).itertuples(index=False)]
            texts["predictions"] = np.array([[str(c) for c in frame.columns]] + rows, dtype=object)
            write_atomic(folder / "predictions.csv", lambda f: frame.to_csv(f, index=False))
        for tag, text in texts.items():
            summary.value.extend(text_pb(tag, text).value)
        writer = EventFileWriter(str(folder))
        try:
            writer.add_event(event_pb2.Event(wall_time=run.finished, step=0, summary=summary))
        finally:
            writer.close()
        self.count += 1

    def close(self) -> str:
        return f"tensorboard: {self.count} run(s) in {self.root} (tensorboard --logdir {self.root})"
