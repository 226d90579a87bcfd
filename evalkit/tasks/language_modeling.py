from evalkit.registry import TASKS
from evalkit.tasks.base import Task

TASKS.register("language-modeling")(
    Task("language-modeling", default_loader="wikitext", default_metrics=("perplexity",),
         description="Language-model perplexity: lm-eval's wikitext (word/byte perplexity, bits per byte) "
                     "or the Transformers guide's strided window (strided-perplexity)")
)
