"""A simulated request as the XPRESSO API shows it, at a given moment.

Everything is derived from what was submitted, the creation time, an optional
stop time and the elapsed (simulated) seconds, so a frozen clock gives the same
JSON every time. Timeline: PREPARING, QUEUED, RUNNING (sections finish one after
another), then the job's verdict: PASSED, FAILED or ERRORED. A stop freezes the
sections that finished, aborts the one running and skips the rest.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from testdeck.services.xpresso.sim.catalog import ENGINE, HARNESS, TESTBEDS, TOPOLOGIES, Job, make_jwt

PREPARE_S = 3.0  # simulated seconds in PREPARING
QUEUE_S = 3.0  # ... then in QUEUED
RUN_S = 30.0  # ... then in RUNNING
ACTIVE = ("PREPARING", "QUEUED", "RUNNING")
_NS = uuid.UUID("6f1c3e0a-9d2b-4c5e-8f7a-1b2c3d4e5f60")
SUMMARY_KEYS = ("pass", "fail", "error", "abort", "block", "skip", "passx", "unknown")
RESULT_KEY = {"passed": "pass", "failed": "fail", "errored": "error", "aborted": "abort", "blocked": "block",
              "skipped": "skip"}


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def state_at(req: dict[str, Any], elapsed: float) -> str:
    """The request's state `elapsed` simulated seconds after it was created."""
    if req["stopped_after"] is not None and elapsed >= req["stopped_after"]:
        return "STOPPED"
    if elapsed < PREPARE_S:
        return "PREPARING"
    if elapsed < PREPARE_S + QUEUE_S:
        return "QUEUED"
    if elapsed < PREPARE_S + QUEUE_S + RUN_S:
        return "RUNNING"
    return req["job"].verdict


def plan(req: dict[str, Any], item: int) -> list[dict[str, Any]]:
    """The sections an item runs, in order, each with the result it will end with."""
    job: Job = req["job"]
    out: list[dict[str, Any]] = []
    for n, (script, cases) in enumerate(job.scripts, 1):
        task = f"Task-{n}"
        names = ["common_setup", *[f"tc_{script.split('.')[0]}_{c:02d}" for c in range(1, cases + 1)],
                 "common_cleanup"]
        for i, name in enumerate(names):
            out.append({"task": task, "script": script, "name": name, "result": "passed",
                        "type": "CommonSetup" if i == 0 else ("CommonCleanup" if i == len(names) - 1 else "Testcase")})
    last_item = item == job.items - 1
    if job.verdict == "FAILED" and last_item:  # the second testcase of each script fails
        for s in out:
            if s["name"].endswith("_02"):
                s["result"] = "failed"
    if job.verdict == "ERRORED" and last_item:  # the first script's setup errors, its testcases are blocked
        first = [s for s in out if s["task"] == "Task-1"]
        first[0]["result"] = "errored"
        for s in first[1:-1]:
            s["result"] = "blocked"
    return out


def summary(results: list[str], total: int) -> dict[str, Any]:
    counts = {k: 0 for k in SUMMARY_KEYS}
    for r in results:
        counts[RESULT_KEY.get(r, "unknown")] += 1
    ok = counts["pass"] + counts["passx"] + counts["skip"]
    return {"applicable_tasks": total, "total_tasks": total, **counts,
            "success_rate": round(100.0 * ok / total, 1) if total else 0}


def add_summaries(parts: list[dict[str, Any]]) -> dict[str, Any]:
    out = {k: sum(int(p.get(k) or 0) for p in parts) for k in ("applicable_tasks", "total_tasks", *SUMMARY_KEYS)}
    ok = out["pass"] + out["passx"] + out["skip"]
    out["success_rate"] = round(100.0 * ok / out["total_tasks"], 1) if out["total_tasks"] else 0
    return out


