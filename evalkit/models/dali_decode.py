"""``decode: dali``: the eval recipe of ``gpu_decode`` as an NVIDIA DALI pipeline (the ``dali`` extra).

DALI decodes JPEGs with the GPU's hardware JPEG engines where there are some (nvjpeg otherwise) and resizes
the whole batch in one call. Each image's resized size and crop corner are computed on the host from its JPEG
header with ``gpu_decode.resize_plan``, so the geometry is exactly that of the torch path and of timm's
transform; only interpolation rounding differs. As PIL, EXIF orientation is not applied. Files DALI should not
see (CMYK/YCCK JPEGs, other formats) go through ``gpu_decode``'s path, which decodes them with PIL.
Imported only when a batch asks for DALI: ``nvidia.dali`` needs CUDA.
"""
from __future__ import annotations

from typing import Any

from evalkit.errors import InputError, MissingResourceError
from evalkit.models.gpu_decode import jpeg_header, preprocess_on_device, resize_plan
from evalkit.types import EncodedImages

#: built pipelines by (data config, device id, batch size): building one costs about a second
_PIPELINES: dict[tuple[Any, ...], Any] = {}


def _import_dali() -> Any:
    try:
        import nvidia.dali  # noqa: F401
    except ImportError as err:
        raise MissingResourceError("decode: dali needs NVIDIA DALI, which is not installed: "
                                   f"pip install 'evalkit[dali]' (nvidia-dali-cuda130, on a CUDA machine) ({err})") from None
    return nvidia.dali


def _pipeline(config: dict[str, Any], device_id: int, batch_size: int) -> Any:
    """decode (mixed: host parse, GPU decode) → resize to each image's planned size → slice → normalise, CHW."""
    _import_dali()
    from nvidia.dali import fn, math, pipeline_def, types

    _, height, width = config["input_size"]
    interp = types.INTERP_CUBIC if config.get("interpolation") == "bicubic" else types.INTERP_LINEAR
    mean = [m * 255.0 for m in config["mean"]]
    std = [s * 255.0 for s in config["std"]]

    @pipeline_def(batch_size=batch_size, num_threads=4, device_id=device_id, exec_pipelined=False,
                  exec_async=False, prefetch_queue_depth=1)
    def recipe() -> Any:
        jpegs = fn.external_source(name="jpegs", dtype=types.UINT8, ndim=1)
        sizes = fn.external_source(name="sizes", dtype=types.FLOAT, ndim=1)  # per image: new_h, new_w
        corners = fn.external_source(name="corners", dtype=types.INT64, ndim=1)  # per image: top, left
        images = fn.decoders.image(jpegs, device="mixed", output_type=types.RGB, adjust_orientation=False,
                                   jpeg_fancy_upsampling=True)  # libjpeg's (PIL's) chroma upsampling
        images = fn.resize(images, resize_y=sizes[0], resize_x=sizes[1], interp_type=interp, antialias=True,
                           dtype=types.FLOAT)
        images = fn.slice(images, start=corners, shape=[height, width], axis_names="HW")
        images = math.clamp(images, 0.0, 255.0)
        return fn.crop_mirror_normalize(images, dtype=types.FLOAT, output_layout="CHW", mean=mean, std=std)

    pipe = recipe()
    pipe.build()
    return pipe


def preprocess_with_dali(images: EncodedImages, config: dict[str, Any], device: str) -> Any:
    """The batch as a normalised float (N, 3, H, W) tensor on ``device``, decoded and resized by DALI."""
    import numpy as np
    import torch

    if not str(device).startswith("cuda"):
        raise InputError(f"decode: dali runs on a CUDA device, not {device!r} (use decode: cpu)", field="decode")
    _import_dali()
    from nvidia.dali.plugin.pytorch import feed_ndarray

    datas = images.data
    headers = [jpeg_header(d[:65536].numpy().tobytes()) for d in datas]
    mine = [k for k, h in enumerate(headers) if h is not None and h[0] in (1, 3)]
    rest = [k for k in range(len(datas)) if k not in set(mine)]
    _, height, width = config["input_size"]
    out = torch.empty((len(datas), 3, height, width), dtype=torch.float32, device=device)
    if mine:
        index = torch.device(device).index
        key = (repr(sorted(config.items())), torch.cuda.current_device() if index is None else index, len(datas))
        if key not in _PIPELINES:
            _PIPELINES[key] = _pipeline(config, key[1], len(datas))
        pipe = _PIPELINES[key]
        plans = [resize_plan(headers[k][1], headers[k][2], config) for k in mine]
        pipe.feed_input("jpegs", [datas[k].numpy() for k in mine])
        pipe.feed_input("sizes", [np.array(size, dtype=np.float32) for size, _ in plans])
        pipe.feed_input("corners", [np.array(corner, dtype=np.int64) for _, corner in plans])
        (batch,) = pipe.run()
        decoded = torch.empty((len(mine), 3, height, width), dtype=torch.float32, device=device)
        feed_ndarray(batch.as_tensor(), decoded, cuda_stream=torch.cuda.current_stream(device))
        out[mine] = decoded
    if rest:
        others = EncodedImages.from_files([datas[k] for k in rest], [images.paths[k] for k in rest], "gpu")
        out[rest] = preprocess_on_device(others, config, device)
    return out
