"""Combining the pieces of a split run: metric states, clocks, and the partial state files of ``--shard I/N``.

Ranks of a process group and shards of a job array produce the same thing, a :data:`Part`
(``{"states": [state_dict per metric], "timing": {...}, "skipped": [...]}``); merging parts in
shard order gives exactly the metrics of one process that saw every sample.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from pathlib import Path
from typing import Any, Callable, Sequence

from evalkit.errors import InputError
from evalkit.metrics.base import Metric
from evalkit.records import safe_name, write_atomic

PART_SCHEMA = "evalkit.part/2"
Part = dict[str, Any]


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` (0-based I, as SLURM_ARRAY_TASK_ID with ``--array=0-(N-1)``) → ``(I, N)``."""
    try:
        index, count = (int(p) for p in text.split("/"))
    except ValueError:
        raise InputError(f"--shard takes I/N (for example 0/4), got {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise InputError(f"--shard {text}: need N >= 1 and 0 <= I < N")
    return index, count


def local_part(metrics: Sequence[Metric], timing: dict[str, Any], skipped: list[str]) -> Part:
    return {"states": [m.state_dict() for m in metrics], "timing": timing, "skipped": list(skipped)}


def merge_metrics(make_metrics: Callable[[], list[Metric]], parts: Sequence[Part]) -> list[Metric]:
    """Fresh metrics with every part's state merged in part order (= sample order for contiguous shards)."""
    merged = make_metrics()
    for part in parts:
        pieces = make_metrics()
        file = part.get("_file")
        if len(part["states"]) != len(pieces):
            raise InputError(f"a part holds {len(part['states'])} metric states, the run has {len(pieces)} metrics",
                             file=file, field="states")
        for k, (target, piece, state) in enumerate(zip(merged, pieces, part["states"])):
            try:
                piece.load_state_dict(state)
                target.merge(piece)
            except InputError as err:
                if err.file is not None or file is None:
                    raise
                raise InputError(str(err.args[0]) if err.args else str(err), file=file, field=f"states[{k}]") from None
            except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
                if file is None:
                    raise
                raise InputError(f"metric state does not load: {type(err).__name__}: {err}", file=file,
                                 field=f"states[{k}]") from None
    return merged


def merge_timings(timings: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Total throughput (all samples over the slowest rank's wall time) plus each rank's own clocks.

    Latency percentiles cannot be merged from summaries; the top level keeps rank 0's, ``ranks`` has all.
    """
    if len(timings) == 1:
        return dict(timings[0])
    samples = sum(t["timed_samples"] for t in timings)
    wall = max(t["wall_s"] for t in timings)
    waits = sum(t["data_wait_s"] for t in timings)
    computes = sum(t["compute_s"] for t in timings)
    gpu = [t["peak_gpu_memory_bytes"] for t in timings if t.get("peak_gpu_memory_bytes") is not None]
    return {
        **timings[0],
        "timed_batches": sum(t["timed_batches"] for t in timings),
        "timed_samples": samples,
        "wall_s": wall,
        "throughput": samples / wall if wall > 0 else None,
        "data_wait_s": waits,
        "compute_s": computes,
        "data_wait_fraction": waits / (waits + computes) if waits + computes > 0 else None,
        "peak_gpu_memory_bytes": max(gpu) if gpu else None,
        "peak_host_rss_bytes": max(t["peak_host_rss_bytes"] for t in timings),
        "world_size": len(timings),
        "ranks": [{"rank": i, **{k: t.get(k) for k in ("device", "timed_samples", "wall_s", "throughput",
                                                         "data_wait_fraction", "latency_ms")}}
                  for i, t in enumerate(timings)],
    }


def part_file_name(suite: str, evaluation: str, model: str, shard: tuple[int, int]) -> str:
    index, count = shard
    return "__".join(safe_name(p) for p in (suite, evaluation, model)) + f"__shard-{index}-of-{count}.part.json.gz"


def content_sha256(data: dict[str, Any]) -> str:
    """sha256 of a JSON object's canonical form, without its own ``sha256`` field."""
    body = {k: v for k, v in data.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def write_part(path: Path, part: Part) -> Path:
    """A partial state file: JSON (NaN kept, so states round-trip exactly) with a checksum of its content, gzip,
    written atomically."""
    data = {"schema": PART_SCHEMA, **part}
    data["sha256"] = content_sha256(data)
    payload = gzip.compress(json.dumps(data).encode("utf-8"), mtime=0)
    return write_atomic(path, lambda f: f.write(payload), binary=True)


def read_part(path: Path) -> Part:
    try:
        data = json.loads(gzip.decompress(Path(path).read_bytes()))
    except (OSError, EOFError, ValueError, zlib.error) as err:  # zlib.error: a damaged deflate stream
        raise InputError(f"not a readable partial state file: {err}", file=path) from None
    if not isinstance(data, dict) or data.get("schema") != PART_SCHEMA:
        raise InputError(f"not an evalkit partial state file (schema {PART_SCHEMA!r})", file=path, field="schema")
    for key in ("shard", "run", "states", "timing", "skipped", "sha256"):
        if key not in data:
            raise InputError("partial state file is incomplete", file=path, field=key)
    if data["sha256"] != content_sha256(data):
        raise InputError("its content does not match its checksum: the file was edited or damaged since "
                         "'evalkit run --shard' wrote it; run that shard again", file=path, field="sha256")
    check_structure(data, PART_FIELDS, path)
    return data


#: the fields of a part (and of a cache's run.json) that merge and rescore use, and their JSON types
PART_FIELDS: dict[str, type | tuple[type, ...]] = {
    "shard": list, "run": dict, "states": list, "timing": dict, "skipped": list, "run.suite": dict,
    "run.suite.name": str, "run.suite.evaluation": str, "run.model": dict, "run.model.name": str,
    "run.dataset": dict, "run.dataset.num_skipped": int, "run.dataset_component": dict,
    "run.dataset_component.name": str, "run.dataset_component.options": dict, "run.metric_specs": list,
    "run.runtime": dict, "run.task": str, "run.environment": dict, "run.started_at": str}


def check_structure(data: dict[str, Any], fields: dict[str, Any], path: Path) -> None:
    """Each dotted field present with its JSON type (a file whose checksum was recomputed after an edit)."""
    for dotted, types in fields.items():
        value: Any = data
        for key in dotted.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, types) or isinstance(value, bool):
            names = types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
            raise InputError(f"expected {names}, got {type(value).__name__}", file=path, field=dotted)
    shard = data.get("shard")
    if "shard" in fields and not (len(shard) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in shard)
                                  and 0 <= shard[0] < shard[1]):
        raise InputError("expected [index, count]", file=path, field="shard")
    specs = data.get("run", data).get("metric_specs")
    if not all(isinstance(s, list) and len(s) == 2 and isinstance(s[0], str) and isinstance(s[1], dict)
               for s in specs or []):
        raise InputError("expected [[name, options], ...]", file=path, field="metric_specs")


def group_parts(paths: Sequence[Path]) -> list[list[Part]]:
    """Parts grouped by run (suite, evaluation, model), each group complete and in shard order."""
    groups: dict[str, dict[int, tuple[Path, Part]]] = {}
    counts: dict[str, int] = {}
    for path in paths:
        part = read_part(path)
        run = part["run"]
        key = json.dumps([run["suite"].get("sha256"), run["suite"].get("evaluation"), run["model"]["name"],
                          run["dataset"].get("fingerprint")])
        index, count = part["shard"]
        if counts.setdefault(key, count) != count:
            raise InputError(f"shard {index}/{count} does not match the other parts' N={counts[key]}",
                             file=path, field="shard")
        if index in groups.setdefault(key, {}):
            raise InputError(f"shard {index}/{count} given twice (also {groups[key][index][0]})",
                             file=path, field="shard")
        part["_file"] = str(path)
        groups[key][index] = (path, part)
    out = []
    for key, shards in groups.items():
        missing = sorted(set(range(counts[key])) - set(shards))
        if missing:
            run = next(iter(shards.values()))[1]["run"]
            raise InputError(f"{run['suite'].get('evaluation')}/{run['model']['name']}: shards "
                             f"{', '.join(f'{i}/{counts[key]}' for i in missing)} are missing")
        group = [shards[i][1] for i in range(counts[key])]
        for part in group[1:]:
            for field in ("metric_specs", "runtime", "dataset_component", "task"):
                if part["run"].get(field) != group[0]["run"].get(field):
                    raise InputError(f"shard {part['shard'][0]}/{part['shard'][1]} was run with another {field} than "
                                     f"shard 0 ({group[0]['_file']})", file=part["_file"], field=f"run.{field}")
        out.append(group)
    return out


def check_shard_samples(part: Part, expected_ids: Sequence[str]) -> None:
    """The part's samples are its shard's samples, in order, less the ones it skipped as unreadable."""
    states = part["states"]
    held = list(states[0]["state"]["ids"]) if states and isinstance(states[0], dict) and "state" in states[0] else []
    position = {sample_id: i for i, sample_id in enumerate(expected_ids)}
    places = [position.get(str(sample_id), -1) for sample_id in held]
    index, count = part["shard"]
    if -1 in places or places != sorted(set(places)) or len(expected_ids) - len(held) != part["run"]["dataset"].get(
            "num_skipped", 0):
        stray = next((held[i] for i, p in enumerate(places) if p == -1), None)
        what = f"sample {stray!r} is not in shard {index}/{count}" if stray is not None else (
            f"it holds {len(held)} of the shard's {len(expected_ids)} samples")
        raise InputError(f"its samples are not those of shard {index}/{count} of this data set: {what}",
                         file=part["_file"], field="states")
