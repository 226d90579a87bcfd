"""``evalkit run --shard I/N`` + ``evalkit merge``: the record of a single run, for every metric; bad parts rejected."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from evalkit.cli import main
from evalkit.errors import InputError
from evalkit.recompute import merge_part_files
from evalkit.runner import run_suite
from evalkit.shards import merge_metrics, parse_shard, read_part
from evalkit.suite import load_suite
from tests._dist_suite import assert_same_run, single_run, write_suite


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, dict[str, dict], list[Path]]:
    """One single run of every evaluation, and the 3 partial state files of each (shards run out of order)."""
    tmp = tmp_path_factory.mktemp("shards")
    reference = single_run(tmp)
    suite = load_suite(write_suite(tmp))
    for index in (2, 0, 1):
        run_suite(suite, output_dir=tmp / "parts", shard=(index, 3))
    return tmp, reference, sorted((tmp / "parts").glob("*.part.json.gz"))


def test_merged_shards_equal_a_single_run_for_every_metric(runs, tmp_path):
    tmp, reference, parts = runs
    assert len(parts) == 3 * len(reference) and not list((tmp / "parts").glob("*.json"))  # parts only, no records
    shuffled = random.Random(0).sample(parts, len(parts))
    merged = merge_part_files(shuffled, tmp_path)
    assert sorted(r.record["suite"]["evaluation"] for r in merged) == sorted(reference)
    metric_names = {n for r in merged for n in r.record["metric_names"]}
    assert metric_names == {"topk", "bleu", "chrf", "ter", "coco-segm", "coco-bbox", "cider", "analogy"}
    for result in merged:
        record = json.loads(result.path.read_text())
        assert_same_run(record, reference[record["suite"]["evaluation"]], tmp_path)
        assert record["timing"]["world_size"] == 3 and record["dataset"]["shard"] is None
        assert "merged from 3 shard files" in record["notes"]


def test_partial_files_are_gzip_json_with_each_shard(runs):
    _, reference, parts = runs
    part = read_part(parts[0])
    assert part["schema"] == "evalkit.part/2" and part["shard"][1] == 3
    assert part["run"]["suite"]["evaluation"] in reference and isinstance(part["states"], list)


def test_merge_cli_and_its_errors(runs, tmp_path, capsys):
    _, reference, parts = runs
    images = sorted(p for p in parts if "__images__" in p.name)
    assert main(["merge", *map(str, images), "--output-dir", str(tmp_path / "ok"), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["metrics"] == reference["images"]["metrics"]
    assert main(["merge", *map(str, images[:2]), "--output-dir", str(tmp_path / "x")]) == 2
    assert "shards 2/3 are missing" in capsys.readouterr().err
    assert main(["merge", *map(str, images), str(images[0]), "--output-dir", str(tmp_path / "x")]) == 2
    assert "given twice" in capsys.readouterr().err
    junk = tmp_path / "junk.part.json.gz"
    junk.write_bytes(b"\x1f\x8b truncated")
    assert main(["merge", str(junk), "--output-dir", str(tmp_path / "x")]) == 2
    assert "junk.part.json.gz" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def _rewrite_part(path: Path, edit, keep_checksum: bool = True) -> None:
    """Edit a part file's JSON as a careless or hostile user would, keeping it valid gzip JSON."""
    import gzip

    data = json.loads(gzip.decompress(path.read_bytes()))
    edit(data)
    path.write_bytes(gzip.compress(json.dumps(data).encode()))


def test_merge_refuses_tampered_and_mismatched_parts_naming_the_file(runs, tmp_path, capsys):
    import shutil

    from evalkit.metrics.state import decode_array, encode_array

    _, _, parts = runs
    images = sorted(p for p in parts if "__images__" in p.name)
    copies = [Path(shutil.copy(p, tmp_path / p.name)) for p in images]

    def flip_a_hit(data):  # one sample's top-1 hit edited: the score would change
        column = data["states"][0]["state"]["columns"]["correct1"]
        values = decode_array(column)
        values[0] = not values[0]
        data["states"][0]["state"]["columns"]["correct1"] = encode_array(values)

    _rewrite_part(copies[1], flip_a_hit)
    assert main(["merge", *map(str, copies), "--output-dir", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert copies[1].name in err and "checksum" in err and not (tmp_path / "x").exists()

    from evalkit.shards import content_sha256

    def other_runtime(data):  # re-signed, but run with another batch size than the other shards
        data["run"]["runtime"]["batch_size"] = 3
        data["sha256"] = content_sha256(data)

    copies[1].write_bytes(images[1].read_bytes())
    _rewrite_part(copies[2], other_runtime)
    assert main(["merge", *map(str, copies), "--output-dir", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert copies[2].name in err and "run.runtime" in err

    def swapped_samples(data):  # re-signed, but holding another shard's samples
        other = json.loads(__import__("gzip").decompress(images[0].read_bytes()))
        data["states"] = other["states"]
        data["sha256"] = content_sha256(data)

    copies[2].write_bytes(images[2].read_bytes())
    _rewrite_part(copies[1], swapped_samples)
    assert main(["merge", *map(str, copies), "--output-dir", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert copies[1].name in err and "not those of shard 1/3" in err and not (tmp_path / "x").exists()


def test_cli_shard_writes_one_part(tmp_path, capsys):
    suite = write_suite(tmp_path, ["wmt17"])
    assert main(["run", str(suite), "--shard", "1/4", "--output-dir", str(tmp_path / "p"), "--no-progress"]) == 0
    assert "part:" in capsys.readouterr().out
    (path,) = (tmp_path / "p").glob("*.part.json.gz")
    part = read_part(path)
    assert part["shard"] == [1, 4] and part["run"]["dataset"]["num_evaluated"] == 25  # 101 = 26 + 25 + 25 + 25
    assert main(["run", str(suite), "--shard", "4/4"]) == 2


@pytest.mark.parametrize("text", ["1", "a/b", "3/3", "-1/2", "0/0"])
def test_bad_shard_arguments(text):
    with pytest.raises(InputError):
        parse_shard(text)


def test_vqa_states_merge_exactly_after_a_json_round_trip():
    """VQA has no runner task yet: its states go through the same JSON round trip and merge as a shard file's."""
    from evalkit.metrics.vqa import VQAAccuracy

    rng = np.random.default_rng(0)
    words = ["yes", "no", "2", "red", "a dog", "two"]
    records = [{"question_id": i, "question_type": f"what {i % 3}", "answer_type": ["yes/no", "number", "other"][i % 3],
                "answers": [{"answer": str(rng.choice(words)), "answer_id": k + 1} for k in range(10)]}
               for i in range(50)]
    answers = [str(rng.choice(words)) for _ in records]
    single = VQAAccuracy()
    single.update(answers, records, [r["question_id"] for r in records])
    parts = []
    for lo, hi in [(0, 17), (17, 34), (34, 50)]:
        piece = VQAAccuracy()
        piece.update(answers[lo:hi], records[lo:hi], [r["question_id"] for r in records[lo:hi]])
        parts.append({"states": [json.loads(json.dumps(piece.state_dict()))]})
    (merged,) = merge_metrics(lambda: [VQAAccuracy()], parts)
    assert merged.compute() == single.compute() and merged.sample_ids() == single.sample_ids()
