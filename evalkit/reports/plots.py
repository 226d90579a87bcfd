"""matplotlib figures of the reports (Agg backend: no display is ever needed).

Every artist carries a ``label`` or ``gid`` so that tests can read the data back
from the figure instead of trusting the picture.
"""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter, ScalarFormatter  # noqa: E402

from evalkit.reports import years  # noqa: E402
from evalkit.records import write_bytes_atomic  # noqa: E402

#: (kind, status) → marker style; hollow markers are values not confirmed by a primary source
STYLES = {
    (years.COMPETITION, "confirmed"): dict(marker="o", color="tab:blue", filled=True),
    (years.COMPETITION, "unverified"): dict(marker="o", color="tab:blue", filled=False),
    (years.MODEL, "confirmed"): dict(marker="s", color="tab:green", filled=True),
    (years.MODEL, "unverified"): dict(marker="s", color="tab:green", filled=False),
    (years.RUN, "measured"): dict(marker="*", color="tab:red", filled=True),
}
#: horizontal offset (years) per kind, so that entries and published models of one year do not hide each other
DODGE = {years.COMPETITION: -0.15, years.MODEL: 0.15, years.RUN: 0.0}
METRIC_TITLES = {"top5_error": "top-5 error (%)", "top1_error": "top-1 error (%)"}


def save_figure(fig: Figure, stem: Path, formats: tuple[str, ...] = ("png", "svg")) -> list[Path]:
    """Save ``fig`` as ``stem.<format>`` for each format, atomically, and close it (PNG first, for embedding)."""
    paths = []
    for fmt in formats:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=110, bbox_inches="tight", metadata=_metadata(fmt))
        paths.append(write_bytes_atomic(stem.with_suffix(f".{fmt}"), buffer.getvalue()))
    plt.close(fig)
    return paths


def _metadata(fmt: str) -> dict[str, object]:
    # no creation dates: the same data gives byte-identical files
    return {"svg": {"Date": None}, "png": {}, "pdf": {"CreationDate": None}}.get(fmt, {})


#: line styles of the protocols of one panel, in the order of their names
PROTOCOL_STYLES = [dict(color="black", linestyle="-"), dict(color="tab:orange", linestyle="--"),
                   dict(color="tab:purple", linestyle=":"), dict(color="tab:brown", linestyle="-."),
                   dict(color="tab:gray", linestyle=(0, (5, 1, 1, 1)))]


