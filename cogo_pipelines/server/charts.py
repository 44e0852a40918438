"""Chart geometry for the dashboard, computed server-side so the page needs no script or
external asset: the template only draws the SVG shapes these functions lay out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUS_COLOURS = {
    "queued": "#6b7280",
    "running": "#2563eb",
    "succeeded": "#16a34a",
    "failed": "#dc2626",
    "dead": "#7c2d12",
}
STATUS_ORDER = tuple(STATUS_COLOURS)


@dataclass
class TrendPoint:
    x: float
    y: float
    score: float
    passed: bool
    label: str


@dataclass
class TrendChart:
    width: int
    height: int
    left: int
    top: int
    plot_w: int
    plot_h: int
    points: list[TrendPoint]
    path: str
    threshold: float | None
    threshold_y: float | None
    y_ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str, str]]  # x, text, text-anchor

    @property
    def empty(self) -> bool:
        return not self.points


def q1_trend(runs: list[dict[str, Any]], *, width: int = 640, height: int = 240) -> TrendChart:
    """Runs oldest → newest; y is the score in [0, 1]; runs without a score (no data) are skipped."""
    left, top, right, bottom = 44, 16, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    scored = [r for r in runs if r.get("score") is not None]
    n = len(scored)

    def y_of(v: float) -> float:
        return round(top + plot_h * (1 - max(0.0, min(1.0, v))), 1)

    points = []
    for i, r in enumerate(scored):
        x = left + (plot_w / 2 if n == 1 else plot_w * i / (n - 1))
        when = r["created_at"]
        points.append(TrendPoint(round(x, 1), y_of(float(r["score"])), float(r["score"]), bool(r["passed"]),
                                 when.strftime("%m-%d %H:%M") if hasattr(when, "strftime") else str(when)))
    path = " ".join(f"{'M' if i == 0 else 'L'}{p.x},{p.y}" for i, p in enumerate(points))
    threshold = float(runs[-1]["threshold"]) if runs else None
    labels_every = max(1, n // 6)
    x_labels = [(p.x, p.label, "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle")
                for i, p in enumerate(points) if i % labels_every == 0 or i == n - 1]
    return TrendChart(width, height, left, top, plot_w, plot_h, points, path, threshold,
                      y_of(threshold) if threshold is not None else None,
                      [(y_of(v), f"{v:.2f}") for v in (0.0, 0.25, 0.5, 0.75, 1.0)], x_labels)


@dataclass
class BarSegment:
    x: float
    width: float
    status: str
    count: int
    colour: str


@dataclass
class BarRow:
    label: str
    y: float
    total: int
    segments: list[BarSegment] = field(default_factory=list)


@dataclass
class QueueChart:
    width: int
    height: int
    left: int
    bar_h: int
    rows: list[BarRow]
    legend: list[tuple[str, str]]

    @property
    def empty(self) -> bool:
        return not self.rows


def queue_depth(depth: list[dict[str, Any]], *, width: int = 640) -> QueueChart:
    """One stacked horizontal bar per executor, one segment per status, scaled to the largest."""
    left, bar_h, gap, top = 110, 22, 12, 8
    by_executor: dict[str, dict[str, int]] = {}
    for row in depth:
        by_executor.setdefault(row["executor_id"], {})[row["status"]] = int(row["count"])
    biggest = max((sum(v.values()) for v in by_executor.values()), default=0) or 1
    plot_w = width - left - 60
    rows = []
    for i, (executor, counts) in enumerate(sorted(by_executor.items())):
        row = BarRow(executor, top + i * (bar_h + gap), sum(counts.values()))
        x = float(left)
        for status in STATUS_ORDER:
            count = counts.get(status, 0)
            if count:
                w = max(2.0, plot_w * count / biggest)
                row.segments.append(BarSegment(round(x, 1), round(w, 1), status, count, STATUS_COLOURS[status]))
                x += w
        rows.append(row)
    height = top * 2 + max(1, len(rows)) * (bar_h + gap)
    return QueueChart(width, height, left, bar_h, rows, list(STATUS_COLOURS.items()))


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"
