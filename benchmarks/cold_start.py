"""Cold start in real mode: process start to the first frame of a resource, against a bare Textual app.

The five simulators run in separate processes; a config file names one profile
per service (secrets in env vars, the documented route). Each figure is the
median of several fresh interpreter runs (imports included) of the `testdeck`
command itself: launch.main() with `testdeck --open alerts` as its command line
(argument parsing, load_config, TestdeckApp and its app.run()), on a
pseudo-terminal of 80x24, until the first frame that paints a row of the alerts
table (the frame handed to the driver). Until 2026-11-26 the script imported cli
and built the app itself under Pilot, headless: that skipped the parsing of the
command line (~19 M instructions then) and the terminal's driver.
The baseline is a bare Textual app's app.run() to its first frame, on the same terminal, measured in the same run,
interleaved with ours so a busy machine slows both alike. The floor, interleaved too, is
that bare app plus the least any HTTP console does: import httpx, GET the same alerts
and show their count. What it costs over bare is the chosen stack's share, before any of
testdeck's own work.

    python benchmarks/cold_start.py [--runs 7] [--tree OTHER_CHECKOUT]

--tree also measures another source tree (e.g. `git archive main`) in the same run.
--instructions counts instructions under valgrind instead (about 25 s a start): the same figure
whatever the machine's load, for telling a change of a few ms from noise.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

TESTDECK = r"""
import sys, time, os
t0 = float(sys.argv[1])
COUNTING = os.environ.get("COLD_COUNTING")
from testdeck import launch
launch.hold_gc()  # as launch.main does first: the spies below import the app's modules before it runs
from testdeck import cli
from testdeck.app import TestdeckApp
from testdeck.screens.resource import ResourceScreen
from testdeck.widgets.table import VirtualTable
if COUNTING:  # ~40 x slower under valgrind: the read would miss these waits and take another path
    import testdeck.app as _app
    _app.FIRST_ROWS_WAIT = _app.HOME_LATEST = 100.0
FRAME = []
painted = []
render_line = VirtualTable.render_line
def spy(self, y):  # a data row of the resource's table is being painted
    if y >= 1 and self.row_count and isinstance(self.screen, ResourceScreen):
        painted.append(1)
    return render_line(self, y)
VirtualTable.render_line = spy
display = TestdeckApp._display
def frame(app, screen, renderable):  # the compositor hands a frame to the driver
    if painted and not FRAME and renderable is not None:
        FRAME.append(time.time() - t0)
        if COUNTING:  # (--instructions: nothing after the frame is counted)
            os._exit(0)
        app.call_later(app.exit)
    return display(app, screen, renderable)
TestdeckApp._display = frame
sys.argv = ["testdeck", "--open", "alerts"]  # the `testdeck` command, argument parsing and all
launch.main()
with open(os.environ["COLD_REPORT"], "w") as report:
    report.write(str(FRAME[0]))
"""

# the end of the bare app's script and the floor's: run it until its first frame once `ready()`
TO_THE_FIRST_FRAME = r"""
FRAME = []
display = app._display
def frame(screen, renderable):  # the compositor hands a frame to the driver
    if ready() and not FRAME and renderable is not None:
        FRAME.append(time.time() - t0)
        if COUNTING:  # (--instructions: nothing after the frame is counted)
            os._exit(0)
        app.call_later(app.exit)
    return display(screen, renderable)
app._display = frame
app.run()
with open(os.environ["COLD_REPORT"], "w") as report:
    report.write(str(FRAME[0]))
"""

BARE = r"""
import sys, time, os
t0 = float(sys.argv[1])
COUNTING = os.environ.get("COLD_COUNTING")
from textual.app import App
from textual.widgets import Label
class Bare(App):
    def compose(self):
        yield Label("hello")
