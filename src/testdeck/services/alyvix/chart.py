"""The measures chart: run durations over time against the warning and critical thresholds.

Why our own plot and not textual-plotext: textual-plotext 1.0.1 (the latest,
2024-11) was built for Textual 0.86-1.x and pins plotext < 6; nothing says it
works on the pinned textual==8.2.8, and plotext draws braille dots whose
meaning rests on colour. This plot is a pure function of the runs and the
window (deterministic in snapshots), one glyph per time bucket whose shape
says the run's state (• ok, ▲ warning, ✖ critical, ? unknown) and threshold
lines drawn with different characters (┄ warning, ━ critical), so it reads the
same with NO_COLOR or 16 colours. Imported only when a measures screen opens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

GLYPH = {0: "•", 1: "▲", 2: "✖", 3: "?"}
STYLE = {0: "green", 1: "yellow", 2: "bold red", 3: "dim"}
AXIS = 7  # columns of the y labels


def seconds(ms: float) -> str:
    s = ms / 1000
    return f"{s:.0f}s" if s >= 100 else f"{s:.1f}s"


def thresholds(runs: list[Any]) -> tuple[float | None, float | None]:
    """Σ of the transactions' warning and critical thresholds of the newest run that has them."""
    for run in sorted(runs, key=lambda r: r.time or 0, reverse=True):
        warn = [t.transaction_warning_ms for t in run.transactions if t.transaction_warning_ms is not None]
        crit = [t.transaction_critical_ms for t in run.transactions if t.transaction_critical_ms is not None]
        if warn or crit:
            return (sum(warn) if warn else None), (sum(crit) if crit else None)
    return None, None


def _clock(epoch: float, span: float) -> str:
    when = dt.datetime.fromtimestamp(epoch, dt.timezone.utc)
    return when.strftime("%H:%M" if span < 86400 else "%m-%d %H:%M")


def render(runs: list[Any], since: float, until: float, width: int, height: int) -> list[Text]:
    """The chart as `height` lines of `width` cells (pure: no clock, no terminal)."""
    height = max(4, height)
    plot_w, plot_h = max(10, width - AXIS - 1), height - 2
    points = [r for r in runs if r.time is not None and r.test_case_duration_ms is not None
              and since <= r.time <= until]
    warn, crit = thresholds(runs)
    top = max([r.test_case_duration_ms for r in points] + [x for x in (warn, crit) if x] + [1000]) * 1.1
    span = max(1.0, until - since)

    def row_of(ms: float) -> int:  # 0 = top line of the plot
        return plot_h - 1 - min(plot_h - 1, int(ms / top * (plot_h - 1) + 0.5))

    grid: list[list[tuple[str, str]]] = [[(" ", "")] * plot_w for _ in range(plot_h)]
    for ms, char, style in ((warn, "┄", "yellow"), (crit, "━", "red")):
        if ms:
            grid[row_of(ms)] = [(char, style)] * plot_w
    buckets: dict[int, Any] = {}
    for run in points:
        col = min(plot_w - 1, int((run.time - since) / span * plot_w))
        best = buckets.get(col)
        state = run.test_case_state if run.test_case_state in GLYPH else 3
        if best is None or (state, run.test_case_duration_ms) > (best[0], best[1]):
            buckets[col] = (state, run.test_case_duration_ms)
    for col, (state, ms) in buckets.items():
        grid[row_of(ms)][col] = (GLYPH[state], STYLE[state])

    labels = {0: seconds(top), plot_h - 1: "0s"}
    for ms, tag in ((warn, "w"), (crit, "c")):
        if ms:
            labels[row_of(ms)] = f"{tag}{seconds(ms)}"
    lines = []
    for y, cells in enumerate(grid):
        line = Text(no_wrap=True)
        line.append(f"{labels.get(y, ''):>{AXIS - 1}} ", style="dim")
        line.append("│", style="dim")
        for char, style in cells:
            line.append(char, style=Style.parse(style) if style else None)
        lines.append(line)
    left, right = _clock(since, span), _clock(until, span)
    axis = Text(" " * AXIS + "└" + "─" * plot_w, style="dim", no_wrap=True)
    lines.append(axis)
    legend = Text(no_wrap=True)
    legend.append(" " * (AXIS + 1) + left, style="dim")
    key = " • ok ▲ warn ✖ crit  ┄ Σwarn ━ Σcrit "
    gap = plot_w - len(left) - len(right) - len(key)
    if gap >= 2:
        legend.append(" " * (gap // 2) + key + " " * (gap - gap // 2), style="dim")
    else:
        legend.append(" " * max(1, plot_w - len(left) - len(right)))
    legend.append(right, style="dim")
    lines.append(legend)
    if not points:
        msg = " no runs in this range "
        mid = Text(" " * (AXIS + 1 + max(0, (plot_w - len(msg)) // 2)) + msg, no_wrap=True)
        lines[plot_h // 2] = mid
    return lines


class RunChart(Static):
    """Above the runs table: fed with each refresh's runs and the time window."""

    DEFAULT_CSS = """
    RunChart { height: 8; padding: 0 1 0 0; }
    """

    def __init__(self, window: Callable[[Any], tuple[float, float]]) -> None:
        super().__init__("", id="run-chart")
        self.window_of = window
        self.runs: list[Any] = []
        self.window: tuple[float, float] | None = None  # none before the first good refresh: no chart yet
        self.lines: list[Text] = []

    def on_mount(self) -> None:
        self.styles.height = 12 if self.app.size.height >= 36 else 8  # a taller trend on a taller terminal
        self.display = self.window is not None  # hidden until a test case's runs are read

    def show_records(self, records: list[Any], ctx: Any) -> None:
        """Called by the resource screen after each good refresh (stale data keeps the last chart)."""
        self.runs, self.window = list(records), self.window_of(ctx)
        self.display = True
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        width, height = self.content_size.width, self.content_size.height
        if width <= 0 or height <= 0 or self.window is None:  # (an empty 00:00-00:00 axis said nothing true)
            return
        self.lines = render(self.runs, *self.window, width, height)
        self.update(Text("\n").join(self.lines))

    @property
    def plain(self) -> str:
        """What the chart shows, as text (tests)."""
        return "\n".join(line.plain for line in self.lines)
