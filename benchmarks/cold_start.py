"""Cold start: process start to the first frame of the alerts table, against a bare Textual app.

Each figure is the median of several fresh interpreter runs (imports included).

    python benchmarks/cold_start.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

TESTDECK = r"""
import asyncio, time
t0 = float(__import__("sys").argv[1])
from testdeck.demo import start_demo
from testdeck.app import TestdeckApp
from testdeck.screens.resource import ResourceScreen
from testdeck.widgets.table import VirtualTable
demo = start_demo()
async def main():
    app = TestdeckApp(demo.config, start="alerts", save_theme=False)
    async with app.run_test(size=(80, 24)) as pilot:
        while not (isinstance(app.screen, ResourceScreen) and app.screen.query_one(VirtualTable).row_count):
            await asyncio.sleep(0.005)
        await pilot.pause()
        print(time.time() - t0)
asyncio.run(main())
demo.stop()
"""

BARE = r"""
import asyncio, time
t0 = float(__import__("sys").argv[1])
from textual.app import App
from textual.widgets import Label
class Bare(App):
    def compose(self):
        yield Label("hello")
async def main():
    async with Bare().run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        print(time.time() - t0)
asyncio.run(main())
"""


def measure(code: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code, str(time.time())], capture_output=True, text=True,
                             check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ours = measure(TESTDECK, args.runs)
    bare = measure(BARE, args.runs)
    print(f"testdeck --demo, process start to first alerts frame: {ours * 1000:.0f} ms "
          f"(includes starting 5 simulators)")
    print(f"baseline: bare Textual app to first frame:            {bare * 1000:.0f} ms")


if __name__ == "__main__":
    main()
