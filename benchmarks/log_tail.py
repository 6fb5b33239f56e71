"""Benchmark: 1,000,000-line log tail through LogTail, against Textual's own widgets.

Not a test: prints figures. Run:  python benchmarks/log_tail.py [--lines N]

Every case runs in a headless App.run_test() (80x24) on this machine, in this
run, with the same generated lines (~90 chars, unique per line):

  LogTail           the widget (feed worker, 50 ms batched flush, cap 50k)
  Log.write_lines   Textual Log, one write_lines per 1,000-line batch, max_lines 50k (no wrap)
  Log.write_line    Textual Log, one write_line per line (the naive way), scaled
  RichLog.write     Textual RichLog(wrap=True), one write per line, scaled

Figures: lines/s (until every line is in the widget), longest event-loop
stall (a ticker task sleeping 1 ms records the largest gap), key latency
(a key event sent every 100 ms, time until its action runs), peak RSS growth
(sampled by the ticker) and, in a separate run, the tracemalloc peak.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from rich.text import Text  # noqa: E402
from textual import events  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import Log, RichLog  # noqa: E402

from testdeck.widgets.logtail import LogTail  # noqa: E402

BATCH = 1_000
CAP = 50_000
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


def make_batch(start: int, count: int) -> list[str]:
    return [f"2026-11-18T10:{n % 60:02d}:{n % 59:02d}.{n % 1000:03d}Z INFO  worker-{n % 8} "
            f"step {n} finished [ok] took {n % 997} ms" for n in range(start, start + count)]


async def lines_feed(total: int):
    for start in range(0, total, BATCH):
        yield make_batch(start, min(BATCH, total - start))


class Probe:
    """Ticker (stall + sampled RSS) and periodic key presses (latency)."""

    def __init__(self, app: App, on_key: list[float]) -> None:
        self.app = app
        self.max_stall = 0.0
        self.rss0 = rss()
        self.rss_peak = self.rss0
        self.key_latencies: list[float] = []
        self._handled = on_key
        self._stop = False

    async def _ticker(self) -> None:
        last = time.perf_counter()
        while not self._stop:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.max_stall = max(self.max_stall, now - last - 0.001)
            last = now
            self.rss_peak = max(self.rss_peak, rss())

    async def _keys(self, key: str) -> None:
        while not self._stop:
            await asyncio.sleep(0.1)
            count = len(self._handled)
            sent = time.perf_counter()
            self.app._driver.send_message(events.Key(key, key if len(key) == 1 else None))
            while len(self._handled) == count and not self._stop:
                await asyncio.sleep(0.0005)
            if len(self._handled) > count:
                self.key_latencies.append(self._handled[-1] - sent)

    def start(self, key: str | None) -> None:
        self._tasks = [asyncio.create_task(self._ticker())]
        if key:
            self._tasks.append(asyncio.create_task(self._keys(key)))

    async def stop(self) -> None:
        self._stop = True
        await asyncio.gather(*self._tasks)


# --- LogTail ------------------------------------------------------------------

class TailApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.done = asyncio.Event()
        self.keys: list[float] = []

    def compose(self) -> ComposeResult:
        yield LogTail(title="bench", line_cap=CAP, id="tail")

    def on_log_tail_feed_finished(self, _message) -> None:
        self.done.set()


async def bench_logtail(total: int, wrap: bool = False, probe_on: bool = True) -> dict:
    app = TailApp()
    async with app.run_test(size=(80, 24)) as pilot:
        tail = app.query_one(LogTail)
        if wrap:
            await pilot.press("w")
        tail.view.focus()
        end = tail.action_end
        tail.action_end = lambda: (app.keys.append(time.perf_counter()), end())  # "G" = jump to end
        probe = Probe(app, app.keys)
        gc.collect()
        probe.rss0 = rss()
        probe.start("G" if probe_on else None)
        t0 = time.perf_counter()
        tail.follow(lines_feed(total))
        await app.done.wait()
        elapsed = time.perf_counter() - t0
        await probe.stop()
        assert tail.received == total and tail.line_count == min(CAP, total), (tail.received, tail.line_count)
        assert tail.lines[-1] == make_batch(total - 1, 1)[0]
        return dict(n=total, secs=elapsed, stall=probe.max_stall, rss=probe.rss_peak - probe.rss0,
                    keys=probe.key_latencies)


# --- baselines -------------------------------------------------------------------

class WidgetApp(App):
    def __init__(self, widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


async def bench_widget(kind: str, total: int) -> dict:
    if kind == "Log.write_lines" or kind == "Log.write_line":
        widget = Log(max_lines=CAP)
    else:
        widget = RichLog(max_lines=CAP, wrap=True)
    app = WidgetApp(widget)
    async with app.run_test(size=(80, 24)):
        probe = Probe(app, [])
        gc.collect()
        probe.rss0 = rss()
        probe.start(None)
        t0 = time.perf_counter()
        async for batch in lines_feed(total):
            if kind == "Log.write_lines":
                widget.write_lines(batch)
            elif kind == "Log.write_line":
                for line in batch:
                    widget.write_line(line)
            else:
                for line in batch:
                    widget.write(Text(line))
            await asyncio.sleep(0)
        await app.workers.wait_for_complete()
        elapsed = time.perf_counter() - t0
        await probe.stop()
        return dict(n=total, secs=elapsed, stall=probe.max_stall, rss=probe.rss_peak - probe.rss0, keys=[])


async def tracemalloc_peak(coro_factory) -> int:
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    await coro_factory()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


async def generation_cost(total: int) -> float:
    t0 = time.perf_counter()
    async for _ in lines_feed(total):
        pass
    return time.perf_counter() - t0


def row(label: str, r: dict) -> str:
    rate = r["n"] / r["secs"]
    keys = r["keys"]
    key_txt = f"{max(keys) * 1000:7.1f} ms max / {len(keys)}" if keys else "      n/a"
    return (f"{label:<34} {r['n']:>9,} {r['secs']:8.2f} s {rate:>12,.0f} "
            f"{r['stall'] * 1000:9.1f} ms {r['rss'] / 2**20:8.1f} MiB  {key_txt}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--naive", type=int, default=20_000, help="lines for the per-line baselines")
    args = parser.parse_args()
    n, small = args.lines, args.naive

    gen = await generation_cost(n)
    print(f"line generation alone (included in every figure): {n / gen:,.0f} lines/s")
    print()
    print(f"{'case':<34} {'lines':>9} {'time':>10} {'lines/s':>12} {'max stall':>12} "
          f"{'RSS growth':>12}  key latency / presses")
    results = {
        "LogTail (wrap off)": await bench_logtail(n),
        "LogTail (wrap on)": await bench_logtail(n, wrap=True),
        "Log.write_lines (batched, no wrap)": await bench_widget("Log.write_lines", n),
        "Log.write_line (per line)": await bench_widget("Log.write_line", small),
        "RichLog.write (per line, wrap)": await bench_widget("RichLog.write", small),
    }
    for label, r in results.items():
        print(row(label, r))

    print()
    tail_peak = await tracemalloc_peak(lambda: bench_logtail(n, probe_on=False))
    naive_peak = await tracemalloc_peak(lambda: bench_widget("Log.write_line", small))
    print(f"tracemalloc peak, LogTail {n:,} lines (cap {CAP:,}): {tail_peak / 2**20:8.1f} MiB")
    print(f"tracemalloc peak, Log.write_line {small:,} lines:      {naive_peak / 2**20:8.1f} MiB")

    print()
    base = results["Log.write_line (per line)"]
    tail = results["LogTail (wrap off)"]
    speedup = (tail["n"] / tail["secs"]) / (base["n"] / base["secs"])
    print(f"LogTail vs naive Log.write_line: {speedup:,.0f}x lines/s; "
          f"naive 1,000,000 lines would take ~{1_000_000 / (base['n'] / base['secs']):,.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
