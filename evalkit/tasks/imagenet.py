from evalkit.registry import TASKS
from evalkit.tasks.base import Task

TASKS.register("imagenet")(
    Task("imagenet", default_loader="imagenet", default_metrics=("topk",),
         description="ImageNet-1k classification: top-1 / top-5 error (%); also ReaL, V2, Sketch, A and R "
                     "(suites/imagenet_family.yaml)")
)
