"""The bulk reader of COCO caption references against the record-by-record one it short-cuts: on generated
files, well-formed or not, it gives the same result or steps aside (None) for the checked reader's error."""
from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.errors import InputError
from evalkit.formats.captions import _checked_coco_references, _well_formed_coco_references

#: ids of every kind a file can hold: integers, their strings (the same image), bad ones (bool, float, "", None)
IMAGE_ID = st.one_of(st.integers(1, 6), st.integers(1, 6).map(str), st.sampled_from([True, 1.0, "", None, [1]]))
CAPTION = st.one_of(st.sampled_from(["A dog.", "", "two cats"]), st.sampled_from([None, 3]))
IMAGE = st.one_of(st.fixed_dictionaries({"id": IMAGE_ID}, optional={"file_name": st.sampled_from(["a.jpg", 7])}),
                  st.sampled_from([{}, [], "x"]))
ANNOTATION = st.one_of(st.fixed_dictionaries({"image_id": IMAGE_ID}, optional={"caption": CAPTION}),
                       st.sampled_from([{}, None]))
GOOD_ID = st.one_of(st.integers(1, 6), st.integers(1, 6).map(str))


@settings(max_examples=300, deadline=None)
@given(st.lists(IMAGE, max_size=5), st.lists(ANNOTATION, max_size=8))
def test_bulk_reader_equals_the_checked_reader_or_steps_aside(images, annotations):
    fast = _well_formed_coco_references(images, annotations)
    try:
        checked = _checked_coco_references(images, annotations, Path("captions.json"))
    except InputError:
        assert fast is None
        return
    if fast is not None:
        assert fast == checked
        assert [list(d) for d in fast] == [list(d) for d in checked]  # the same image order


@settings(max_examples=200, deadline=None)
@given(st.lists(GOOD_ID, unique_by=str, max_size=5), st.lists(st.tuples(GOOD_ID, st.text(max_size=5)), max_size=10),
       st.booleans())
def test_bulk_reader_takes_well_formed_files(ids, rows, listed):
    """Well-formed files (every annotation of a listed image, or no image list) take the bulk path."""
    images = [{"id": i, "file_name": f"{i}.jpg"} for i in ids] if listed else []
    annotations = [{"image_id": i, "caption": c} for i, c in rows if not listed or str(i) in map(str, ids)]
    fast = _well_formed_coco_references(images, annotations)
    assert fast is not None
    assert fast == _checked_coco_references(images, annotations, Path("captions.json"))
