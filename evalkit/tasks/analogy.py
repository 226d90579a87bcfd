from evalkit.registry import TASKS
from evalkit.tasks.base import Task

TASKS.register("analogy")(
    Task("analogy", default_loader="analogy", default_metrics=("analogy",),
         description="Word analogies (a : b :: c : ?) by 3CosAdd, as gensim's evaluate_word_analogies")
)
