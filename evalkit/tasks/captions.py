from evalkit.registry import TASKS
from evalkit.tasks.base import Task

TASKS.register("captions")(
    Task("captions", default_loader="coco-captions", default_metrics=("cider",),
         description="Image captioning: CIDEr-D and BLEU-1..4 as pycocoevalcap computes them")
)
