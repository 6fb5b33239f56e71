"""Fifty profiles polled every 2 s: keypress latency and how current the triage view stays.

Ten profiles per service against the five simulators, each simulator in its own
process (so they do not compete for our GIL). The console runs headless with
the triage view open, polling every profile on its own 2 s interval, while a
key is pressed every 50 ms. Printed next to a baseline measured in the same
run: the same console with one profile.

    python benchmarks/many_profiles.py [--profiles-per-service 10] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from testdeck.config import Config, Profile
from testdeck.credentials import env_var
from testdeck.services import all_services


def start_sims() -> tuple[dict[str, str], list[subprocess.Popen]]:
    urls, procs = {}, []
    for service in all_services():
        proc = subprocess.Popen([sys.executable, "-m", "testdeck", "sim", service.name], stdout=subprocess.PIPE,
                                text=True)
        line = proc.stdout.readline()
        urls[service.name] = line.split(" on ")[1].split()[0]
        procs.append(proc)
    return urls, procs


def make_config(urls: dict[str, str], per_service: int, folder: Path) -> Config:
    profiles = {}
    for service in all_services():
        for i in range(per_service):
            name = f"{service.name}-{i:02d}"
            profiles[name] = Profile(name, service.name, urls[service.name], timeout=5.0,
                                     fields=dict(service.demo_fields))
            if service.demo_secret:
                os.environ[env_var(name)] = service.demo_secret
    return Config(path=folder / "config.toml", settings={"refresh_interval": 2.0}, profiles=profiles)


async def measure(config: Config, seconds: float) -> dict[str, float]:
    from textual import events

    from testdeck.app import TestdeckApp
    from testdeck.screens.triage import TriageScreen
    from testdeck.widgets.table import VirtualTable

    t0 = time.perf_counter()
    app = TestdeckApp(config, start="triage", save_theme=False)
    latencies: list[float] = []
    staleness: list[float] = []
    lag = [0.0]
    async with app.run_test(size=(120, 40)) as pilot:
        loop = asyncio.get_running_loop()
        while not (isinstance(app.screen, TriageScreen) and app.screen.query(VirtualTable)):
            await pilot.pause(0.01)
        first_frame = time.perf_counter() - t0
        screen = app.screen
        table = screen.query_one(VirtualTable)
        handled: list[float] = []
        move = table.action_cursor
        table.action_cursor = lambda delta: (move(delta), handled.append(time.perf_counter()))

        async def ticker() -> None:
            """How late a 5 ms timer fires: what any key waits before it is even read."""
            while True:
                t = loop.time()
                await asyncio.sleep(0.005)
                lag[0] = max(lag[0], loop.time() - t - 0.005)

        await asyncio.sleep(3)  # every profile polled at least once
        tick = asyncio.create_task(ticker())
        end = loop.time() + seconds
        while loop.time() < end:
            # keypress latency: from the key's arrival (as the terminal driver posts it) to its action
            count = len(handled)
            key = "down" if len(latencies) % 2 else "up"
            sent = time.perf_counter()
            app._driver.send_message(events.Key(key, None))
            while len(handled) == count:
                await asyncio.sleep(0.0005)
            latencies.append(handled[-1] - sent)
            now = time.time()
            ages = [now - s.last_ok for s in screen.board.states.values() if s.last_ok]
            if ages:
                staleness.append(max(ages))
            await asyncio.sleep(0.05)
        tick.cancel()
        polled = len([s for s in screen.board.states.values() if s.last_ok])
    latencies.sort()
    return {
        "profiles": len(config.profiles),
        "polled_ok": polled,
        "first_frame_s": first_frame,
        "key_p50_ms": statistics.median(latencies) * 1000,
        "key_p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        "key_max_ms": latencies[-1] * 1000,
        "loop_lag_max_ms": lag[0] * 1000,
        "oldest_view_s": max(staleness) if staleness else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles-per-service", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    urls, procs = start_sims()
    try:
        with tempfile.TemporaryDirectory() as folder:
            many = make_config(urls, args.profiles_per_service, Path(folder))
            one = make_config(urls, 1, Path(folder))
            one.profiles = dict(list(one.profiles.items())[:1])
            base = asyncio.run(measure(one, args.seconds))
            result = asyncio.run(measure(many, args.seconds))
    finally:
        for p in procs:
            p.terminate()
    print(f"{'':24}{'baseline (1 profile)':>22}{'50 profiles':>16}")
    for key in ("profiles", "polled_ok", "first_frame_s", "key_p50_ms", "key_p99_ms", "key_max_ms", "loop_lag_max_ms",
                "oldest_view_s"):
        print(f"{key:24}{base[key]:>22.1f}{result[key]:>16.1f}")
    print("targets: key latency <= 50 ms with 50 profiles; the view never older than a few intervals")


if __name__ == "__main__":
    main()
