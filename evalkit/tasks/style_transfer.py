from evalkit.registry import TASKS
from evalkit.tasks.base import Task

TASKS.register("style-transfer")(
    Task("style-transfer", default_loader="style-pairs",
         default_metrics=("ssim", "lpips", "content-loss", "style-loss", "artfid"),
         description="Neural style transfer: content × style pairs; SSIM (scikit-image), LPIPS (lpips), Gatys' "
                     "content and style losses (VGG-19), ArtFID (art-fid)")
)
