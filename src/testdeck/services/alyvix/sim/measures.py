"""Simulated measures: the runs of each test case, generated lazily and deterministically.

A test case runs every PERIOD seconds on a fixed grid; run k of test case t
is drawn from its own seeded RNG, so any time window can be produced on
request (nothing is stored) and the same seed gives the same runs. Rows have
the shape of a real Alyvix capture: one row per transaction, each carrying
the test case fields.
"""

from __future__ import annotations

import base64
import math
import random
import struct
import zlib
from functools import cache
from typing import Any

PERIOD = 1200  # seconds between two runs of a test case
RETENTION = 8 * 86400  # how far back runs exist
HOSTNAME = "alyvix-srv01"
OVERHEAD_MS = 1500  # start-up and log-in time of a run beyond its transactions

# per seeded test case: (transaction name, group, base ms, warning ms, critical ms, timeout ms)
STEPS: dict[str, list[tuple[str, str, int, int, int, int]]] = {
    "visittrentino": [("home", "web", 1800, 4000, 8000, 15000), ("search_hotel", "web", 2600, 5000, 9000, 15000),
                      ("booking_form", "web", 3200, 6000, 10000, 20000)],
    "sap_login": [("logon_pad", "sap", 1200, 3000, 6000, 10000), ("login", "sap", 4200, 8000, 15000, 30000),
                  ("easy_access", "sap", 2000, 4000, 8000, 15000)],
    "outlook_send": [("open_outlook", "office", 5000, 9000, 14000, 20000), ("new_mail", "office", 900, 2000, 4000,
                                                                            8000),
                     ("send", "office", 1500, 3000, 6000, 10000)],
    "citrix_portal": [("portal", "citrix", 2500, 5000, 9000, 15000), ("launch_app", "citrix", 9000, 15000, 25000,
                                                                      40000)],
}
DEFAULT_STEPS = [("start", "app", 1500, 4000, 8000, 15000), ("work", "app", 3000, 6000, 12000, 20000),
                 ("close", "app", 800, 2000, 4000, 8000)]
FAILING = "sap_login"  # its login step fails in the last hours: a test case to find in triage
FAILING_FOR = 3 * 3600


def steps_for(name: str) -> list[tuple[str, str, int, int, int, int]]:
    return STEPS.get(name.split(" ")[0], DEFAULT_STEPS)


def run_times(tid: int, since: float, until: float, start: float, now: float) -> list[tuple[int, float]]:
    """(k, epoch) of the runs of test case `tid` inside [since, until], oldest first."""
    offset = (tid * 97) % PERIOD
    lo = max(since, start - RETENTION)
    hi = min(until, now)
    if hi < lo:
        return []
    first, last = math.ceil((lo - offset) / PERIOD), math.floor((hi - offset) / PERIOD)
    return [(k, k * PERIOD + offset) for k in range(first, last + 1)]


def last_run(tid: int, start: float, now: float) -> list[tuple[int, float]]:
    offset = (tid * 97) % PERIOD
    k = math.floor((now - offset) / PERIOD)
    at = k * PERIOD + offset
    return [(k, at)] if at >= start - RETENTION else []


def runcode(user: str, name: str, at: float) -> str:
    """As real servers build it: host + domain + user + test case + epoch seconds."""
    return f"{HOSTNAME}{user.replace(chr(92), '')}{name}{int(at)}"


def run_rows(seed: int, tc: dict[str, Any], k: int, at: float, user: str, start: float,
             screenshots: bool = False) -> list[dict[str, Any]]:
    """The rows (one per transaction) of run k of a test case."""
    rng = random.Random(f"{seed}:{tc['id']}:{k}")
    failing = tc["name"].startswith(FAILING) and at >= start - FAILING_FOR
    # (the failing case fails as a critical run, never as a crash: 1 slot in 250 read as `unknown`)
    crash = rng.random() < 0.004 and not failing
    steps = steps_for(tc["name"])
    fail_at = None
    if failing:
        fail_at = 1
    elif not crash and rng.random() < 0.03:
        fail_at = rng.randrange(len(steps))
    head = {
        "timestamp_epoch": int(at) * 1_000_000_000,
        "hostname": HOSTNAME,
        "domain_username": user,
        "test_case_name": tc["name"],
        "test_case_alias": tc["name"].replace("_", " "),
        "test_case_arguments": tc.get("arguments"),
        "test_case_execution_code": runcode(user, tc["name"], at),
    }
    rows, total, worst = [], OVERHEAD_MS, 0
    for i, (name, group, base, warning, critical, timeout) in enumerate(steps):
        if crash or (fail_at is not None and i > fail_at):
            perf, t_exit, state = None, "not_executed", 3
        elif fail_at == i:
            perf, t_exit, state = None, "false", 2
        else:
            roll = rng.random()
            if roll < 0.08:
                perf = rng.randint(warning + 1, critical)
            else:
                perf = int(base * rng.uniform(0.75, 1.35))
            t_exit = "true"
            state = 0 if perf <= warning else (1 if perf <= critical else 2)
        if perf is not None:
            total += perf
        elif t_exit == "false":
            total += timeout
        worst = max(worst, state if state != 3 else 0)
        row = dict(head)
        row.update({
            "transaction_name": f"{tc['name'].split(' ')[0]}_{i + 1}_{name}",
            "transaction_alias": name.replace("_", " "),
            "transaction_group": group,
            "transaction_detection_type": "appear" if i else "appear+disappear",
            "transaction_timeout_ms": timeout,
            "transaction_warning_ms": warning,
            "transaction_critical_ms": critical,
            "transaction_performance_ms": perf,
            "transaction_accuracy_ms": None if perf is None else rng.randint(5, 60),
            "transaction_exit": t_exit,
            "transaction_state": state,
            "transaction_record_text": f"{name} window" if perf is not None else "",
            "transaction_resolution_width": 1920,
            "transaction_resolution_height": 1080,
            "transaction_scaling_factor": 100,
        })
        if screenshots and (perf is not None or t_exit == "false"):
            row["transaction_screenshot"] = png_b64(state)
            row["transaction_annotation"] = png_b64(state, annotated=True)
        rows.append(row)
    if crash:
        state, exit_ = 3, "fail"
    elif fail_at is not None:
        state, exit_ = 2, "false"
    else:
        state, exit_ = worst, "true"
    for row in rows:
        row["test_case_duration_ms"] = total
        row["test_case_exit"] = exit_
        row["test_case_state"] = state
    return rows


@cache
def png_b64(state: int, annotated: bool = False) -> str:
    """A small, valid PNG (a coloured tile) as base64: green ok, yellow warning, red critical."""
    colour = {0: (40, 160, 70), 1: (220, 170, 30), 2: (200, 40, 40)}.get(state, (128, 128, 128))
    width, height = 16, 10
    rows = b""
    for y in range(height):
        line = b"".join(bytes((255, 0, 0) if annotated and y in (0, height - 1) else colour) for _ in range(width))
        rows += b"\x00" + line

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()
