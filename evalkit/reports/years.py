"""Error (or score) over the years: shipped or user-supplied history plus the user's own dated runs.

The history is one tidy table (year, label, metric, value, kind, status, ...). The
"winners" of a year are the best competition entries (confirmed values preferred),
so the line follows the ILSVRC winners and not ensembles published later.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from dataclasses import dataclass, field
from typing import Iterable

import pandas as pd

from evalkit.errors import InputError

#: columns of every over-years table, in order
COLUMNS = ["year", "metric", "value", "label", "kind", "status", "winner", "extra_data", "protocol", "source"]
COMPETITION, MODEL, RUN = "competition entry", "published model", "your run"
#: Russakovsky et al., IJCV 2015: estimated human top-5 error on ILSVRC (percent)
HUMAN_TOP5_ERROR = 5.1
IMAGENET_METRICS = ("top5_error", "top1_error")
#: columns a history CSV may have (the shipped tables use all of them); the first four are required
HISTORY_COLUMNS = ("year", "label", "metric", "value", "kind", "status", "extra_data", "protocol", "source", "note")
STATUSES = ("confirmed", "unverified")
KINDS = {COMPETITION: COMPETITION, "competition": COMPETITION, MODEL: MODEL, "model": MODEL}
YEARS = (1950, 2100)


@dataclass(frozen=True)
class RunMetric:
    """Where a history metric comes from in a run record: its key, a scale to the papers' unit, and when it applies."""

    key: str
    scale: float = 1.0
    #: the record's metric_names must contain this one (e.g. ``coco-segm``) — unless it lists none
    needs: str | None = None
    #: ... or be exactly this list (a coco run with only ``coco-bbox`` reports box AP as ``AP``)
    only: str | None = None


@dataclass(frozen=True)
class HistoryTask:
    """A benchmark with a shipped, sourced history (evalkit/data/history/SOURCES.md)."""

    name: str
    task: str                       #: the evalkit task whose runs are placed on the curves
    title: str
    file: str
    metrics: tuple[str, ...]
    titles: dict[str, str]
    higher_is_better: dict[str, bool]
    runs: dict[str, tuple[RunMetric, ...]]
    aliases: tuple[str, ...] = ()
    #: metric → (value, citation) of a published human reference
    human: dict[str, tuple[float, str]] = field(default_factory=dict)


HISTORIES: dict[str, HistoryTask] = {h.name: h for h in (
    HistoryTask("coco", "coco", "COCO instance segmentation", "coco_history.csv", ("mask_AP", "box_AP"),
                {"mask_AP": "mask AP (%)", "box_AP": "box AP (%)"}, {"mask_AP": True, "box_AP": True},
                {"mask_AP": (RunMetric("AP", 100.0, needs="coco-segm"),),
                 "box_AP": (RunMetric("coco-bbox.AP", 100.0), RunMetric("AP", 100.0, only="coco-bbox"))}),
    HistoryTask("wmt14-en-de", "translation", "WMT14 English→German", "wmt14_en_de_history.csv", ("BLEU",),
                {"BLEU": "BLEU"}, {"BLEU": True}, {"BLEU": (RunMetric("BLEU"),)}, aliases=("wmt14",)),
    HistoryTask("vqa", "vqa", "VQA v2", "vqa_v2_history.csv", ("vqa_accuracy",), {"vqa_accuracy": "VQA accuracy (%)"},
                {"vqa_accuracy": True}, {"vqa_accuracy": (RunMetric("overall"),)}, aliases=("vqa-v2",)),
    HistoryTask("captions", "captions", "COCO Captions", "coco_captions_history.csv", ("CIDEr",),
                {"CIDEr": "CIDEr-D (×100)"}, {"CIDEr": True}, {"CIDEr": (RunMetric("CIDEr", 100.0),)},
                aliases=("coco-captions",)),
    HistoryTask("analogy", "analogy", "Word analogies (Google set)", "google_analogy_history.csv",
                ("analogy_accuracy",), {"analogy_accuracy": "analogy accuracy (%)"}, {"analogy_accuracy": True},
                {"analogy_accuracy": (RunMetric("accuracy", 100.0),)}, aliases=("google-analogy",)),
    HistoryTask("ffhq-1024", "generation", "FFHQ 1024×1024", "ffhq_1024_history.csv", ("FID",), {"FID": "FID"},
                {"FID": False}, {"FID": (RunMetric("FID"), RunMetric("fid"))}, aliases=("ffhq", "generation")),
    HistoryTask("wikitext-103", "language-modeling", "WikiText-103", "wikitext103_history.csv", ("perplexity",),
                {"perplexity": "test perplexity"}, {"perplexity": False},
                {"perplexity": (RunMetric("perplexity"), RunMetric("ppl"))}, aliases=("language-modeling", "wikitext")),
)}
#: tasks for which no comparable published history exists (SOURCES.md says why)
NO_HISTORY = {"style-transfer": "no two papers report one comparable number on one protocol; see "
                                "evalkit/data/history/SOURCES.md"}


