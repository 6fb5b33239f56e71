"""Memory over many refreshes: a 20k-row table refreshed 200 times; RSS at start and end.

The simulator runs in its own process (as in table_refresh.py), so the figures are
the console's own. A leak shows as RSS growing with every refresh; flat memory is
the target (see the GC notes in screens/refresh.py).

    python benchmarks/memory_refresh.py [--rows 20000] [--refreshes 200]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from testdeck.config import Config, Profile
from testdeck.screens.refresh import FULL_GC_EVERY
from testdeck.screens.resource import ResourceScreen
from testdeck.services.xyops import sim
from testdeck.widgets.table import VirtualTable


def rss_mib() -> float:
    """Resident set size now (not the peak), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run(rows: int, refreshes: int) -> None:
    from testdeck.app import TestdeckApp

    proc = subprocess.Popen([sys.executable, "-m", "testdeck", "sim", "xyops", "--size", str(rows)],
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split(" on ")[1].split()[0]
        # keep draining: a simulator blocked on a full stdout pipe would stall the run
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        os.environ["TESTDECK_SECRET_BENCH"] = sim.API_KEY
        cfg = Config(path=Path("/tmp/testdeck-bench.toml"), settings={"refresh_interval": 3600.0},
                     profiles={"bench": Profile("bench", "xyops", url, timeout=60)})
        app = TestdeckApp(cfg, start="bench", save_theme=False)
        async with app.run_test(size=(160, 50)) as pilot:
            while not (isinstance(app.screen, ResourceScreen) and app.screen.query_one(VirtualTable).row_count):
                await pilot.pause(0.05)
            screen = app.screen
            samples = []
            t0 = time.perf_counter()
            for i in range(refreshes):
                screen.loaded.clear()
                screen._wake.set()
                await screen.loaded.wait()
                await pilot.pause(0.05)
                if i in (0, 9) or (i + 1) % 25 == 0:
                    # not gc.get_objects(): it would take references to tuples a refresh's thread is still
                    # building (CPython then raises SystemError in that thread)
                    samples.append((i + 1, rss_mib(), gc.get_freeze_count()))
                    print(f"after refresh {i + 1:4d}: RSS {samples[-1][1]:7.1f} MiB  ({time.perf_counter() - t0:.0f} s)", flush=True)
            wall = time.perf_counter() - t0
            # what one periodic full pass (screens/refresh.py gc_paused) costs at this size
            t1 = time.perf_counter()
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            full_pass = time.perf_counter() - t1
            table_rows = screen.query_one(VirtualTable).row_count
    finally:
        proc.terminate()
        proc.wait()
    print(f"== {table_rows:,}-row table, {refreshes} refreshes in {wall:.0f} s ==")
    for n, rss, objects in samples:
        print(f"after refresh {n:4d}: RSS {rss:7.1f} MiB   frozen objects {objects:,}")
    print(f"one full GC pass (every {FULL_GC_EVERY} big refreshes): {full_pass * 1000:.0f} ms")
    # from refresh 50: the first refreshes warm caches up, and the first full pass comes at 50
    first, last = next((s for s in samples if s[0] >= 50), samples[0]), samples[-1]
    per = (last[1] - first[1]) / max(1, last[0] - first[0])
    print(f"RSS start {samples[0][1]:.1f} MiB, end {last[1]:.1f} MiB; growth from refresh {first[0]} to "
          f"{last[0]}: {last[1] - first[1]:+.1f} MiB ({per * 1024:+.0f} KiB per refresh)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--refreshes", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(run(args.rows, args.refreshes))


if __name__ == "__main__":
    main()
