from evalkit.registry import TASKS
from evalkit.tasks.base import Task

TASKS.register("coco")(
    Task("coco", default_loader="coco", default_metrics=("coco-segm", "coco-bbox"),
         description="COCO instance segmentation and detection: the 12 COCOeval stats of pycocotools")
)
