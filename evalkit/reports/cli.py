"""argparse wiring of ``evalkit report`` and ``evalkit leaderboard``; evalkit/cli.py adds them."""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from evalkit.records import RUNS_DIR
from evalkit.reports.config import DEFAULTS, report_config


def add_report_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "report", help="tables, plots, paired comparisons and index.html from run records",
        description="Write per-task leaderboards (Markdown, HTML), speed/accuracy plots, paired comparisons "
                    "and one self-contained index.html from the run records under RESULTS_DIR. Settings not given "
                    "here come from --config, else reports/default.yaml when it exists, else the defaults shown.")
    parser.add_argument("results", nargs="?", metavar="RESULTS_DIR",
                        help="folder of run records (default: results/runs)")
    parser.add_argument("--config", metavar="YAML", help="report configuration (default: reports/default.yaml)")
    parser.add_argument("--out", help="output folder (default: reports/generated)")
    parser.add_argument("--resamples", type=int, help="paired bootstrap resamples (default: 1000)")
    parser.add_argument("--seed", type=int, help="paired bootstrap seed (default: 12345)")
    parser.set_defaults(func=run_report)
    return parser


def add_leaderboard_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "leaderboard", help="a task's leaderboard, or its error over the years (--over-years)",
        description="Print the leaderboard of TASK from the run records, or with --over-years draw the "
                    "history of the task with your dated runs: shipped for imagenet, coco, wmt14-en-de, vqa, captions, "
                    "analogy, ffhq-1024 and wikitext-103, plus any --history CSV.")
    parser.add_argument("task", help="task or benchmark name, e.g. imagenet, coco, wmt14-en-de, wikitext-103")
    parser.add_argument("--over-years", action="store_true", help="draw the metric against the year")
    parser.add_argument("--results", default=str(RUNS_DIR), help="folder of run records (default: results/runs)")
    parser.add_argument("--out", default=str(DEFAULTS["out"]), help="output folder (default: reports/generated)")
    parser.add_argument("--history", action="append", default=[], metavar="CSV",
                        help="history CSV (year,label,metric,value[,kind,status,extra_data,protocol,source,note]); "
                             "repeatable")
    parser.set_defaults(func=run_leaderboard)
    return parser


def run_report(args: argparse.Namespace) -> int:
    from evalkit.reports.report import write_report

    config = report_config(args.config)
    given = {k: v for k, v in {"results": args.results, "out": args.out, "resamples": args.resamples,
                               "seed": args.seed}.items() if v is not None}
    config.update(given)
    index = write_report(config["results"], config["out"], n_resamples=config["resamples"], seed=config["seed"])
    print(f"wrote {index}")
    return 0


def run_leaderboard(args: argparse.Namespace) -> int:
    from evalkit.reports.frames import load_records
    from evalkit.reports.leaderboard import display_table, leaderboards, to_markdown

    records = None
    if Path(args.results).exists():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            records = load_records(args.results)
        for warning in caught:
            print(f"warning: {warning.message}", file=sys.stderr)
    if args.over_years:
        from evalkit.reports.overyears import write_over_years

        result = write_over_years(args.task, records, Path(args.out) / args.task, args.history)
        print("\n".join(f"wrote {p}" for p in result.files))
        return 0
    boards = [b for b in leaderboards(records) if b.task == args.task] if records is not None else []
    if not boards:
        print(f"no runs of task {args.task!r} under {args.results}", file=sys.stderr)
        return 1
    for board in boards:
        print(f"## {board.title}\n\n{to_markdown(display_table(board))}")
    return 0
