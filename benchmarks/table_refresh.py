"""Table figures: 10k-row live refresh with 1% changed, 100k-row load, scroll, sort and filter.

Prints the UI-thread (event-loop) time each step costs, measured by timing
every callback the loop runs, next to the baseline of a plain DataTable
cleared and refilled, measured in the same run. Input latency is how late a
5 ms timer fires (a worker thread holding the GIL counts). The load is timed
from the app's start to its first rows on screen, to every row on screen (a big first load shows
them all at once and formats their cells as they are painted), and to every cell formatted (when
filter and sort can run).

    python benchmarks/table_refresh.py [--rows 10000] [--big 100000] [--big-url URL]

--big-url reuses an xyOps simulator already serving `python -m testdeck sim xyops
--size 100000` (~10 s to seed). The machine's load changes these figures a lot:
note `uptime` beside them, and compare two trees in the same minute.
"""

from __future__ import annotations

import argparse
import asyncio
import asyncio.events
import statistics
import subprocess
import sys
import threading
import time

from textual.app import App
from textual.worker import WorkerState
from textual.widgets import DataTable

from testdeck.config import Config, Profile
from testdeck.screens.resource import ResourceScreen
from testdeck.services.xyops import sim
from testdeck.widgets.table import VirtualTable


class LoopMeter:
    """Sums the time the event loop spends running callbacks (= UI-thread time)."""

    def __init__(self):
        self.busy = 0.0
        self.longest = 0.0
        self._orig = asyncio.events.Handle._run
        meter = self
        main = threading.get_ident()

        def _run(handle):
            if threading.get_ident() != main:  # only the app's loop, not helper threads
                return meter._orig(handle)
            t = time.perf_counter()
            meter._orig(handle)
            d = time.perf_counter() - t
            meter.busy += d
            meter.longest = max(meter.longest, d)

        asyncio.events.Handle._run = _run

        self.stall = 0.0

    def reset(self) -> None:
        self.busy = 0.0
        self.longest = 0.0
        self.stall = 0.0

    async def ticker(self) -> None:
        """How late a 5 ms timer fires: what a keypress would wait (GIL held by threads included)."""
        loop = asyncio.get_running_loop()
        while True:
            t = loop.time()
            await asyncio.sleep(0.005)
            self.stall = max(self.stall, loop.time() - t - 0.005)


async def settle(pilot, seconds: float = 0.3) -> None:
    await pilot.pause(seconds)


async def bench_testdeck(meter: LoopMeter, rows: int, big: int, big_url: str | None = None) -> dict:
    from testdeck.app import TestdeckApp
    import os

    results = {}
    for size, label in ((rows, "refresh"), (big, "big")):
        if not size:
            continue
        proc = None
        if label == "big" and big_url:  # an xyops simulator already serving --size BIG (seeding one takes minutes)
            url = big_url
        else:
            # the simulator runs in its own process so it does not compete for our GIL
            proc = subprocess.Popen([sys.executable, "-m", "testdeck", "sim", "xyops", "--size", str(size)],
                                    stdout=subprocess.PIPE, text=True)
            url = proc.stdout.readline().split(" on ")[1].split()[0]
        os.environ["TESTDECK_SECRET_BENCH"] = sim.API_KEY
        cfg = Config(path=__import__("pathlib").Path("/tmp/testdeck-bench.toml"),
                     settings={"refresh_interval": 3600.0},
                     profiles={"bench": Profile("bench", "xyops", url, timeout=60)})
        app = TestdeckApp(cfg, start="bench", save_theme=False)
        async with app.run_test(size=(160, 50)) as pilot:
            tick = asyncio.create_task(meter.ticker())
            t0 = time.perf_counter()
            meter.reset()
            # polled with a plain sleep: pilot.pause() also posts to every widget and repaints the
            # screen, ~100 times a second here, which cost the load 0.3-0.5 s of UI-thread time
            while not (isinstance(app.screen, ResourceScreen) and any(t.row_count for t in app.screen.query(VirtualTable))):
                await asyncio.sleep(0.01)
            first_rows = time.perf_counter() - t0

            def every_row(screen=app.screen) -> bool:  # a big first load: its lazy view (cells formatted as painted)
                total = screen.preview_of if screen.preview_of is not None else len(screen.rows)
                return total > 0 and screen.query_one(VirtualTable).row_count == total

            while not every_row():
                await asyncio.sleep(0.01)
            every_rows = time.perf_counter() - t0

            def whole(screen=app.screen) -> bool:  # every cell formatted: filter and sort ready
                table = screen.query_one(VirtualTable)
                return screen.last_ok is not None and screen.preview_of is None and table.row_count == len(screen.rows)

            while not whole():
                await asyncio.sleep(0.01)
            load_wall = time.perf_counter() - t0
            load_busy, load_longest, load_stall = meter.busy, meter.longest, meter.stall
            screen = app.screen
            table = screen.query_one(VirtualTable)
            if label == "refresh":
                busy, longest, stalls = [], [], []
                for i in range(5):
                    # the simulator's generated rows carry their age: 1% of rows change
                    # cells between refreshes is what matters to the table; the list is
                    # re-fetched, re-parsed and re-diffed whole every time regardless.
                    await settle(pilot, 0.2)
                    meter.reset()
                    screen.loaded.clear()
                    screen._wake.set()
                    await screen.loaded.wait()
                    await settle(pilot, 0.3)  # let the swap and repaint happen
                    busy.append(meter.busy)
                    longest.append(meter.longest)
                    stalls.append(meter.stall)
                results["refresh_stall_ms"] = max(stalls) * 1000
                results["refresh_busy_ms"] = statistics.median(busy) * 1000
                results["refresh_longest_ms"] = max(longest) * 1000
                results["refresh_rows"] = table.row_count
            else:
                results["big_rows"] = table.row_count
                results["big_load_wall_s"] = load_wall
                results["big_first_rows_s"] = first_rows
                results["big_every_row_s"] = every_rows
                results["big_load_busy_ms"] = load_busy * 1000
                results["big_load_longest_ms"] = load_longest * 1000
                results["big_load_stall_ms"] = load_stall * 1000
                meter.reset()
                t0 = time.perf_counter()
                for _ in range(40):
                    await pilot.press("pagedown")
                for _ in range(3):
                    await pilot.press("end", "home")
                await settle(pilot, 0.2)
                results["big_scroll_longest_ms"] = meter.longest * 1000
                results["big_scroll_stall_ms"] = meter.stall * 1000
                results["big_scroll_wall_s"] = time.perf_counter() - t0
                results.update(await sort_and_filter(app, pilot, screen, table, meter))
            tick.cancel()
        if label == "big":
            results["big_floor_s"] = await floor(url)
        if proc is not None:
            proc.terminate()
            proc.wait()
    return results


