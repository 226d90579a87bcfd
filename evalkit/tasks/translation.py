from evalkit.registry import TASKS
from evalkit.tasks.base import Task

TASKS.register("translation")(
    Task("translation", default_loader="translation", default_metrics=("bleu",),
         description="Machine translation: sacreBLEU (13a, exp smoothing, mixed case)")
)
