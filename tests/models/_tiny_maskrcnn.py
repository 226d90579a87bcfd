"""A torchvision Mask R-CNN small enough for CPU tests: one 8-channel feature map, thin heads."""
from __future__ import annotations

from typing import Any


def tiny_maskrcnn(num_classes: int = 2, seed: int = 0, **kwargs: Any) -> Any:
    """Random weights (seeded); ``box_score_thresh=0`` so that it detects something on any image."""
    import torch
    from torchvision.models.detection import MaskRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
    from torchvision.ops import MultiScaleRoIAlign

    torch.manual_seed(seed)
    channels = 8
    backbone = torch.nn.Sequential(torch.nn.Conv2d(3, channels, 3, stride=4, padding=1), torch.nn.ReLU())
    backbone.out_channels = channels
    options: dict[str, Any] = dict(
        min_size=64, max_size=64, box_score_thresh=0.0, rpn_pre_nms_top_n_test=200, rpn_post_nms_top_n_test=150,
        rpn_anchor_generator=AnchorGenerator(sizes=((8, 16, 32),), aspect_ratios=((0.5, 1.0, 2.0),)),
        box_roi_pool=MultiScaleRoIAlign(["0"], 7, 2), box_head=TwoMLPHead(channels * 49, 32),
        box_predictor=FastRCNNPredictor(32, num_classes), mask_roi_pool=MultiScaleRoIAlign(["0"], 14, 2),
        mask_head=MaskRCNNHeads(channels, (channels,), 1), mask_predictor=MaskRCNNPredictor(channels, channels,
                                                                                            num_classes),
    )
    options.update(kwargs)
    return MaskRCNN(backbone, **options)