def run_results(req: dict[str, Any], item: int, elapsed: float, scripts: bool) -> dict[str, Any]:
    """results.run of one item: its scripts and sections as far as they got."""
    created, speed = req["created"], req["speed"]
    rid = req["request_id"]
    sections = plan(req, item)
    begin = PREPARE_S + QUEUE_S
    if elapsed < begin:
        return {"start_time": None, "completion_time": None, "state": None, "summary": {},
                "uid": f"{rid}-{item + 1}-run", **({"scripts": [], "results_meta": {}} if scripts else {})}
    stopped = req["stopped_after"]
    now = min(elapsed, stopped) if stopped is not None else elapsed
    step = RUN_S / len(sections)
    shown, results = [], []
    for j, s in enumerate(sections):
        start, stop = begin + j * step, begin + (j + 1) * step
        if now < start:
            break
        if now >= stop:
            result = s["result"]
        elif stopped is not None and elapsed >= stopped:
            result = "aborted"
        else:
            result = ""  # running: no result yet
        if result:
            results.append(result)
        shown.append((s, j, start, stop if result and result != "aborted" else (now if result else None), result))
    state = state_at(req, elapsed)
    item_state = _item_state(req, item, state, results)
    done = item_state not in ACTIVE
    run_end = begin + RUN_S if not (stopped is not None and elapsed >= stopped) else stopped
    out: dict[str, Any] = {
        "start_time": iso(created + begin / speed), "completion_time": iso(created + run_end / speed) if done else None,
        "state": item_state, "summary": summary(results, len(sections)), "uid": f"{rid}-{item + 1}-run",
    }
    if scripts:
        out["scripts"] = _scripts(req, item, shown, len(sections))
        out["results_meta"] = {"testbed": req["testbed_names"][item % len(req["testbed_names"])]
                               if req["testbed_names"] else None, "suite_name": req["job"].job.lower(),
                               "status": "completed" if done else "running", "submitter": req["submitter"],
                               "result_id": f"{rid}-{item + 1}-run", "related_id": f"{rid}-{item + 1}",
                               "job": req["job"].job.lower(), "exec_host": "pyats-sim.example.com",
                               "archive_location": f"/archive/{rid}_run.zip" if done else None}
    return out


def _item_state(req: dict[str, Any], item: int, state: str, results: list[str]) -> str:
    if state in ACTIVE or state == "STOPPED":
        return state
    if "errored" in results:
        return "ERRORED"
    return "FAILED" if "failed" in results else "PASSED"


def _scripts(req: dict[str, Any], item: int, shown: list, total: int) -> list[dict[str, Any]]:
    created, speed, rid = req["created"], req["speed"], req["request_id"]
    scripts: dict[str, dict[str, Any]] = {}
    for s, j, start, stop, result in shown:
        script = scripts.get(s["task"])
        if script is None:
            parent_id = str(uuid.uuid5(_NS, f"{rid}/{item}/{s['task']}"))
            script = scripts[s["task"]] = {
                "meta": {"task_id": s["task"], "name": s["script"], "path": f"/path/to/{s['script']}"},
                "sections": [{"section_id": s["task"], "section_name": s["script"], "section_type": "testscript",
                              "sequence_number": 1, "result": "", "parent_id": None, "id": parent_id,
                              "log_file": f"TaskLog.{s['task']}", "start_time": iso(created + start / speed),
                              "stop_time": None, "run_time": "", "source_file": f"/path/to/{s['script']}"}],
                "results": [],
            }
        seq = len(script["sections"]) + 1
        script["sections"].append({
            "section_id": f"{s['task']}.{s['name']}", "section_name": s["name"], "section_type": s["type"],
            "sequence_number": seq, "result": result, "parent_id": script["sections"][0]["id"],
            "id": str(uuid.uuid5(_NS, f"{rid}/{item}/{j}")), "description": "",
            "run_time": f"{(stop - start) / speed:.1f}" if stop is not None else "",
            "start_time": iso(created + start / speed), "stop_time": iso(created + stop / speed) if stop else None,
            "log_file": f"TaskLog.{s['task']}", "log_start_line": 40 * j, "log_size_line": 40 if stop else -1,
            "source_file": f"/path/to/{s['script']}", "source_line": 10 * seq, "script_id": 1000 + j,
        })
        if result:
            script["results"].append(result)
    out = []
    for script in scripts.values():
        results = script.pop("results")
        planned = sum(1 for s in plan(req, item) if s["task"] == script["meta"]["task_id"])
        head = script["sections"][0]
        if len(script["sections"]) - 1 == planned and len(results) == planned:
            head["result"] = "failed" if "failed" in results else ("errored" if "errored" in results else "passed")
            head["stop_time"] = script["sections"][-1]["stop_time"]
        script["summary"] = summary(results, planned)
        out.append(script)
    return out


