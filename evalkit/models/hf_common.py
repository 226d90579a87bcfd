"""What every Hugging Face adapter shares: a local model folder, no hub, no remote code by default."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit.errors import MissingResourceError


def require_model_dir(path: str | Path) -> Path:
    """The model folder, or an error naming where it was looked for (nothing is downloaded)."""
    folder = Path(path or "").expanduser()
    if not folder.is_dir():
        raise MissingResourceError(f"Hugging Face model directory not found: {folder.resolve()} "
                                   "(set 'path' to a local directory saved with save_pretrained)")
    return folder


class ProcessorTransform:
    """Per-image preprocessing by the model's own image processor (picklable, for DataLoader workers)."""

    def __init__(self, processor: Any):
        self.processor = processor

    def __call__(self, image: Any) -> Any:
        return self.processor(images=image, return_tensors="pt")["pixel_values"][0]
