"""Every evalkit.torchmetrics class on a fixed data set, each rank updating its shard in batches.

Run by torchrun (``python -m torch.distributed.run --nproc_per_node=2 _ddp_worker.py OUT``) on gloo: each
rank writes its synchronised ``compute()`` to ``OUT/rank<r>.json`` (floats as hex, exact).
:func:`scores` with world 1 is the single-process run the test compares with.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch

BATCH = 3


def scores(rank: int, world: int) -> dict[str, dict[str, float]]:
    from torchmetrics import MetricCollection

    from evalkit.torchmetrics import BLEU, CiderD, CocoAP, TopKError, VQAAccuracy
    from tests.torchmetrics_compat._data import caption_data, detection_batch, vqa_data

    def run(metric, *columns, **named) -> dict[str, float]:
        mine = list(range(rank, len(columns[0]), world))
        for s in range(0, len(mine), BATCH):
            rows = mine[s:s + BATCH]
            metric.update(*(c[rows] if isinstance(c, torch.Tensor) else [c[i] for i in rows] for c in columns),
                          **{k: [v[i] for i in rows] for k, v in named.items()})
        return {k: float(v) for k, v in metric.compute().items()}

    preds, target = detection_batch(21, n_images=20)
    hyps, refs = caption_data(22)
    answers, humans = vqa_data(23)
    gen = torch.Generator().manual_seed(24)
    logits, labels = torch.randint(0, 5, (50, 12), generator=gen).float(), torch.randint(0, 12, (50,), generator=gen)
    coco = MetricCollection({"bbox": CocoAP("bbox", box_format="xywh"), "segm": CocoAP("segm")})
    return {
        "coco": run(coco, preds, target),
        "text": run(MetricCollection({"bleu": BLEU(), "cider": CiderD()}), hyps, refs, ids=list(range(len(hyps)))),
        "vqa": run(VQAAccuracy(), answers, humans),
        "topk": run(TopKError(), logits, labels),
    }


def hexed(out: dict[str, dict[str, float]]) -> dict[str, dict[str, str]]:
    return {name: {k: float.hex(v) for k, v in values.items()} for name, values in out.items()}


if __name__ == "__main__":
    torch.distributed.init_process_group("gloo")
    rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    out = hexed(scores(rank, world))
    Path(sys.argv[1], f"rank{rank}.json").write_text(json.dumps(out, sort_keys=True))
    torch.distributed.destroy_process_group()
    os._exit(0)