app = Bare()
ready = lambda: True
""" + TO_THE_FIRST_FRAME

FLOOR = r"""
import sys, time, os
t0 = float(sys.argv[1])
COUNTING = os.environ.get("COLD_COUNTING")
from textual.app import App
from textual.widgets import Label
sys.modules.setdefault("httpx._main", None)  # as testdeck does: not httpx's command line
import httpx
class Floor(App):
    got = False
    def compose(self):
        yield Label("hello")
    async def on_mount(self):
        async with httpx.AsyncClient(verify=False) as client:  # plain http: no CA bundle to read
            response = await client.get(os.environ["FLOOR_URL"] + "/api/app/get_alerts/v1",
                                        headers={"X-API-Key": os.environ["FLOOR_KEY"]})
        self.query_one(Label).update(f"{len(response.json()['rows'])} alerts")
        self.got = True
app = Floor()
ready = lambda: app.got
""" + TO_THE_FIRST_FRAME


def start_sims() -> tuple[dict[str, str], dict[str, str], list[subprocess.Popen]]:
    from testdeck.services import all_services

    urls, secrets, procs = {}, {}, []
    for service in all_services():
        proc = subprocess.Popen([sys.executable, "-m", "testdeck", "sim", service.name], stdout=subprocess.PIPE,
                                text=True)
        urls[service.name] = proc.stdout.readline().split(" on ")[1].split()[0]
        secrets[service.name] = service.demo_secret or ""
        procs.append(proc)
    return urls, secrets, procs


def write_config(folder: Path, urls: dict[str, str], secrets: dict[str, str]) -> dict[str, str]:
    from testdeck.config import Config, Profile, save_config
    from testdeck.credentials import env_var
    from testdeck.services import get_service

    config = Config(path=folder / "config.toml", settings={"refresh_interval": 30.0})
    env = {"TESTDECK_CONFIG": str(config.path), "TESTDECK_SECRETS_FILE": str(folder / "secrets.toml")}
    for service, url in urls.items():
        name = f"bench-{service}"
        config.profiles[name] = Profile(name, service, url, timeout=5.0,
                                        fields=dict(get_service(service).demo_fields))
        if secrets[service]:
            env[env_var(name)] = secrets[service]
    save_config(config)
    return env


CPU: dict[str, list[float]] = {}


def in_terminal(argv: list[str], env: dict[str, str]) -> None:
    """Run a child on a pseudo-terminal of 80x24, as the console runs in a terminal window: Textual's
    own driver, its terminal modes, the frame written out, for the bare app as for ours. (Headless,
    until 2026-11-26, ours paid for importing the terminal driver it patches and the bare app did not.)
    What the child reports comes back through a file: the terminal is the app's."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                            env=dict(env, TERM="xterm-256color", COLORTERM="truecolor"))
    os.close(slave)
    screen = bytearray()
    while True:  # the terminal's side: take what the app writes, or its writes would block
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child is gone, and its side of the terminal with it
            break
        if not chunk:
            break
        screen += chunk
    os.close(master)
    if proc.wait():
        raise RuntimeError(f"{argv[:3]} exited {proc.returncode}: {screen[-3000:].decode(errors='replace')}")


def once(code: str, env: dict[str, str], src: Path, label: str = "") -> float:
    """Wall time to the first frame; the child's CPU time (user + sys, to its exit) goes to CPU[label]:
    on a shared machine it moves much less with the load than the wall time does."""
    with tempfile.NamedTemporaryFile("r") as report:
        full = dict(os.environ, **env, PYTHONPATH=str(src), PYTHONDONTWRITEBYTECODE="", COLD_REPORT=report.name)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        in_terminal([sys.executable, "-c", code, str(time.time())], full)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        CPU.setdefault(label, []).append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        return float(report.read())


def instructions(code: str, env: dict[str, str], src: Path) -> int:
    """Instructions from process start to the first frame (the child exits there), by callgrind:
    the same count whatever else the machine is doing, where wall times move by +-0.1 x bare."""
    with tempfile.NamedTemporaryFile("r") as log:
        full = dict(os.environ, **env, PYTHONPATH=str(src), PYTHONDONTWRITEBYTECODE="", COLD_COUNTING="1")
        in_terminal(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", f"--log-file={log.name}",
                     sys.executable, "-c", code, str(time.time())], full)
        return int(log.read().split("Collected :")[1].split()[0])