def over_years_figure(table: pd.DataFrame, title: str, metrics: list[str] | None = None,
                      human_top5: float | None = None, higher_is_better: dict[str, bool] | None = None) -> Figure:
    """One panel per metric: every entry as a point, winners joined by a line, the user's runs labelled.

    A table made ``by_protocol`` gets one line per protocol, each with its own style and legend entry.
    """
    metrics = metrics or list(dict.fromkeys(table["metric"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(6.4 * len(metrics), 5.2), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        draw_panel(ax, table, metric, title, higher_is_better, human_top5)
    fig.tight_layout()
    return fig


def overview_figure(panels: list[tuple[str, pd.DataFrame, str]], columns: int = 4) -> Figure:
    """Small multiples: one small panel per (title, over-years table, metric), with the user's runs on them."""
    rows = max(1, -(-len(panels) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False)
    for ax, (title, table, metric) in zip(axes.flat, panels):
        human = years.HUMAN_TOP5_ERROR if metric == "top5_error" else None
        draw_panel(ax, table, metric, title, table.attrs.get("directions"), human, small=True)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def draw_panel(ax, table: pd.DataFrame, metric: str, title: str, higher_is_better: dict[str, bool] | None = None,
               human_top5: float | None = None, small: bool = False) -> None:
    """One metric of an over-years table on ``ax``; artists carry gids for the tests."""
    directions = higher_is_better or {}
    titles = {**METRIC_TITLES, **table.attrs.get("titles", {})}
    rows = table[table["metric"] == metric]
    for (kind, status), style in STYLES.items():
        points = rows[(rows["kind"] == kind) & (rows["status"] == status)]
        if len(points):
            size = (110 if kind == years.RUN else 30) * (0.6 if small else 1)
            ax.scatter(points["year"] + DODGE[kind], points["value"], marker=style["marker"],
                       s=size, alpha=0.6 if kind == years.MODEL else 1.0,
                       facecolors=style["color"] if style["filled"] else "none", edgecolors=style["color"],
                       linewidths=1.2, zorder=3 if kind == years.RUN else 2, label=f"{kind} ({status})",
                       gid=f"{kind}|{status}")
    higher = directions.get(metric, not metric.endswith("error"))
    if table.attrs.get("by_protocol"):
        # one style per protocol across all panels of the table
        order = sorted({p for m in dict.fromkeys(table["metric"]) for p in years.lines(table, m)})
        segments = [(f"winners|{p}", f"best per year: {p}", PROTOCOL_STYLES[order.index(p) % len(PROTOCOL_STYLES)],
                     best) for p, best in years.lines(table, metric).items()]
    else:
        segments = [("winners", "competition winners", PROTOCOL_STYLES[0], years.winners(table, metric))]
    for gid, label, style, best in segments:
        if not len(best):
            continue
        x = best["year"] + best["kind"].map(DODGE)
        ax.plot(x, best["value"], linewidth=1.4, zorder=1, label=label, gid=gid, marker=None, **style)
        if small:
            continue
        for xi, (_, row) in zip(x, best.iterrows()):  # winners are the edge of the cloud: label outside it
            ax.annotate(row["label"], (xi, row["value"]), xytext=(-3, 4 if higher else -4),
                        textcoords="offset points", fontsize=7, color="0.2", ha="right",
                        va="bottom" if higher else "top")
    _label_runs(ax, rows[rows["kind"] == years.RUN], fontsize=6 if small else 8)
    human = dict(table.attrs.get("human", {}))
    if human_top5 is not None:
        human["top5_error"] = (human_top5, "Russakovsky et al.")
    if metric in human:
        value, who = human[metric]
        ax.axhline(value, color="tab:purple", linestyle="--", linewidth=1,
                   label=f"human estimate {value:g}% ({who})", gid="human")
    name = titles.get(metric, metric)
    ax.set_title(f"{title}: {name}", fontsize=9 if small else None)
    ax.set_xlabel("year", fontsize=8 if small else None)
    ax.set_ylabel(name, fontsize=8 if small else None)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(rows):  # a one-year panel would otherwise span a century
        ax.set_xlim(min(ax.get_xlim()[0], rows["year"].min() - 0.8) if len(set(rows["year"])) > 1
                    else rows["year"].min() - 1.5, rows["year"].max() + (0.8 if len(set(rows["year"])) > 1 else 1.5))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if small:
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=5, loc="best")
    else:
        ax.legend(fontsize=7, loc="best")


def _label_runs(ax, runs: pd.DataFrame, fontsize: int = 8) -> None:
    """Name each run beside its star, pushing labels of one year apart so that they stay readable."""
    low, high = ax.get_ylim()
    gap = 0.045 * (max(high, runs["value"].max() if len(runs) else high) - min(low, 0))
    for _, year_runs in runs.groupby("year"):
        placed = float("-inf")
        for _, row in year_runs.sort_values("value").iterrows():
            placed = max(row["value"], placed + gap)
            color = STYLES[(years.RUN, row["status"])]["color"]
            moved = placed - row["value"] > gap / 4
            ax.annotate(row["label"], (row["year"], row["value"]), xytext=(9, placed),
                        textcoords=("offset points", "data"), fontsize=fontsize, va="center", fontweight="bold", color=color,
                        arrowprops=dict(arrowstyle="-", color=color, linewidth=0.6, shrinkA=0, shrinkB=4)
                        if moved else None)


def plottable_speed(board: pd.DataFrame) -> pd.DataFrame:
    """The runs a speed/accuracy plot can show: a model that ran (not a predictions file), trained weights, a
    throughput and a value."""
    ran = board["runs_model"].astype(bool) if "runs_model" in board else True
    return board[~board["random_weights"].astype(bool) & ran].dropna(subset=["throughput", "value"])


def speed_accuracy_figure(board: pd.DataFrame, metric: str, higher_is_better: bool, title: str) -> Figure:
    """Throughput (log x) against the main metric, one labelled point per run, with its 95% CI.

    Runs with random weights are left out: their accuracy is chance and would squash the axis.
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    timed = plottable_speed(board)
    if len(timed):
        low = (timed["value"] - timed["ci_low"]).fillna(0).clip(lower=0)
        high = (timed["ci_high"] - timed["value"]).fillna(0).clip(lower=0)
        ax.errorbar(timed["throughput"], timed["value"], yerr=[low, high], fmt="o", color="tab:blue", capsize=3,
                    gid="runs")
        for _, row in timed.iterrows():
            ax.annotate(row["system"], (row["throughput"], row["value"]), xytext=(5, 4), textcoords="offset points",
                        fontsize=8)
        ax.set_xscale("log")
        _plain_log_ticks(ax)
    else:
        ax.text(0.5, 0.5, "no run with trained weights and a recorded throughput", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("throughput (samples/s, log scale)")
    ax.set_ylabel(f"{metric} ({'higher' if higher_is_better else 'lower'} is better)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def _plain_log_ticks(ax) -> None:
    """Label a log x axis 500, 1,000, 2,000 instead of 5×10², never with overlapping labels.

    The labels are chosen from the axis width and the widest label, before drawing: majors every decade or every
    few decades (``numticks``), minor labels at all of 2…9, at 2 and 5, or none, whichever leaves a gap between
    neighbours. An axis too narrow for two such labels (120 to 130) gets evenly spaced ones instead. The axis is
    measured before ``tight_layout``, which only widens it.
    """
    low, high = ax.get_xlim()
    size = FontProperties(size=matplotlib.rcParams["xtick.labelsize"]).get_size_in_points()
    label = (max(len(_plain(v)) for v in (low, high)) + 2) * size * 0.65  # widest label plus a gap, in points
    width = ax.get_position().width * ax.figure.get_figwidth() * 72
    per_decade = width / max(np.log10(high / low), 1e-9)
    # the narrowest gap between labelled neighbours, in decades: 9 → 10 among 2…9, 1 → 2 among 2 and 5
    subs = next((s for s, gap in (((2, 3, 4, 5, 6, 7, 8, 9), np.log10(10 / 9)), ((2, 5), np.log10(2)))
                 if gap * per_decade >= label), ())
    decades = range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
    if sum(low <= m * 10.0 ** e <= high for e in decades for m in (1, *subs)) < 2:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=max(2, int(width / label)), steps=[1, 2, 2.5, 5, 10]))
        plain = ScalarFormatter(useOffset=False)
        plain.set_scientific(False)
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(NullFormatter())
        return
    ax.xaxis.set_major_locator(LogLocator(base=10, numticks=max(2, int(width / label))))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _plain(v)))
    ax.xaxis.set_minor_locator(LogLocator(base=10, subs=np.arange(2, 10), numticks=100))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: _plain(v) if _leading_digit(v) in subs else "")
                                 if subs else NullFormatter())


def _plain(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def _leading_digit(value: float) -> int:
    return int(round(value / 10 ** np.floor(np.log10(value) + 1e-9)))