def history_task(name: str) -> HistoryTask | None:
    """The shipped history of ``name`` (a benchmark name or alias), or None."""
    for history in HISTORIES.values():
        if name == history.name or name in history.aliases:
            return history
    return None


def benchmark_of(name: object) -> str | None:
    """The shipped history a benchmark name or alias belongs to (``imagenet`` or a key of :data:`HISTORIES`)."""
    if name == "imagenet":
        return "imagenet"
    history = history_task(name) if isinstance(name, str) else None
    return history.name if history else None


def shipped_history(history: HistoryTask) -> pd.DataFrame:
    """A shipped table, validated like a user CSV."""
    with resources.as_file(resources.files("evalkit") / "data" / "history" / history.file) as path:
        return read_history_csv(path)


def imagenet_history() -> pd.DataFrame:
    """The shipped ILSVRC entries 2010–2017 and published single-model results, errors in percent."""
    folder = resources.files("evalkit") / "data" / "history"
    with resources.as_file(folder / "ilsvrc_classification.csv") as path:
        entries = pd.read_csv(path, dtype={"extra_data": "str", "note": "str"})
    with resources.as_file(folder / "imagenet_models.csv") as path:
        models = pd.read_csv(path)
    competition = pd.DataFrame({
        "year": entries["year"], "metric": "top5_error", "value": entries["top5_error"] * 100,
        "label": entries["team"], "kind": COMPETITION, "status": entries["status"],
        "extra_data": entries["extra_data"], "protocol": entries["entry"], "source": entries["source_url"],
    })
    published = [
        pd.DataFrame({
            "year": models["year"], "metric": metric, "value": models[metric] * 100, "label": models["model"],
            "kind": MODEL, "status": "confirmed", "extra_data": None, "protocol": models["evaluation"],
            "source": models["source_url"],
        }).dropna(subset=["value"])
        for metric in IMAGENET_METRICS
    ]
    return _tidy(pd.concat([competition, *published], ignore_index=True))


