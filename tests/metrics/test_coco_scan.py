"""The numba scanner of big COCO results files gives exactly what the orjson reader gives, or leaves the file to it.

Every check scores one results file twice, scanner forced (``MIN_SCAN_BYTES = 0``) and scanner off, and asserts
the same outcome: equal stats, or the same error (type, message, file, record, field). Inputs: pycocotools-made
cases written in odd-but-valid JSON layouts (whitespace, key order, escapes, extra fields, number spellings),
hand-written bad records, and random byte mutations of valid files.
"""
from __future__ import annotations

import json
import math
import random
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from evalkit.errors import InputError
from evalkit.formats import coco as F
from evalkit.metrics._coco import rle
from evalkit.metrics.coco import CocoAP, CocoBbox, CocoSegm
from tests.metrics._coco_cases import make_case

pytest.importorskip("numba")
from evalkit.formats import coco_scan  # noqa: E402

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
METRICS = {"segm": CocoSegm, "bbox": CocoBbox}


def _outcome(metric_class: type, gt: dict[str, Any], path: str, **options: Any) -> Any:
    try:
        metric = metric_class(gt=gt, **options)
        metric.add_results_file(path)
        out = metric.compute()
        return "ok", json.dumps({k: v for k, v in out.items() if k != "pr_curve"}, sort_keys=True)
    except InputError as err:
        return "error", type(err).__name__, str(err), err.file, err.record, err.field


def _same(monkeypatch, tmp_path, iou_type: str, gt: dict[str, Any], data: bytes | str, **options: Any) -> bool:
    """Both readers agree on the file; whether the scanner read it."""
    path = tmp_path / "results.json"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    monkeypatch.setattr(F, "MIN_SCAN_BYTES", 1 << 62)
    expected = _outcome(METRICS[iou_type], gt, str(path), **options)
    monkeypatch.setattr(F, "MIN_SCAN_BYTES", 0)
    taken: list[bool] = []
    add_scanned = CocoAP._add_scanned
    monkeypatch.setattr(CocoAP, "_add_scanned", lambda self, *a: taken.append(add_scanned(self, *a)) or taken[-1])
    assert _outcome(METRICS[iou_type], gt, str(path), **options) == expected
    return taken == [True]


# --- writing JSON in odd but valid layouts ------------------------------------------------------------------------

def _number(value: float | int, style: int) -> str:
    """A spelling of ``value`` that any exact parser reads back to it (as a float, for floats)."""
    if isinstance(value, bool) or isinstance(value, int):
        return str(value)
    if style == 1 and value == int(value) and abs(value) < 1e15:
        return f"{value:.1f}" if value or math.copysign(1, value) > 0 else "-0.0"
    if style == 2:
        return f"{value:.17e}"
    if style == 3:
        return f"{value:.17E}".replace("E+", "E")
    return repr(value)


def _string(text: str, style: int) -> str:
    if style == 0:
        return json.dumps(text)
    if style == 1:  # every character as \u escape
        return '"' + "".join(f"\\u{ord(c):04x}" for c in text) + '"'
    return json.dumps(text).replace("/", "\\/")  # (no / in the COCO alphabet: a no-op, still valid)


def _dump(value: Any, rng: random.Random) -> str:
    ws = lambda: rng.choice(["", " ", "\n", "\t ", "\r\n  "])  # noqa: E731
    if isinstance(value, dict):
        items = list(value.items())
        if rng.random() < 0.5:
            rng.shuffle(items)
        body = ",".join(f"{ws()}{_string(k, 0)}{ws()}:{ws()}{_dump(v, rng)}{ws()}" for k, v in items)
        return "{" + (body or ws()) + "}"
    if isinstance(value, list):
        return "[" + (",".join(f"{ws()}{_dump(v, rng)}{ws()}" for v in value) or ws()) + "]"
    if isinstance(value, str):
        return _string(value, rng.choice([0, 0, 1, 2]))
    if isinstance(value, float):
        return _number(value, rng.randrange(4))
    return json.dumps(value)


EXTRAS = [{"id": 7}, {"area": 12.5, "iscrowd": 0}, {"note": "caf\u00e9 \\ \"q\" \u2603"}, {"nested": {"a": [1, None, True, {}]}},
          {"empty": []}, {"flag": False}]


def _layout(results: list[dict[str, Any]], seed: int, extras: bool) -> str:
    rng = random.Random(seed)
    records = [{**r, **(rng.choice(EXTRAS) if extras and rng.random() < 0.3 else {})} for r in results]
    return rng.choice(["", " ", "\n"]) + _dump(records, rng) + rng.choice(["", "\n", "  \n"])


