"""The ``evalkit`` command: run · score · list · report · leaderboard."""
from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Any, Sequence

from evalkit.errors import EvalkitError, InputError
from evalkit.records import RUNS_DIR
from evalkit.tables import render_table, terminal_safe


def _add_run(sub: Any) -> None:
    p = sub.add_parser("run", help="run a suite: every (evaluation, model) pair, one record each",
                       description="Run a suite file. Records go to --output-dir (default results/runs/).")
    p.add_argument("suite", type=Path, help="suite YAML file")
    p.add_argument("--model", action="append", metavar="NAME",
                   help="run only this model (its label, name or adapter); repeatable")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: the suite's, else cuda when available)")
    p.add_argument("--precision", choices=["fp32", "fp16", "bf16"], help="autocast precision")
    p.add_argument("--batch-size", type=_batch_size, help="samples per batch, or auto (the largest that fits)")
    p.add_argument("--workers", type=int, help="DataLoader worker processes")
    p.add_argument("--limit", type=int, metavar="N", help="evaluate only the first N samples")
    p.add_argument("--bootstrap", "--ci", dest="ci", action="store_true",
                   help="add 95%% bootstrap confidence intervals (--ci is an alias)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="change the suite before it is validated, e.g. runtime.batch_size=32 or "
                        "'models[0].num_beams=5' (the value is read as YAML); repeatable")
    p.add_argument("--output-dir", type=Path, default=RUNS_DIR, help="where records go (default results/runs/)")
    p.add_argument("--data-root", type=Path, help="base folder for relative dataset paths in the suite")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--json", action="store_true",
                   help="print the run records as JSON on stdout (one object, or an array) and nothing else")
    p.add_argument("--shard", metavar="I/N",
                   help="evaluate only contiguous shard I of N (0-based, for job arrays) and write a partial "
                        "state file; 'evalkit merge' combines the N files into the record of a single run")
    p.add_argument("--resume", action="store_true",
                   help="continue interrupted runs from their prediction cache (results/runs/.cache/) instead of "
                        "starting over; the record equals an uninterrupted run's")
    p.add_argument("--cache-chunk", type=int, default=256, metavar="SAMPLES",
                   help="samples per prediction-cache chunk, rounded to whole batches (default 256): "
                        "a kill loses at most one chunk")
    p.add_argument("--no-cache", action="store_true",
                   help="do not cache predictions (no --resume, no 'evalkit rescore' for these runs)")
    p.add_argument("--no-code", action="store_true",
                   help="refuse a suite with any key that imports or executes code it names (factory, "
                        "trust_remote_code, allow_pickle); 'evalkit check' lists them")
    p.add_argument("--compare-published", nargs="?", const=Path("results") / "published", type=Path, metavar="DIR",
                   help="print each run's published numbers (tables in DIR, default results/published/) next to "
                        "the measured ones, with the difference and the source")
    p.add_argument("--log-to", metavar="TRACKERS",
                   help="also log each record to experiment trackers: mlflow, tensorboard, wandb (comma-separated; "
                        "instead of the suite's logging.to); all write under --output-dir, W&B offline")
    p.set_defaults(func=cmd_run)