def read_history_csv(path: str | Path) -> pd.DataFrame:
    """A history CSV: columns year, label, metric, value; optional kind, status, extra_data, protocol, source, note.

    ``kind`` defaults to a competition entry (its best value per year joins the winners' line)
    and ``status`` to confirmed. Unknown columns, non-numeric values, years outside 1950–2100 and
    unknown statuses or kinds are errors naming the file, the line and the column.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read history CSV: {exc}", file=path) from None
    unknown = [c for c in frame.columns if c not in HISTORY_COLUMNS]
    if unknown:
        raise InputError(f"line 1, column {unknown[0]!r}: unknown column; expected some of "
                         f"{', '.join(HISTORY_COLUMNS)}", file=path, record="row 1", field=unknown[0])
    missing = [c for c in ("year", "label", "metric", "value") if c not in frame.columns]
    if missing:
        raise InputError(f"history CSV lacks column(s) {', '.join(missing)}", file=path, field=missing[0])

    def bad(row: int, column: str, message: str) -> InputError:
        line = row + 2  # the header is line 1
        return InputError(f"line {line}, column {column!r}: {message}", file=path, record=f"row {line}",
                          field=column)

    for column in ("year", "value"):
        text = frame[column].str.strip()
        numbers = pd.to_numeric(text, errors="coerce")
        wrong = numbers.isna() | ~numbers.map(lambda v: bool(pd.notna(v) and abs(v) != float("inf")))
        if wrong.any():
            row = int(wrong.idxmax())
            raise bad(row, column, f"not a number: {frame[column][row]!r}")
        frame[column] = numbers
    outside = (frame["year"] < YEARS[0]) | (frame["year"] > YEARS[1]) | (frame["year"] % 1 != 0)
    if outside.any():
        row = int(outside.idxmax())
        raise bad(row, "year", f"year {frame['year'][row]:g} is not a whole year in {YEARS[0]}–{YEARS[1]}")
    for column in ("label", "metric"):
        empty = frame[column].str.strip() == ""
        if empty.any():
            raise bad(int(empty.idxmax()), column, "empty")
    if "status" in frame.columns:
        status = frame["status"].str.strip().replace("", "confirmed")
        wrong = ~status.isin(STATUSES)
        if wrong.any():
            row = int(wrong.idxmax())
            raise bad(row, "status", f"unknown status {frame['status'][row]!r}; expected {' or '.join(STATUSES)}")
        frame["status"] = status
    if "kind" in frame.columns:
        kind = frame["kind"].str.strip().replace("", COMPETITION)
        wrong = ~kind.isin(list(KINDS))
        if wrong.any():
            row = int(wrong.idxmax())
            raise bad(row, "kind", f"unknown kind {frame['kind'][row]!r}; expected 'competition entry' or "
                                   "'published model'")
        frame["kind"] = kind.map(KINDS)
    for column in ("extra_data", "protocol", "source", "note"):
        if column in frame.columns:
            frame[column] = frame[column].replace("", None)
    frame = frame.assign(kind=frame.get("kind", COMPETITION), status=frame.get("status", "confirmed"),
                         source=frame.get("source", str(path)))
    return _tidy(frame)


def runs_history(records: pd.DataFrame, task: str, metrics: Iterable[str] | dict[str, tuple[RunMetric, ...]],
                 benchmark: str | None = None) -> pd.DataFrame:
    """The user's runs of ``task`` as history rows, at the year their model was published.

    ``metrics`` names the record keys to take as they are, or maps each history metric to the
    record keys (and the scale to the papers' unit) it comes from.
    Runs without a year cannot be placed, and runs with random weights would only show
    chance; both are left out and named in ``attrs["left_out"]``. With ``benchmark`` (a shipped
    history's name) so are runs on other data: a run's data is the benchmark its record names
    (``dataset.benchmark``, else the suite's ``benchmark:``), and WMT17 systems never sit on WMT14's axes.
    """
    mapping = metrics if isinstance(metrics, dict) else {m: (RunMetric(m),) for m in metrics}
    task_runs = records[records["task"] == task]
    parts = []
    for metric, sources in mapping.items():
        taken = pd.Series(False, index=task_runs.index)
        for source in sources:
            names = task_runs["metric_names"].fillna("").astype(str).str.split(",")
            fits = task_runs["metric"].eq(source.key) & ~taken
            if source.needs:
                fits &= names.map(lambda n: source.needs in n or n == [""])
            if source.only:
                fits &= names.map(lambda n: n == [source.only])
            # one value per run and history metric: the first source that fits wins
            fits &= ~task_runs["run_id"].isin(task_runs.loc[taken, "run_id"])
            taken |= fits
        rows = task_runs[taken]
        scale = {s.key: s.scale for s in reversed(sources)}
        parts.append(rows.assign(value=rows["value"].astype(float) * rows["metric"].map(scale).astype(float),
                                metric=metric))
    runs = pd.concat(parts, ignore_index=True) if parts else task_runs.iloc[:0]
    undated = sorted(set(runs.loc[runs["model_year"].isna(), "model"]))
    random = sorted(set(runs.loc[runs["random_weights"].astype(bool), "model"]))
    runs = runs[runs["model_year"].notna() & ~runs["random_weights"].astype(bool)]
    elsewhere: list[tuple[str, str]] = []  # (model, the benchmark it ran on, "" when not known)
    if benchmark is not None:
        ran_on = runs["benchmark"].where(runs["benchmark"].notna(), runs["suite_benchmark"])
        on_it = ran_on.map(benchmark_of) == benchmark
        elsewhere = sorted(set(zip(runs.loc[~on_it, "model"], ran_on[~on_it].fillna(""))))
        runs = runs[on_it]
    frame = pd.DataFrame({
        "year": runs["model_year"], "metric": runs["metric"], "value": runs["value"],
        "label": runs["model"], "kind": RUN, "status": "measured",
        "extra_data": None, "protocol": runs["dataset"], "source": runs["file"],
    })
    tidy = _tidy(frame)
    tidy.attrs["left_out"] = ([f"{m} (no model year)" for m in undated] + [f"{m} (random weights)" for m in random]
                              + [f"{m} (ran on {data})" if data else f"{m} (its data is not known to be {benchmark}; "
                                 f"if it is, say `benchmark: {benchmark}` in its suite evaluation)" for m, data in elsewhere])
    tidy.attrs["elsewhere"] = elsewhere
    return tidy


def over_years_table(history: pd.DataFrame, runs: pd.DataFrame | None = None,
                     higher_is_better: dict[str, bool] | None = None, by_protocol: bool = False) -> pd.DataFrame:
    """History and runs in one table, with the best competition entry of every (metric, year) marked.

    Published models and runs never win: the line is the competition's, as in the ILSVRC charts.
    With ``by_protocol`` the line is instead each year's best published value (entries and models),
    one line per protocol, so that values measured differently are never joined.
    """
    parts = [history] + ([runs] if runs is not None and len(runs) else [])
    table = pd.concat(parts, ignore_index=True) if len(parts) > 1 else history.copy()
    table["winner"] = False
    kinds = [COMPETITION, MODEL] if by_protocol else [COMPETITION]
    keys = ["metric", "protocol"] if by_protocol else ["metric"]
    for key, pool in table[table["kind"].isin(kinds)].groupby(keys, dropna=False):
        metric = key[0] if isinstance(key, tuple) else key
        higher = (higher_is_better or {}).get(metric, not str(metric).endswith("error"))
        for _, year_rows in pool.groupby("year"):
            confirmed = year_rows[year_rows["status"] == "confirmed"]
            candidates = confirmed if len(confirmed) else year_rows
            best = candidates["value"].idxmax() if higher else candidates["value"].idxmin()
            table.loc[best, "winner"] = True
    table = _tidy(table)
    table.attrs["left_out"] = runs.attrs.get("left_out", []) if runs is not None else []
    table.attrs["elsewhere"] = runs.attrs.get("elsewhere", []) if runs is not None else []
    return table


def winners(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The winners' line of one metric: one row per year, in year order."""
    return table[(table["metric"] == metric) & table["winner"]].sort_values("year")


def lines(table: pd.DataFrame, metric: str) -> dict[str, pd.DataFrame]:
    """The winners' lines of one metric, one per protocol (a table made with ``by_protocol``)."""
    best = winners(table, metric)
    return {("protocol not given" if pd.isna(p) else str(p)): rows
            for p, rows in best.groupby("protocol", sort=True, dropna=False)}


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reindex(columns=COLUMNS).copy()
    frame["year"] = frame["year"].astype("int64")
    frame["value"] = frame["value"].astype("float64").round(6)
    frame["winner"] = frame["winner"].fillna(False).astype(bool)
    for column in ("metric", "label", "kind", "status", "extra_data", "protocol", "source"):
        frame[column] = frame[column].astype("str")  # one missing value (NaN), whatever the source
    order = {COMPETITION: 0, MODEL: 1, RUN: 2}
    frame = frame.sort_values(["metric", "year", "kind", "value", "label"],
                              key=lambda s: s.map(order) if s.name == "kind" else s, kind="stable")
    return frame.reset_index(drop=True)