@SETTINGS
@given(seed=st.integers(0, 10_000), iou_type=st.sampled_from(["segm", "bbox"]), extras=st.booleans(),
       area=st.sampled_from(["auto", "mask"]))
def test_generated_files_read_alike(monkeypatch, tmp_path, seed, iou_type, extras, area):
    gt, results = make_case(seed, iou_type)
    options = {"area": area} if iou_type == "segm" else {}
    assert _same(monkeypatch, tmp_path, iou_type, gt, _layout(results, seed, extras), **options)  # (all RLE)


def _rle_results(seed: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A case whose results are all compressed RLE with boxes: the files the scanner takes."""
    gt, results = make_case(seed, "segm")
    return gt, [r for r in results if isinstance(r.get("segmentation"), dict) and isinstance(r["segmentation"]["counts"], str)
                and "bbox" in r]


@SETTINGS
@given(seed=st.integers(0, 10_000), extras=st.booleans(), boxes=st.booleans())
def test_rle_files_are_scanned(monkeypatch, tmp_path, seed, extras, boxes):
    gt, results = _rle_results(seed)
    if not boxes:
        results = [{k: v for k, v in r.items() if k != "bbox"} for r in results]
    if results:  # (an empty list is left to orjson)
        assert _same(monkeypatch, tmp_path, "segm", gt, _layout(results, seed, extras))


@SETTINGS
@given(seed=st.integers(0, 10_000), data=st.data())
def test_mutated_files_read_alike(monkeypatch, tmp_path, seed, data):
    gt, results = _rle_results(seed)
    raw = bytearray(json.dumps(results).encode())
    if not raw:
        return
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.sampled_from(list(b'{}[],:"\\ 0123456789.eE-+tnfux/o\x00\xff') + [raw[at] ^ 1]))
    _same(monkeypatch, tmp_path, data.draw(st.sampled_from(["segm", "bbox"])), gt, bytes(raw))


GT, _ = make_case(3, "segm")
IMAGE = GT["images"][0]


def _det(**fields: Any) -> dict[str, Any]:
    h, w = IMAGE["height"], IMAGE["width"]
    from pycocotools import mask as mask_utils

    m = np.zeros((h, w), np.uint8, order="F")
    m[1:5, 2:6] = 1
    counts = mask_utils.encode(m)["counts"].decode()
    return {"image_id": IMAGE["id"], "category_id": GT["categories"][0]["id"], "score": 0.5,
            "bbox": [2.0, 1.0, 4.0, 4.0], "segmentation": {"size": [h, w], "counts": counts}, **fields}


def _without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != key}


BAD = {
    "unknown image": [_det(), _det(image_id=10**9)],
    "unknown category": [_det(category_id=10**6)],
    "float image id": [_det(image_id=float(IMAGE["id"]))],
    "negative width": [_det(bbox=[1, 1, -2, 3])],
    "missing score": [_without(_det(), "score")],
    "missing bbox after a box": [_det(), _without(_det(), "bbox")],
    "first without box": [_without(_det(), "bbox"), _det()],
    "wrong mask size": [_det(segmentation={"size": [1, 1], "counts": "01"})],
    "bad rle character": [_without(_det(segmentation={"size": [IMAGE["height"], IMAGE["width"]], "counts": "0~"}), "bbox")],
    "rle sum": [_without(_det(segmentation={"size": [IMAGE["height"], IMAGE["width"]], "counts": "01"}), "bbox")],
    "control char in counts": [_without(_det(segmentation={"size": [IMAGE["height"], IMAGE["width"]], "counts": "0\u0001"}), "bbox")],
    "bad rle with box areas": [_det(), _det(segmentation={"size": [IMAGE["height"], IMAGE["width"]], "counts": "0~"})],
    "rle sum with box areas": [_det(), _det(segmentation={"size": [IMAGE["height"], IMAGE["width"]], "counts": "01"})],
    "polygon": [_det(segmentation=[[1, 1, 5, 1, 5, 5]])],
    "repeated key": '[{"image_id": %d, "image_id": %d, "category_id": %d, "score": 1, "bbox": [1, 1, 2, 2], '
                    '"segmentation": %s}]' % (IMAGE["id"], 10**9, GT["categories"][0]["id"], json.dumps(_det()["segmentation"])),
    "nan score": '[{"image_id": %d, "category_id": %d, "score": NaN, "bbox": [1, 1, 2, 2]}]' % (
        IMAGE["id"], GT["categories"][0]["id"]),
    "bool score": [_det(score=True)],
    "not a list": {"annotations": [_det()]},
    "truncated": json.dumps([_det()])[:-3],
    "trailing garbage": json.dumps([_det()]) + " x",
    "bom": "\ufeff" + json.dumps([_det()]),
}


@pytest.mark.parametrize("name", sorted(BAD))
@pytest.mark.parametrize("iou_type", ["segm", "bbox"])
def test_bad_files_give_the_orjson_errors(monkeypatch, tmp_path, name, iou_type):
    case = BAD[name]
    _same(monkeypatch, tmp_path, iou_type, GT, case if isinstance(case, str) else json.dumps(case))


@pytest.mark.parametrize("counts, status", [("0~", rle.BAD_CHAR), ("01", rle.BAD_SUM), ("@", rle.BAD_COUNT)])
def test_bad_masks_are_found_where_the_matching_decodes_them(counts, status):
    """With box areas a mask is checked only where it is decoded, i.e. where it meets a ground truth of its
    image and category (as pycocotools, which would fail there); the error names the first such record."""
    elsewhere = {**_det(segmentation={"size": [IMAGE["height"], IMAGE["width"]], "counts": counts}),
                 "category_id": GT["categories"][0]["id"], "image_id": GT["images"][2]["id"]}  # (no GT there)
    elsewhere["segmentation"]["size"] = [GT["images"][2]["height"], GT["images"][2]["width"]]
    bad = _det(segmentation={"size": [IMAGE["height"], IMAGE["width"]], "counts": counts})
    CocoSegm(gt=GT).add_results([_det(), elsewhere])
    with pytest.raises(InputError) as err:
        CocoSegm(gt=GT).add_results([_det(), elsewhere, bad, bad], file="r.json")
    assert str(err.value).endswith(rle.STATUS_MESSAGES[status])
    assert (err.value.file, err.value.record, err.value.field) == ("r.json", 2, "segmentation.counts")


def test_valid_record_is_scanned(monkeypatch, tmp_path):
    assert _same(monkeypatch, tmp_path, "segm", GT, json.dumps([_det(), _det(score=1, extra={"a": "\\u00e9"})]))


# --- numbers -------------------------------------------------------------------------------------------------------

def _scan_number(text: str) -> float | None:
    """The score ``text`` as the scanner reads it (None: left to orjson)."""
    scanned = coco_scan.scan(f'[{{"image_id": 1, "category_id": 1, "score": {text}}}]'.encode())
    return None if scanned is None else float(scanned.score[0])


def _exact(text: str) -> bool:
    """Whether the scan converts ``text`` itself (the others go through numpy's parser)."""
    end, _, exact = coco_scan._float(np.frombuffer(text.encode(), np.uint8), 0)
    return end == len(text) and exact


def _orjson_float(text: str) -> float:
    return float(np.float64(orjson.loads(text)))


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(value=st.floats(allow_nan=False, allow_infinity=False) | st.integers(-2**60, 2**60), style=st.integers(0, 3),
       digits=st.integers(0, 20))
@example(value=-0.0, style=0, digits=0)
@example(value=0, style=0, digits=0)
@example(value=2**53 + 1, style=0, digits=0)
@example(value=0.1, style=0, digits=0)
def test_numbers_read_as_orjson_reads_them(value, style, digits):
    texts = [_number(value, style), f"{float(value):.{digits}e}", f"{float(value):.{digits}f}", f"{float(value):.{digits}g}"]
    if isinstance(value, int):
        texts.append("-0" if value == 0 else str(value))
    for text in texts:
        try:
            expected = _orjson_float(text)
        except orjson.JSONDecodeError:  # (the g format writes "inf" and the like: not JSON)
            assert _scan_number(text) is None
            continue
        got = _scan_number(text)
        if got is not None:
            assert got == expected and math.copysign(1, got) == math.copysign(1, expected), text


def test_common_numbers_convert_in_the_scan():
    for text in ["0", "-0", "0.5", "-0.0", "0.92799", "447.0", "1e5", "1.5E-3", "123456789012345", "2.5e+2"]:
        assert _exact(text) and _scan_number(text) == _orjson_float(text), text
    for text in ["0.9876543283462524", "1e23", "123456789012345678", "2.2250738585072011e-30", "0.1" + "0" * 25]:
        assert not _exact(text) and _scan_number(text) == _orjson_float(text), text
    assert math.copysign(1, _scan_number("-0")) == 1 and math.copysign(1, _scan_number("-0.0")) == -1
    for text in ["1e400", "0." + "1" * 40, "1" * 19, "1e-300"]:  # orjson's error; a long text; left to orjson
        assert _scan_number(text) is None, text
