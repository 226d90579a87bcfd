from evalkit.registry import TASKS
from evalkit.tasks.base import Task

TASKS.register("generation")(
    Task("generation", default_loader="generated-images", default_metrics=("fid",),
         description="image generation: FID (pytorch-fid), KID, IS, precision/recall, PPL (torch-fidelity), "
                     "FD-DINOv2 (dgm-eval) against a reference set")
)