async def floor(url: str, runs: int = 3) -> float:
    """GET + read + msgspec decode of the big list, no UI: the median of `runs`."""
    import httpx
    import msgspec

    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        async with httpx.AsyncClient(verify=False, timeout=60) as client:
            response = await client.get(url + "/api/app/get_alerts/v1", headers={"X-API-Key": sim.API_KEY})
        rows = msgspec.json.decode(response.content)["rows"]
        times.append(time.perf_counter() - t0)
        del rows
    return statistics.median(times)


async def key_probe(app, table, stop: asyncio.Event) -> list[float]:
    """A cursor key every 30 ms while the work runs: the time from its arrival to its action."""
    from textual import events

    handled: list[float] = []
    move = table.action_cursor
    table.action_cursor = lambda delta: (move(delta), handled.append(time.perf_counter()))
    out = []
    try:
        while not stop.is_set():
            count = len(handled)
            sent = time.perf_counter()
            app._driver.send_message(events.Key("down" if len(out) % 2 else "up", None))
            while len(handled) == count:
                await asyncio.sleep(0.0005)
            out.append(handled[-1] - sent)
            await asyncio.sleep(0.03)
    finally:
        table.action_cursor = move
    return out


async def sort_and_filter(app, pilot, screen, table, meter: LoopMeter) -> dict:
    """Sort (S: reverse by the first column, three times) and a filter typed at 10 keys/s into the
    100k-row table, while cursor keys are probed; then the time until the table shows the result."""
    out = {}
    lat, walls = [], []
    meter.reset()
    for _ in range(3):
        before = table.data
        stop = asyncio.Event()
        probe = asyncio.create_task(key_probe(app, table, stop))
        t0 = time.perf_counter()
        screen.action_sort_reverse()
        while table.data is before:
            await asyncio.sleep(0.002)
        walls.append(time.perf_counter() - t0)
        await asyncio.sleep(0.1)
        stop.set()
        lat += await probe
    out["sort_wall_s"] = statistics.median(walls)
    out["sort_key_max_ms"] = max(lat) * 1000
    out["sort_key_p50_ms"] = statistics.median(lat) * 1000
    out["sort_stall_ms"] = meter.stall * 1000
    out["sort_longest_ms"] = meter.longest * 1000

    # the filter: typed into the box; every key is its own refilter of 100k rows
    from textual import events
    from textual.widgets import Input

    await pilot.press("slash")
    box = screen.query_one("#filter", Input)
    meter.reset()
    typed = []
    t0 = time.perf_counter()
    for ch in "alert 9":
        sent = time.perf_counter()
        app._driver.send_message(events.Key("space" if ch == " " else ch, ch))
        while not box.value.endswith(ch):
            await asyncio.sleep(0.0005)
        typed.append(time.perf_counter() - sent)
        await asyncio.sleep(0.1)
    def filtering() -> bool:
        return any(w.group == "filter" and w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers)

    while table.row_count >= 100_000 or filtering():
        await asyncio.sleep(0.002)
    out["filter_wall_s"] = time.perf_counter() - t0 - 0.1 * 7
    out["filter_rows"] = table.row_count
    out["filter_key_max_ms"] = max(typed) * 1000
    out["filter_stall_ms"] = meter.stall * 1000
    out["filter_longest_ms"] = meter.longest * 1000
    return out


