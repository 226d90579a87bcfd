"""Train the quickstart's real classifier: timm's ``test_resnet`` on scikit-learn's handwritten digits.

The digits are scikit-learn's bundled copy of the UCI optical-recognition test set (1797 8×8 images). As in
scikit-learn's "Recognizing hand-written digits" example, the first half trains and the second half (899 digits)
is the test set. This script writes the test half as an ImageFolder of PNGs (``data/quickstart/digits/test/<digit>/``),
trains on the first half seen through exactly the preprocessing evalkit applies at evaluation (timm's eval
transform of the suite's data config), and saves the weights as a safetensors state dict. It prints the
checksums that ``data/quickstart/digits/SOURCES.md`` records. Run: ``python scripts/train_digits.py``.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "data" / "quickstart" / "digits"
SEED = 0
EPOCHS = 40
#: the data config of the quickstart suite's ``preprocess:`` (32 px, no crop, grayscale replicated to RGB)
DATA_CONFIG = {"input_size": (3, 32, 32), "interpolation": "bilinear", "mean": (0.5, 0.5, 0.5),
               "std": (0.5, 0.5, 0.5), "crop_pct": 1.0, "crop_mode": "center"}


def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.images, data.target


def to_png(image: np.ndarray, path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round(image * 255.0 / 16.0).astype(np.uint8), mode="L").save(path, optimize=True)


def main() -> None:
    import timm
    import torch
    from PIL import Image
    from safetensors.torch import save_file
    from timm.data import create_transform

    images, labels = digits()
    half = len(images) // 2
    for index in range(half, len(images)):
        to_png(images[index], OUT / "test" / str(labels[index]) / f"{index:04d}.png")
    transform = create_transform(**DATA_CONFIG, is_training=False)
    train = torch.stack([transform(Image.fromarray(np.round(images[i] * 255.0 / 16.0).astype(np.uint8), mode="L")
                                   .convert("RGB")) for i in range(half)])
    target = torch.as_tensor(labels[:half])
    torch.manual_seed(SEED)
    model = timm.create_model("test_resnet", num_classes=10)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        model.train()
        for batch in torch.randperm(half, generator=generator).split(64):
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(train[batch]), target[batch])
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}")
    model.eval()
    weights = OUT / "test_resnet_digits.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights))
    digest = hashlib.sha256()
    for path in sorted((OUT / "test").rglob("*.png")):
        digest.update(path.relative_to(OUT).as_posix().encode() + b"\n" + path.read_bytes())
    print(f"weights sha256 {hashlib.sha256(weights.read_bytes()).hexdigest()} ({weights.stat().st_size} bytes)")
    print(f"test images: {len(images) - half}, sha256 of their paths and bytes {digest.hexdigest()}")


if __name__ == "__main__":
    main()
