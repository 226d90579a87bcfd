"""File formats, below datasets, models and metrics: readers of the official files and their checks.

Layering (checked by tests/test_layering.py): ``evalkit.types`` and ``evalkit.formats`` import
none of ``evalkit.datasets``, ``evalkit.models``, ``evalkit.metrics``; each of those three may import
these modules, never one another (see the test for the exact rules).

- :mod:`evalkit.formats.text`: compressed text files, sacrebleu-style line files (translation)
- :mod:`evalkit.formats.checks`: field checks that name the file, record and field
- :mod:`evalkit.formats.coco`: COCO results files (a list of detections)
- :mod:`evalkit.formats.vqa`: the official VQA questions, annotations and results files
- :mod:`evalkit.formats.captions`: caption reference and results files
- :mod:`evalkit.formats.predictions`: which reader a task's prediction files go through
- :mod:`evalkit.formats.imagenet`: the ImageNet class table, the ImageNet-A/-R subsets and the ReaL labels
"""
