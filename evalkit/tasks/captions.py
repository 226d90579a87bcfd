from evalkit.registry import TASKS
from evalkit.tasks.base import Task

TASKS.register("captions")(
    Task("captions", default_loader="coco-captions", default_metrics=("cider", "rouge"),
         description="Image captioning: CIDEr-D, BLEU-1..4 and ROUGE_L (METEOR: metric meteor, needs Java) as "
                     "pycocoevalcap computes them")
)