def render(req: dict[str, Any], elapsed: float, base: str, *, scripts: bool) -> dict[str, Any]:
    """The whole request record; `scripts` adds the per-section results (the detail call)."""
    rid, created, speed = req["request_id"], req["created"], req["speed"]
    state = state_at(req, elapsed)
    stopped = req["stopped_after"] is not None and elapsed >= req["stopped_after"]
    items, runs = [], []
    for k in range(req["job"].items):
        run = run_results(req, k, elapsed, scripts)
        runs.append(run["summary"] or {})
        items.append(_item(req, k, run, state, base))
    finished = state not in ACTIVE
    end = (req["stopped_after"] if stopped else PREPARE_S + QUEUE_S + RUN_S) + 1.0
    url = f"{base}/services/request-detail/{rid}"
    server_token = make_jwt({"username": req["submitter"], "token_type": "api-token", "group": req["group"],
                             "exp": int(created + 7 * 86400)}, signature=rid.encode())
    return {
        "source": req["source"], "service_url": f"{url}?share_key={req['uuid']}", "instance_url": f"{base}/",
        "date_created": iso(created), "name": req["job"].job,
        "verdict": state if state in ("PASSED", "FAILED", "ERRORED") else None,
        "interest_list": f"['{req['submitter']}@example.com']", "schedule_id": None,
        "consolidated_summary": {**add_summaries(runs),
                                 "success_rate_rule": "('passed' + 'passx' + 'skip')/total_tasks * 100.0"},
        "description": req["description"], "items": items, "state": state,
        "max_request_runtime_seconds": req["max_request_runtime_seconds"], "request_id": rid,
        "date_completed": iso(created + end / speed) if finished else None, "branch": req["branch"],
        "call_stack": None, "submitter": req["submitter"], "requeue": False, "meta": "{}", "rerun_root": rid,
        "children": [], "instance_id": "xpresso-sim", "request_url": url,
        "postback_token": f"Jwt {server_token}", "parent_request": None, "username": req["username"],
        "uuid": req["uuid"], "tags": req["tags"],
        **({"bundle": {"name": req["job"].name, "uuid": req["bundle"]}} if req["bundle"] else {}),
    }


def _item(req: dict[str, Any], k: int, run: dict[str, Any], state: str, base: str) -> dict[str, Any]:
    rid, created, speed = req["request_id"], req["created"], req["speed"]
    beds = [{"name": TESTBEDS[tb], "uuid": tb, "reservations": []} for tb in req["testbeds"]]
    started = run["start_time"] is not None
    selected = beds[k % len(beds)] if beds and started else None
    clean = {"scripts": [], "start_time": None, "completion_time": None, "state": None, "summary": {},
             "uid": None, "results_meta": {}}
    if req["clean"] and started:  # kleenex runs (instantly, here) just before the job
        clean.update(start_time=run["start_time"], completion_time=run["start_time"], state="PASSED",
                     summary=summary(["passed"], 1), uid=f"{rid}-{k + 1}-clean")
    params = req["parameters"]
    token = make_jwt({"username": req["submitter"], "group": req["group"]}, signature=f"{rid}-{k}".encode())
    return {
        "item_id": f"{rid}-{k + 1}", "state": run["state"] or state, "priority": 4,
        "max_runtime_seconds": 43200, "max_clean_runtime_seconds": 0,
        "start_time": run["start_time"], "completion_time": run["completion_time"],
        "job": {"name": req["job"].job, "path": f"/path/to/{req['job'].job.lower()}.py", "uuid": req["job_uuid"]},
        "profile": {"name": req["job"].name, "uuid": req["profile"] or req["bundle"]},
        "submitted_testbeds": beds,
        "selected_testbed": {"name": selected["name"], "uuid": selected["uuid"]} if selected else None,
        "topology": ({"name": TOPOLOGIES.get(req["topologies"][0], "?"), "uuid": req["topologies"][0]}
                     if req["topologies"] else {}),
        "results": {"run": run, "clean": clean},
        "stop_requested": ({"reason": req["stop_reason"], "username": req["stop_user"],
                            "date": iso(created + req["stopped_after"] / speed)}
                           if req["stopped_after"] is not None else {}),
        "engine": dict(ENGINE), "harness_instances": [dict(HARNESS)], "harness_config": [{"easypy": ""}],
        "options": {**{k2: v for k2, v in (params.get("job_args") or {}).items()},
                    "callback_notify": f"{base}/#Jwt+{token}"},
        "env": dict(params.get("env_vars") or {}), "harness_args": dict(params.get("harness_args") or {}),
        "error_detail": ("Task-1 common_setup errored: device unreachable" if run["state"] == "ERRORED" else None),
        "call_stack_report": [], "parent": None, "priority_history": [], "reservations": [], "labels": [],
        "bugs": [], "children": [], "meta": {}, "comparison": {}, "s3_reason": None, "rerun_root": None,
        "selected_reservation": None,
    }