def _batch_size(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of samples or auto, got {text!r}") from None


def _add_check(sub: Any) -> None:
    p = sub.add_parser("check", help="validate a suite and list the code, components and files it would use",
                       description="Validate a suite without running anything, and list every key that imports or "
                                   "executes code (factories, trust_remote_code, allow_pickle), every component "
                                   "with the package it comes from, and every file it names. Exit 2 if invalid.")
    p.add_argument("suite", type=Path, help="suite YAML file")
    p.add_argument("--data-root", type=Path, help="base folder for relative dataset paths in the suite")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="check the suite as 'run --set' would run it; repeatable")
    p.add_argument("--json", action="store_true", help="print the listing as JSON")
    p.set_defaults(func=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    from evalkit.suite import load_suite
    from evalkit.suite_audit import audit

    listing = audit(load_suite(args.suite, data_root=args.data_root, overrides=args.overrides))
    if args.json:
        json.dump(listing, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    print(f"suite {terminal_safe(listing['suite'])}: valid")
    print(f"\ncode it would run ({len(listing['code'])}):" if listing["code"] else "\ncode it would run: none")
    if listing["code"]:
        print(render_table([{"field": c["field"], "value": c["value"], "effect": c["effect"],
                             "module file": c.get("module_file")} for c in listing["code"]]))
    print("\ncomponents:")
    print(render_table(listing["components"]))
    print(f"\nfiles ({len(listing['files'])}):")
    print(render_table(listing["files"]) if listing["files"] else "(none)")
    return 0


def _check_output_dir(path: Path) -> None:
    """An output folder that cannot be one is bad input, found before anything runs (so nothing is lost)."""
    import os

    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if path.exists() and not path.is_dir():
        raise InputError(f"{path} is a file, not a folder", field="output-dir")
    if existing is not None and existing.is_dir() and not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"cannot write into {existing}", field="output-dir")


def cmd_run(args: argparse.Namespace) -> int:
    from evalkit import distributed

    try:
        return _run(args)
    finally:
        distributed.shutdown()


def _run(args: argparse.Namespace) -> int:
    from evalkit.distributed import is_main_process
    from evalkit.runner import run_suite
    from evalkit.shards import parse_shard
    from evalkit.models.base import display_label
    from evalkit.suite import load_suite, with_runtime

    suite = load_suite(args.suite, data_root=args.data_root, overrides=args.overrides)
    if args.no_code:
        from evalkit.suite_audit import refuse_code

        refuse_code(suite)
    _check_output_dir(args.output_dir)
    overrides = {k: v for k, v in {
        "device": args.device, "precision": args.precision, "batch_size": args.batch_size,
        "workers": args.workers, "limit": args.limit, "ci": args.ci or None,
        "progress": False if args.no_progress else None,
    }.items() if v is not None}
    if any(isinstance(v, int) and v < 1 for v in (args.limit, args.batch_size, args.cache_chunk)):
        raise InputError("--limit, --batch-size and --cache-chunk must be positive")
    suite = with_runtime(suite, **overrides)
    if args.model:
        known = {display_label(m.name, m.options) for e in suite.evaluations for m in e.models} | {
            m.name for e in suite.evaluations for m in e.models}
        missing = [m for m in args.model if m not in known]
        if missing:
            raise InputError(f"--model {missing[0]!r} is not in this suite (models: {', '.join(sorted(known))})",
                             file=args.suite, field="models")
    shard = parse_shard(args.shard) if args.shard else None
    if args.resume and args.no_cache:
        raise InputError("--resume needs the prediction cache; drop --no-cache")
    trackers = _trackers(suite, args, shard)
    published = None
    if args.compare_published is not None:
        from evalkit.reports.published import read_published

        published = read_published(args.compare_published)
    results = run_suite(suite, output_dir=args.output_dir, models=args.model, shard=shard,
                        cache=not args.no_cache, resume=args.resume, cache_chunk=args.cache_chunk)
    if not is_main_process():
        return 0
    if shard is not None:
        for r in results:
            print(terminal_safe(f"part: {r.path}" if r.path else f"part of {r.record['model']['name']}: not written"))
        print(f"merge all {shard[1]} shards with: evalkit merge PARTS... --output-dir DIR")
        return 0
    print_results(results, args)
    if published is not None:
        _print_published(results, published, sys.stderr if args.json else sys.stdout)
    if trackers is not None:
        from evalkit.trackers import log_results

        for line in log_results(results, trackers, args.output_dir, suite.name):
            print(terminal_safe(line), file=sys.stderr if args.json else sys.stdout)
    return 0


def _print_published(results: Sequence[Any], published: list[dict[str, Any]], out: Any) -> None:
    """``--compare-published``: the published numbers of the runs' models next to the measured ones."""
    from evalkit.reports.published import compare

    rows = compare([r.record for r in results], published)
    print("== published numbers ==", file=out)
    print(render_table(rows) if rows else "no published number for these models and metrics "
          "(runs with random weights never have one)", file=out)
    print(file=out)


def _trackers(suite: Any, args: argparse.Namespace, shard: tuple[int, int] | None) -> Any:
    """The trackers to log to (``--log-to``, else the suite's ``logging:``), checked before the run; shard runs
    write parts, not records, so they log nothing."""
    from evalkit.trackers import plan

    trackers = plan(suite.logging, args.log_to)
    if trackers is not None and shard is not None:
        if args.log_to is not None:
            raise InputError("--shard writes partial state files, not records: drop --log-to (trackers log records)",
                             field="log-to")
        print("evalkit: note: the suite's logging: trackers log records; --shard writes parts, so nothing is logged",
              file=sys.stderr)
        return None
    return trackers


def print_results(results: Sequence[Any], args: argparse.Namespace) -> None:
    """The records as JSON (``--json``), or a table per evaluation with notes and input-pipeline hints."""
    if args.json:
        records = [r.record for r in results]
        json.dump(records[0] if len(records) == 1 else records, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        by_evaluation: dict[str, list[dict[str, Any]]] = {}
        for r in results:
            by_evaluation.setdefault(r.record["suite"]["evaluation"], []).append(_summary_row(r.record))
        signatures: dict[str, set[str]] = {}
        for r in results:
            main = r.record["main_metric"]
            for name, keys in (r.record.get("metric_keys") or {}).items():
                if main in keys:
                    signatures.setdefault(r.record["suite"]["evaluation"], set()).add(
                        r.record["signatures"][name]["text"])
        for evaluation, rows in by_evaluation.items():
            print(f"\n== {terminal_safe(evaluation)} ==")
            print(render_table(rows))
            for signature in sorted(signatures.get(evaluation, ())):
                print(terminal_safe(f"signature: {signature}"))
        print()
        notes = {n for r in results for n in r.record["notes"]}
        for note in sorted(notes):
            print(terminal_safe(f"note: {note}"))
        hints = [r for r in results if (r.record["timing"].get("data_wait_fraction") or 0) > 0.3]
        for r in hints:
            print(f"hint: {terminal_safe(r.record['model']['name'])} spent {r.record['timing']['data_wait_fraction']:.0%} of its "
                  "time waiting for data; raise runtime.workers (--workers) or enable pin_memory", file=sys.stderr)
        if args.output_dir:
            print(f"records: {args.output_dir}/ ({len(results)} written)")


def _add_merge(sub: Any) -> None:
    p = sub.add_parser("merge", help="combine the partial state files of 'run --shard I/N' into run records",
                       description="Merge the partial state files of every shard of a run into the record that a "
                                   "single run gives (same metrics). Files of several runs may be mixed.")
    p.add_argument("parts", type=Path, nargs="+", metavar="PART", help="*.part.json.gz files, all N shards")
    p.add_argument("--output-dir", type=Path, default=RUNS_DIR, help="where records go (default results/runs/)")
    p.add_argument("--json", action="store_true", help="print the records as JSON on stdout")
    p.set_defaults(func=cmd_merge)


def _add_rescore(sub: Any) -> None:
    p = sub.add_parser("rescore", help="recompute a run's metrics from its prediction cache, without the model",
                       description="Recompute metrics (other metrics, options or intervals) from the prediction "
                                   "cache of a finished run: RUN_DIR is results/runs/.cache/<key>/ (the record's "
                                   "'cache_dirs'); give every rank's folder, in rank order, for distributed runs.")
    p.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR", help="prediction cache folder(s)")
    p.add_argument("--metric", action="append", metavar="NAME[:JSON]",
                   help="metric to compute instead of the run's, with options as JSON, e.g. "
                        "'bleu:{\"tokenize\": \"intl\"}'; repeatable")
    p.add_argument("--bootstrap", "--ci", dest="ci", action="store_true",
                   help="add 95%% bootstrap confidence intervals (--ci is an alias)")
    p.add_argument("--output-dir", type=Path, default=RUNS_DIR, help="where the record goes")
    p.add_argument("--json", action="store_true", help="print the record as JSON on stdout")
    p.set_defaults(func=cmd_rescore)


def cmd_rescore(args: argparse.Namespace) -> int:
    from evalkit.recompute import rescore_caches

    specs = [_metric_spec(text) for text in args.metric] if args.metric else None
    _check_output_dir(args.output_dir)
    print_results([rescore_caches(args.run_dirs, args.output_dir, specs, ci=True if args.ci else None)], args)
    return 0


def _metric_spec(text: str) -> tuple[str, dict[str, Any]]:
    name, _, options = text.partition(":")
    try:
        parsed = json.loads(options) if options else {}
    except json.JSONDecodeError as err:
        raise InputError(f"--metric {text!r}: options are not JSON ({err})", field="metric") from None
    if not isinstance(parsed, dict):
        raise InputError(f"--metric {text!r}: options must be a JSON object", field="metric")
    return name, parsed


def cmd_merge(args: argparse.Namespace) -> int:
    from evalkit.recompute import merge_part_files

    _check_output_dir(args.output_dir)
    print_results(merge_part_files(args.parts, args.output_dir), args)
    return 0


def _summary_row(record: dict[str, Any]) -> dict[str, Any]:
    main = record["main_metric"]
    row = {"model": record["model"]["name"]}
    if record["model"].get("random_weights"):
        row["model"] += " (random weights)"
    row[main] = record["metrics"].get(main)
    if main in record.get("ci", {}):
        row["95% CI"] = record["ci"][main]
    row["samples"] = record["dataset"].get("num_evaluated")
    row["samples/s"] = record["timing"].get("throughput")
    row["p50 ms"] = (record["timing"].get("latency_ms") or {}).get("p50")
    return row


def _add_list(sub: Any) -> None:
    p = sub.add_parser("list", help="list registered tasks, datasets, model adapters, metrics and scorers")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=cmd_list)


def cmd_list(args: argparse.Namespace) -> int:
    from evalkit.registry import DATASETS, METRICS, MODELS, SCORERS, TASKS

    listing = {"tasks": TASKS.names(), "datasets": DATASETS.names(), "models": MODELS.names(),
               "metrics": METRICS.names(), "scorers": SCORERS.names()}
    if args.json:
        print(json.dumps(listing, indent=2))
    else:
        for kind, names in listing.items():
            print(f"{kind}: {', '.join(names)}")
    return 0


def _add_score(sub: Any, only: str | None = None) -> None:
    """``score`` and one subcommand per scorer; with ``only``, that scorer's alone (imports only its module)."""
    from evalkit.registry import SCORERS

    p = sub.add_parser("score", help="score prediction files with no model (like the sacrebleu CLI)",
                       description="Score prediction files against references; exit status 2 on bad input.")
    scorers = p.add_subparsers(dest="scorer", metavar="METRIC", required=True)
    for name in [only] if only is not None else SCORERS.names():
        scorer = SCORERS.get(name)
        text = scorer.help.replace("%", "%%")  # argparse formats help strings with %
        sp = scorers.add_parser(name, help=text, description=text)
        scorer.add_arguments(sp)
        sp.add_argument("--json", action="store_true",
                        help="print the result as JSON on stdout: one object, or an array for several systems")
        sp.add_argument("--bootstrap", "--ci", dest="ci", action="store_true",
                        help="add 95%% bootstrap confidence intervals (--ci is an alias)")
        sp.add_argument("--n-resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
        sp.add_argument("--seed", type=int, default=12345, help="bootstrap seed (default 12345)")
        sp.set_defaults(func=cmd_score, scorer_class=scorer)


def cmd_score(args: argparse.Namespace) -> int:
    result = args.scorer_class().score(args)
    if isinstance(result, list) and len(result) == 1:
        result = result[0]  # one system: one object, as `evalkit run --json` prints one record
    if args.json:
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        rows = result if isinstance(result, list) else [result]
        print(render_table([{k: v for k, v in row.items() if not isinstance(v, dict) and k != "metric_signature"}
                            for row in rows]))
        signatures = {str(s) for row in rows for s in _as_list(row.get("metric_signature"))}
        for signature in sorted(signatures):
            print(terminal_safe(f"signature: {signature}"))
    return 0


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value.values()) if isinstance(value, dict) else [value]


CORE_COMMANDS = ("run", "score", "list", "merge", "rescore", "check")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; given ``argv``, only what parsing that command line needs.

    ``evalkit score vqa ...`` then builds the ``vqa`` scorer's parser alone, so it imports the VQA
    scorer and nothing of the others (no numba through the analogy scorer); the ``report`` and
    ``leaderboard`` commands are added only when asked for, or for ``evalkit --help``. Without a
    recognised command (``--help``, a typo, ``score --help``, an unknown scorer) the parser is whole,
    so usage messages and errors list every choice.
    """
    import evalkit

    command, scorer = _selected(argv)
    parser = argparse.ArgumentParser(
        prog="evalkit", description="Evaluate models on classic benchmarks with the official tools' numbers.")
    parser.add_argument("--version", action="version", version=f"evalkit {evalkit.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parser.add_argument("--debug", action="store_true", help="print the traceback of an error (anywhere on the line)")
    _add_run(sub)
    _add_check(sub)
    _add_score(sub, only=scorer)
    _add_list(sub)
    _add_merge(sub)
    _add_rescore(sub)
    if command is None:
        _add_optional_commands(sub)
    return parser


def _selected(argv: Sequence[str] | None) -> tuple[str | None, str | None]:
    """(core command, built-in scorer) that ``argv`` certainly runs, else None for each."""
    if not argv or argv[0] not in CORE_COMMANDS:
        return None, None
    if argv[0] != "score" or len(argv) < 2:
        return argv[0], None
    from evalkit.registry import SCORERS

    name = argv[1]
    return "score", (name if SCORERS.builtin_module(name) is not None and name in SCORERS else None)


def _add_optional_commands(sub: Any) -> None:
    """Commands that live in their own packages (reports, distributed merge)."""
    try:
        from evalkit.reports import cli as report_cli
    except ImportError:
        return
    for name in ("add_report_parser", "add_leaderboard_parser"):
        if hasattr(report_cli, name):
            getattr(report_cli, name)(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 on success, 2 for bad input (one line naming file, record and field), 1 for a failure of the
    machine (disk full, permissions) or of evalkit; a traceback only with ``--debug``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except EvalkitError as err:
        return _fail(f"evalkit: error: {err}", err.exit_code, debug)
    except KeyboardInterrupt:
        print("evalkit: interrupted", file=sys.stderr)
        return 130
    except OSError as err:  # the machine, not the input: a full disk, a lost mount, a permission
        where = f": {err.filename}" if err.filename else ""
        return _fail(f"evalkit: error: {err.strerror or err}{where}", 1, debug)
    except Exception as err:  # noqa: BLE001 - evalkit's own failure: one line, the traceback on request
        return _fail(f"evalkit: internal error: {type(err).__name__}: {err} (run again with --debug for the "
                     "traceback, and please report it)", 1, debug)


def run() -> None:
    """The ``evalkit`` command and ``python -m evalkit``: :func:`main`, then exit. The process ends there, so the
    interpreter's last collections need not walk what is left (numba's ~100k objects cost ~0.2 s); a finalizer of
    an object in a cycle is not guaranteed to run at exit anyway."""
    import atexit
    import gc

    atexit.register(gc.freeze)
    raise SystemExit(main())


def _fail(message: str, code: int, debug: bool) -> int:
    print(terminal_safe(message), file=sys.stderr)
    if debug:
        traceback.print_exc()
    return code
