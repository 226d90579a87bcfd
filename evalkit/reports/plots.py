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
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter  # noqa: E402

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


def over_years_figure(table: pd.DataFrame, title: str, metrics: list[str] | None = None,
                      human_top5: float | None = None, higher_is_better: dict[str, bool] | None = None) -> Figure:
    """One panel per metric: every entry as a point, winners joined by a line, the user's runs labelled."""
    metrics = metrics or list(dict.fromkeys(table["metric"]))
    directions = higher_is_better or {}
    fig, axes = plt.subplots(1, len(metrics), figsize=(6.4 * len(metrics), 5.2), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        rows = table[table["metric"] == metric]
        for (kind, status), style in STYLES.items():
            points = rows[(rows["kind"] == kind) & (rows["status"] == status)]
            if len(points):
                ax.scatter(points["year"] + DODGE[kind], points["value"], marker=style["marker"],
                           s=110 if kind == years.RUN else 30, alpha=0.6 if kind == years.MODEL else 1.0,
                           facecolors=style["color"] if style["filled"] else "none", edgecolors=style["color"],
                           linewidths=1.2, zorder=3 if kind == years.RUN else 2, label=f"{kind} ({status})",
                           gid=f"{kind}|{status}")
        best = years.winners(table, metric)
        if len(best):
            x = best["year"] + best["kind"].map(DODGE)
            ax.plot(x, best["value"], color="black", linewidth=1.4, zorder=1, label="competition winners",
                    gid="winners")
            higher = directions.get(metric, not metric.endswith("error"))
            for xi, (_, row) in zip(x, best.iterrows()):  # winners are the edge of the cloud: label outside it
                ax.annotate(row["label"], (xi, row["value"]), xytext=(-3, 4 if higher else -4),
                            textcoords="offset points", fontsize=7, color="0.2", ha="right",
                            va="bottom" if higher else "top")
        _label_runs(ax, rows[rows["kind"] == years.RUN])
        if human_top5 is not None and metric == "top5_error":
            ax.axhline(human_top5, color="tab:purple", linestyle="--", linewidth=1,
                       label=f"human estimate {human_top5:g}% (Russakovsky et al.)", gid="human")
        ax.set_title(f"{title}: {METRIC_TITLES.get(metric, metric)}")
        ax.set_xlabel("year")
        ax.set_ylabel(METRIC_TITLES.get(metric, metric))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def _label_runs(ax, runs: pd.DataFrame) -> None:
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
                        textcoords=("offset points", "data"), fontsize=8, va="center", fontweight="bold", color=color,
                        arrowprops=dict(arrowstyle="-", color=color, linewidth=0.6, shrinkA=0, shrinkB=4)
                        if moved else None)


def plottable_speed(board: pd.DataFrame) -> pd.DataFrame:
    """The runs a speed/accuracy plot can show: trained weights, a throughput and a value."""
    return board[~board["random_weights"].astype(bool)].dropna(subset=["throughput", "value"])


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
        _plain_log_ticks(ax, timed["throughput"].min(), timed["throughput"].max())
    else:
        ax.text(0.5, 0.5, "no run with trained weights and a recorded throughput", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("throughput (samples/s, log scale)")
    ax.set_ylabel(f"{metric} ({'higher' if higher_is_better else 'lower'} is better)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def _plain_log_ticks(ax, low: float, high: float) -> None:
    """Label a log axis 500, 1,000, 2,000 instead of 5×10², and minor ticks only within one decade."""
    plain = FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(plain if high / max(low, 1e-12) < 10 else NullFormatter())