def counted(trees: dict[str, Path], env: dict[str, str], floor_env: dict[str, str], runs: int) -> None:
    """The least of `runs` counts each (a start's path varies a little with thread timing)."""
    count = {label: min(instructions(TESTDECK, env, src) for _ in range(runs)) for label, src in trees.items()}
    bare = min(instructions(BARE, env, SRC) for _ in range(runs))
    floor = min(instructions(FLOOR, floor_env, SRC) for _ in range(runs))
    print(f"cold start, real mode, instructions to the first frame (callgrind, least of {runs}):")
    for label, n in count.items():
        print(f"  testdeck ({label}) to the first alerts frame with rows: {n / 1e6:7.1f} M = {n / bare:.3f} x bare")
    print(f"  baseline: bare Textual app to its first frame:        {bare / 1e6:7.1f} M")
    print(f"  floor: the bare app + httpx GETting the alerts:       {floor / 1e6:7.1f} M = {floor / bare:.3f} x bare")
    print("target: at most 1.5 x bare")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tree", type=Path, help="another checkout to measure in the same run (its src/)")
    parser.add_argument("--instructions", action="store_true",
                        help="count each start's instructions under valgrind (callgrind) instead of timing it")
    args = parser.parse_args()
    urls, secrets, procs = start_sims()
    trees = {"this tree": SRC}
    if args.tree:
        trees[f"{args.tree}"] = args.tree / "src"
    try:
        with tempfile.TemporaryDirectory() as folder:
            env = write_config(Path(folder), urls, secrets)
            for src in trees.values():  # warm the bytecode caches: a cold start is not a first install
                once(TESTDECK, env, src)
            floor_env = dict(env, FLOOR_URL=urls["xyops"], FLOOR_KEY=secrets["xyops"])
            once(BARE, env, SRC)
            once(FLOOR, floor_env, SRC)
            if args.instructions:
                counted(trees, env, floor_env, args.runs)
                return
            times: dict[str, list[float]] = {k: [] for k in (*trees, "bare", "floor")}
            for _ in range(args.runs):
                for label, src in trees.items():
                    times[label].append(once(TESTDECK, env, src, label))
                times["bare"].append(once(BARE, env, SRC, "bare"))
                times["floor"].append(once(FLOOR, floor_env, SRC, "floor"))
    finally:
        for p in procs:
            p.terminate()
    bare = statistics.median(times["bare"])
    bare_cpu = statistics.median(CPU["bare"])
    print(f"cold start, real mode (5 profiles, simulators in other processes), median of {args.runs}:")
    for label in trees:
        ours = statistics.median(times[label])
        print(f"  testdeck ({label}) to the first alerts frame with rows: {ours * 1000:6.0f} ms "
              f"= {ours / bare:.2f} x bare   (min {min(times[label]) * 1000:.0f} ms; CPU "
              f"{statistics.median(CPU[label]) * 1000:.0f} ms = {statistics.median(CPU[label]) / bare_cpu:.2f} x bare)")
    print(f"  baseline: bare Textual app to its first frame:        {bare * 1000:6.0f} ms "
          f"  (min {min(times['bare']) * 1000:.0f} ms; CPU {bare_cpu * 1000:.0f} ms)")
    floor = statistics.median(times["floor"])
    print(f"  floor: the bare app + httpx GETting the alerts:       {floor * 1000:6.0f} ms = {floor / bare:.2f} x bare"
          f"   (CPU {statistics.median(CPU['floor']) / bare_cpu:.2f} x bare)")
    # Each round runs every app back to back: a round's ratio shares that moment's machine. On a VM whose
    # bare-app median moves by +-15 % between runs of 25, the ratio of the medians moves with it.
    print("  the same, as the median of each round's own ratio (its min - max):")
    for label in (*trees, "floor"):
        ratios = [ours / base for ours, base in zip(times[label], times["bare"])]
        print(f"    {label}: {statistics.median(ratios):.2f} x bare ({min(ratios):.2f} - {max(ratios):.2f})")
    print("target: at most 1.5 x bare")


if __name__ == "__main__":
    main()
