"""What the request detail screens show, as plain data (no Textual): tested without a UI.

Every string that comes from the server passes through testdeck.text.sanitize.
"""

from __future__ import annotations

import json
from typing import Any

from testdeck.columns import ERROR, GLYPHS, MUTED, OK, RUNNING, WARNING, duration, timestamp
from testdeck.services.xpresso import token as jwt
from testdeck.services.xpresso.client import ACTIVE_STATES, FAILED_STATES, STOPPED_STATES
from testdeck.text import sanitize

STYLE = {OK: "green", ERROR: "bold red", RUNNING: "yellow", WARNING: "magenta", MUTED: "dim"}
COUNTS = (("pass", "pass"), ("fail", "fail"), ("error", "error"), ("abort", "abort"), ("block", "block"),
          ("skip", "skip"))
RESULT_MEANING = {"passed": OK, "passx": OK, "failed": ERROR, "errored": ERROR, "aborted": WARNING,
                  "blocked": WARNING, "skipped": MUTED, "": RUNNING}


def s(value: Any) -> str:
    """Server value -> one safe display line."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    return sanitize(str(value))


def d(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def lst(value: Any) -> list:
    return value if isinstance(value, list) else []


def meaning(state: Any) -> str | None:
    """What a request or item state means (the table colours and glyphs follow it)."""
    st = str(state or "").upper()
    if st in ACTIVE_STATES:
        return RUNNING
    if st == "PASSED":
        return OK
    if st in FAILED_STATES:
        return ERROR
    if st in STOPPED_STATES:
        return WARNING
    return MUTED if st else None


def result_meaning(result: Any) -> str:
    return RESULT_MEANING.get(str(result or "").lower(), MUTED)


def marked(value: Any, how: str | None) -> str:
    """A state or result with its glyph, readable without colour."""
    text = s(value)
    return f"{GLYPHS[how]} {text}" if how and text else text


def counts(summary: Any) -> list[tuple[str, int]]:
    summary = d(summary)
    return [(label, int(summary.get(key) or 0)) for key, label in COUNTS]


def rate(summary: Any) -> str:
    summary = d(summary)
    value = summary.get("success_rate")
    if not summary.get("total_tasks") or not isinstance(value, (int, float)):
        return ""
    return f"{float(value):.0f}%"


def brief(result: Any) -> str:
    """A run/clean result in one cell: state and pass/fail counts."""
    result = d(result)
    state = result.get("state")
    if not state:
        return ""
    summary = d(result.get("summary"))
    tail = f" {int(summary.get('pass') or 0)}/{int(summary.get('fail') or 0) + int(summary.get('error') or 0)}" \
        if summary.get("total_tasks") else ""
    return marked(state, meaning(state)) + tail


def _name(ref: Any) -> str:
    ref = d(ref)
    return s(ref.get("name") or ref.get("uuid") or "")


def _harness(item: dict) -> str:
    for inst in lst(item.get("harness_instances")):
        harness = d(d(inst).get("harness"))
        if harness.get("name"):
            return s(harness["name"])
        if d(inst).get("name"):
            return s(d(inst)["name"])
    return ""


ITEM_HEADINGS = ["item", "state", "testbed", "engine", "harness", "profile", "start", "end", "run", "clean"]


def item_rows(raw: dict) -> list[tuple[str, tuple[str, ...]]]:
    rows = []
    for n, item in enumerate(lst(raw.get("items"))):
        if not isinstance(item, dict):  # the submit answer lists item ids only
            rows.append((s(item) or str(n), (s(item), "", "", "", "", "", "", "", "", "")))
            continue
        key = s(item.get("item_id")) or str(n)
        results = d(item.get("results"))
        state = item.get("state")
        testbed = _name(item.get("selected_testbed")) or ", ".join(
            _name(t) for t in lst(item.get("submitted_testbeds"))) or _name(item.get("topology"))
        rows.append((key, (key, marked(state, meaning(state)), testbed, _name(item.get("engine")), _harness(item),
                           _name(item.get("profile")), timestamp(item.get("start_time")),
                           timestamp(item.get("completion_time")), brief(results.get("run")),
                           brief(results.get("clean")))))
    return rows


def find_item(raw: dict, item_id: str) -> dict | None:
    return next((i for i in lst(raw.get("items")) if isinstance(i, dict) and s(i.get("item_id")) == item_id), None)


SECTION_HEADINGS = ["script", "section", "result", "run time", "log file", "type", "started"]  # 80 columns: the first five


def section_rows(result: Any) -> list[tuple[str, tuple[str, ...], dict]]:
    """One row per section of every script; the script's own (testscript) section heads its group."""
    rows = []
    for n, script in enumerate(lst(d(result).get("scripts"))):
        script = d(script)
        meta = d(script.get("meta"))
        task = s(meta.get("task_id")) or f"script {n + 1}"
        sections = [x for x in lst(script.get("sections")) if isinstance(x, dict)]
        if not sections:  # a script with no section yet still shows
            rows.append((f"{task}#", (task, s(meta.get("name")), "", "", "", "", ""), script))
        for m, sec in enumerate(sections):
            child = sec.get("parent_id") is not None
            name = s(sec.get("section_name"))
            result_text = sec.get("result")
            how = result_meaning(result_text)
            shown = marked(result_text or ("running" if child and not sec.get("stop_time") else ""), how)
            run_time = sec.get("run_time")
            try:
                took = duration(float(run_time)) if run_time not in (None, "") else ""
            except (TypeError, ValueError):
                took = s(run_time)
            rows.append((f"{task}#{m}", (task if not child else "", ("  " + name) if child else name, shown, took,
                                         s(sec.get("log_file")), s(sec.get("section_type")),
                                         timestamp(sec.get("start_time"))), sec))
    return rows


def header(raw: dict) -> list[tuple[str, str, str | None]]:
    """(label, value, meaning) lines of the request header."""
    state = raw.get("state")
    verdict = raw.get("verdict")
    tags = lst(raw.get("tags"))
    created, completed = raw.get("date_created"), raw.get("date_completed")
    lines = [
        ("state", s(state), meaning(state)),
        ("verdict", s(verdict) or "—", meaning(verdict) if verdict else None),
        ("job", s(raw.get("name")), None),
        ("submitter", " · ".join(x for x in (s(raw.get("submitter")),
                                             f"for {s(raw.get('username'))}" if raw.get("username") and
                                             raw.get("username") != raw.get("submitter") else "") if x), None),
        ("branch", s(raw.get("branch")) or "—", None),
        ("created", timestamp(created), None),
        ("completed", timestamp(completed) or "—", None),
        ("description", s(raw.get("description")) or "—", None),
        ("tags", ", ".join(s(t) for t in tags) or "—", None),
        ("request url", s(raw.get("request_url")), None),
        ("service url", s(raw.get("service_url")), None),
    ]
    for item in lst(raw.get("items")):
        stop = d(d(item).get("stop_requested"))
        if stop:
            lines.append(("stopped", f"by {s(stop.get('username'))}: {s(stop.get('reason'))}", WARNING))
            break
    return lines


def raw_json(raw: dict, reveal: bool) -> str:
    """The record as indented JSON, tokens masked unless revealed; safe to show."""
    return sanitize(json.dumps(raw if reveal else jwt.mask(raw), indent=2, ensure_ascii=False, default=str),
                    multiline=True)