class PlainTable(App):
    def compose(self):
        yield DataTable()


async def bench_datatable(meter: LoopMeter, rows: int) -> dict:
    cols = ["id", "title", "on", "monitor", "n", "expression", "modified"]
    data = [(f"a{i:08d}", f"Generated alert {i}", "yes", "load_avg", "1", f"monitors.load_avg > {i % 50}", "3m")
            for i in range(rows)]
    app = PlainTable()
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.query_one(DataTable)
        table.add_columns(*cols)
        table.add_rows(data)
        await settle(pilot)
        busy = []
        longest = []
        for i in range(3):
            meter.reset()
            table.clear()
            table.add_rows(data)
            await settle(pilot)
            busy.append(meter.busy)
            longest.append(meter.longest)
    return {"dt_refresh_busy_ms": statistics.median(busy) * 1000, "dt_longest_ms": max(longest) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--big-url", help="reuse an xyops simulator already serving --size BIG")
    args = parser.parse_args()
    meter = LoopMeter()
    ours = asyncio.run(bench_testdeck(meter, args.rows, args.big, args.big_url))
    if args.rows:
        base = asyncio.run(bench_datatable(meter, args.rows))
        print_refresh(args.rows, ours, base)
    if args.big:
        print_big(ours)


def print_refresh(rows: int, ours: dict, base: dict) -> None:
    print(f"== {rows:,}-row live refresh, 1% of rows changed (median of 5) ==")
    print(f"testdeck VirtualTable: {ours['refresh_busy_ms']:8.1f} ms UI-thread time per refresh "
          f"(longest callback {ours['refresh_longest_ms']:.1f} ms, worst input latency "
          f"{ours['refresh_stall_ms']:.1f} ms)   target <= 50 ms")
    print(f"baseline DataTable clear+add_rows: {base['dt_refresh_busy_ms']:8.1f} ms "
          f"(longest single callback {base['dt_longest_ms']:.1f} ms)")


def print_big(ours: dict) -> None:
    print(f"== {ours['big_rows']:,} rows ==")
    print(f"load: first rows on screen {ours['big_first_rows_s']:.2f} s, every row on screen (formatted as painted) "
          f"{ours['big_every_row_s']:.2f} s, every cell formatted (filter and sort ready) "
          f"{ours['big_load_wall_s']:.2f} s wall (HTTP, JSON, parsing in threads), "
          f"{ours['big_load_busy_ms']:.0f} ms UI-thread time, longest callback {ours['big_load_longest_ms']:.1f} ms,"
          f" worst input latency {ours['big_load_stall_ms']:.1f} ms   target: no freeze > 100 ms")
    print(f"      floor: the same GET read and decoded by msgspec, no UI: {ours['big_floor_s']:.2f} s   "
          f"target: the table loaded (every row on screen) <= 1.5 s")
    print(f"scroll (40 x pagedown, 3 x end/home): longest callback {ours['big_scroll_longest_ms']:.1f} ms, "
          f"worst input latency {ours['big_scroll_stall_ms']:.1f} ms")
    print(f"sort (S, 3 times): {ours['sort_wall_s']:.2f} s to the sorted table; key latency p50 "
          f"{ours['sort_key_p50_ms']:.1f} ms, max {ours['sort_key_max_ms']:.1f} ms; worst input latency "
          f"{ours['sort_stall_ms']:.1f} ms, longest callback {ours['sort_longest_ms']:.1f} ms   target <= 50 ms")
    print(f"filter ('alert 9' typed at 10 keys/s): {ours['filter_rows']:,} rows shown {ours['filter_wall_s']:.2f} s "
          f"after the last key; key latency max {ours['filter_key_max_ms']:.1f} ms; worst input latency "
          f"{ours['filter_stall_ms']:.1f} ms, longest callback {ours['filter_longest_ms']:.1f} ms   target <= 50 ms")


if __name__ == "__main__":
    main()
