"""VQA v2 (val2014 by default): the official question and annotation JSON with the COCO image folder.

Samples follow the annotation file's order (the order ``vqaEval.py`` walks), ids are question
ids as strings, inputs are ``{"image", "question", "question_id", "image_id"}`` and targets the
annotation records the ``vqa`` metric scores against.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from evalkit.datasets.base import DatasetLoader, _Skipped
from evalkit.errors import InputError, MissingResourceError
from evalkit.formats.vqa import load_annotations, load_questions
from evalkit.registry import DATASETS

DEFAULT_QUESTIONS = "v2_OpenEnded_mscoco_val2014_questions.json"
DEFAULT_ANNOTATIONS = "v2_mscoco_val2014_annotations.json"
DEFAULT_IMAGE_DIR = "val2014"
DEFAULT_IMAGE_PATTERN = "COCO_val2014_%012d.jpg"


@DATASETS.register("vqa")
class VQADataset(DatasetLoader):
    """Official VQA files. Paths default to the official names inside ``root``.

    ``image_pattern`` maps an image id to a file name (``COCO_val2014_%012d.jpg``; use
    ``COCO_train2014_%012d.jpg`` for train). ``skip_corrupt: true`` skips unreadable images;
    ``images_required: false`` reads no image (inputs carry ``image: None``), for results files.
    """

    name = "vqa"
    task = "vqa"

    def __init__(self, root: str | Path | None = None, questions_file: str | Path | None = None,
                 annotations_file: str | Path | None = None, image_dir: str | Path | None = None,
                 image_pattern: str = DEFAULT_IMAGE_PATTERN, skip_corrupt: bool = False,
                 images_required: bool = True, **options: Any):
        super().__init__(root, questions_file=str(questions_file) if questions_file else None,
                         annotations_file=str(annotations_file) if annotations_file else None,
                         image_dir=str(image_dir) if image_dir else None, image_pattern=image_pattern,
                         skip_corrupt=skip_corrupt, images_required=images_required, **options)
        base = self.require_root("the folder of the VQA question/annotation files") if root is not None else None
        self.questions_file = self._path(questions_file, base, DEFAULT_QUESTIONS, "questions_file")
        self.annotations_file = self._path(annotations_file, base, DEFAULT_ANNOTATIONS, "annotations_file")
        self.image_dir = self._path(image_dir, base, DEFAULT_IMAGE_DIR, "image_dir") \
            if images_required or image_dir is not None or base is not None else Path(".")
        self.image_pattern = image_pattern
        self.skip_corrupt = skip_corrupt
        self.images_required = images_required
        for path, what in ((self.questions_file, "questions"), (self.annotations_file, "annotations")):
            if not path.is_file():
                raise MissingResourceError(f"VQA {what} file not found: {path.resolve()}")
        self.annotations = load_annotations(self.annotations_file)
        self.questions = load_questions(self.questions_file)
        for index, record in enumerate(self.annotations):
            if record["question_id"] not in self.questions:
                raise InputError(f"question_id {record['question_id']} is annotated but not in {self.questions_file}",
                                 file=self.annotations_file, record=index, field="question_id")
        self._ids = [str(record["question_id"]) for record in self.annotations]

    @staticmethod
    def _path(value: str | Path | None, base: Path | None, default: str, option: str) -> Path:
        if value is not None:
            path = Path(value).expanduser()
            return base / path if base is not None and not path.is_absolute() else path
        if base is None:
            raise MissingResourceError(f"the vqa dataset needs 'root' or '{option}'")
        return base / default

    def sample_ids(self) -> list[str]:
        return self._ids

    def image_path(self, image_id: int) -> Path:
        return self.image_dir / (self.image_pattern % image_id)

    def item(self, index: int, transform: Callable | None) -> Any:
        record = self.annotations[index]
        question = self.questions[record["question_id"]]
        image_id = question.get("image_id", record.get("image_id"))
        if not isinstance(image_id, int):
            raise InputError(f"image_id must be an integer, got {image_id!r}", file=self.questions_file,
                             record=f"question_id {record['question_id']}", field="image_id")
        image = self._image(index, image_id) if self.images_required else None
        if isinstance(image, _Skipped):
            return image
        if transform is not None and image is not None:
            image = transform(image)
        inputs = {"image": image, "question": question.get("question", ""), "question_id": record["question_id"],
                  "image_id": image_id}
        return inputs, record

    def _image(self, index: int, image_id: int) -> Any:
        from PIL import Image

        path = self.image_path(image_id)
        try:
            with Image.open(path) as image:
                return image.convert("RGB")
        except (OSError, SyntaxError, ValueError) as err:
            if self.skip_corrupt:
                return _Skipped(self._ids[index], str(err))
            raise InputError(f"cannot read image: {err} (set skip_corrupt: true to skip and count such files)",
                             file=path, record=f"question_id {self._ids[index]}") from err

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "questions_file": str(self.questions_file.resolve()),
                "annotations_file": str(self.annotations_file.resolve()), "image_dir": str(self.image_dir.resolve())}
