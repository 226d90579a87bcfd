from evalkit.registry import TASKS
from evalkit.tasks.base import Task

TASKS.register("vqa")(
    Task("vqa", default_loader="vqa", default_metrics=("vqa",),
         description="VQA v2 open-ended accuracy (%), official vqaEval.py rules: overall, per answer/question type")
)
