"""Alerts: the definitions, with the fields real alerts carry (actions, revision, icon...).

test_alert evaluates on the server's host data (servers.HOST_DATA); unknown
identifiers make the expression false, as on the real server (jexl).
"""

from __future__ import annotations

import ast
import operator
import re
from typing import Any

from testdeck.services.xyops.sim.core import ID_RULE, Api, Reject, search_page

SEED = [
    ("load_avg_high", "High CPU Load", "monitors.load_avg >= (cpu.cores + 1)",
     "CPU load average is too high: {{float(monitors.load_avg)}} ({{cpu.cores}} CPU cores)", "load_avg", True),
    ("mem_low", "Low Memory", "memory.available < (memory.total * 0.05)",
     "Available memory is low: {{bytes(memory.available)}}", "mem_avail", True),
    ("disk_full", "Disk [/var] almost full", "monitors.disk_usage_var >= 90",
     "Disk /var is {{monitors.disk_usage_var}}% full", "disk_usage_var", True),
    ("net_errors", "Network Errors", "monitors.net_errors > 10",
     "{{monitors.net_errors}} network errors in the last minute", "net_errors", False),
    ("proc_count", "Too Many Processes", "monitors.processes > 900",
     "{{monitors.processes}} processes running", "processes", True),
    ("open_files", "Open Files Near Limit", "monitors.open_files > 60000",
     "{{monitors.open_files}} open files", "open_files", False),
]


def default_actions(n: int) -> list[dict[str, Any]]:
    """The notifications of a real alert live in `actions`, not in top-level email/web_hook fields."""
    actions = [{"enabled": True, "condition": "alert_new", "type": "email", "users": ["admin"], "email": ""}]
    if n % 2 == 0:
        actions.append({"enabled": True, "condition": "alert_cleared", "type": "web_hook", "web_hook": "example_hook"})
    return actions


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Mod: operator.mod, ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Lt: operator.lt,
        ast.LtE: operator.le, ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.USub: operator.neg}
_FUNCS = {"float": lambda v: round(float(v), 2), "integer": lambda v: int(v), "bytes": lambda v: f"{v / 2**30:.1f} GB",
          "number": lambda v: f"{v:,}"}


class ExprError(Exception):
    pass


def evaluate(expr: str, data: dict[str, Any]) -> Any:
    """A tiny, safe evaluator for the alert expression language (JS-like)."""
    text = expr.replace("&&", " and ").replace("||", " or ").replace("===", "==").replace("!==", "!=")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"Expression compile error: {exc.msg} (column {exc.offset})") from None

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in data:
                raise ExprError(f"Unknown identifier: {node.id}")
            return data[node.id]
        if isinstance(node, ast.Attribute):
            base = ev(node.value)
            if not isinstance(base, dict) or node.attr not in base:
                raise ExprError(f"Unknown property: {node.attr}")
            return base[node.attr]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.operand))
        if isinstance(node, ast.BoolOp):
            values = [ev(v) for v in node.values]
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.Compare):
            left = ev(node.left)
            for op, comp in zip(node.ops, node.comparators):
                right = ev(comp)
                if type(op) not in _OPS or not _OPS[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS:
            return _FUNCS[node.func.id](*[ev(a) for a in node.args])
        raise ExprError(f"Unsupported syntax: {type(node).__name__}")

    try:
        return ev(tree)
    except ExprError:
        raise
    except Exception as exc:  # arithmetic on the wrong types and the like
        raise ExprError(f"Expression evaluation error: {exc}") from None


def compile_error(expr: str) -> str | None:
    try:
        ast.parse(expr.replace("&&", " and ").replace("||", " or ").replace("===", "==").replace("!==", "!="),
                  mode="eval")
    except SyntaxError as exc:
        return f"Error: {exc.msg} (column {exc.offset})"
    return None


def render_message(template: str, data: dict[str, Any]) -> str:
    def one(m: re.Match) -> str:
        try:
            return str(evaluate(m.group(1).strip(), data))
        except ExprError:
            return ""
    return re.sub(r"\{\{(.*?)\}\}", one, template)


def seed(alerts: dict[str, dict[str, Any]], start: int, size: int, new_id) -> None:
    for i, (aid, title, expr, msg, mon, enabled) in enumerate(SEED):
        alerts[aid] = {"id": aid, "title": title, "enabled": enabled, "icon": "bell-alert-outline",
                       "expression": expr, "message": msg, "groups": [], "actions": default_actions(i),
                       "monitor_id": mon, "samples": 1, "exclusive_actions": False, "limit_jobs": False,
                       "abort_jobs": False, "notes": "", "username": "admin", "modified": start - 600 * (i + 1),
                       "created": start - 86400 * (i + 2), "revision": 1 + i % 3}
    for n in range(size):
        aid = new_id("a")
        alerts[aid] = {"id": aid, "title": f"Generated alert {n}", "enabled": n % 3 != 0, "icon": "",
                       "expression": f"monitors.load_avg > {n % 50}", "message": "load {{monitors.load_avg}}",
                       "groups": [], "actions": [], "monitor_id": "load_avg", "samples": 1, "notes": "",
                       "username": "admin", "modified": start - n, "created": start - 86400 - n, "revision": 1}


def seed_invocations(invocations: dict, alerts: dict, hosts: dict, start: int, new_id) -> None:
    """Alerts firing now: each enabled alert whose expression is true on a server's host data."""
    for n, (sid, host) in enumerate(hosts.items()):
        fires: dict[str, bool] = {}  # per expression: 100k generated alerts share 50 of them

        def firing(expr: str) -> bool:
            if expr not in fires:
                try:
                    fires[expr] = bool(evaluate(expr, host["data"]))
                except ExprError:
                    fires[expr] = False
            return fires[expr]

        for alert in alerts.values():
            if alert.get("enabled") and firing(alert["expression"]):
                iid = new_id("i")
                invocations[iid] = {"id": iid, "alert": alert["id"], "server": sid, "active": True,
                                    "date": start - 900 * (n + 1), "modified": start - 60, "count": 3 + n,
                                    "exp": alert["expression"], "message": render_message(alert["message"],
                                                                                          host["data"]),
                                    "groups": [], "jobs": [], "notified": True}


def install(api: Api, alerts: dict[str, dict[str, Any]], host_data, clock, new_id,
            invocations: dict[str, dict[str, Any]]) -> None:
    @api("search_alerts")
    def search_alerts(p):
        rows, total = search_page(list(invocations.values()), str(p.get("query") or "*"), p,
                                  key=lambda i: (i.get("date", 0), i["id"]))
        return {"rows": rows, "list": {"length": total}}

    def check(p: dict[str, Any], aid: str) -> None:
        for key, what in (("expression", "alert expression"), ("message", None)):
            if key not in p:
                continue
            text = str(p[key])
            parts = [text] if what else re.findall(r"\{\{(.+?)\}\}", text)
            for part in parts:
                problem = compile_error(part)
                if problem:
                    where = what or "macros in alert message"
                    raise Reject("alert", f"Failed to compile {where}: {aid + ': ' if aid else ''}{problem}")

    @api("get_alerts")
    def get_alerts(p):
        rows = sorted(alerts.values(), key=lambda a: str(a.get("title", "")).lower())
        return {"rows": rows, "list": {"length": len(rows)}}

    @api("get_alert", {"id": ID_RULE})
    def get_alert(p):
        alert = alerts.get(p["id"])
        if alert is None:
            raise Reject("notfound", f"Failed to locate alert: {p['id']}")
        return {"alert": alert}

    @api("create_alert", {"title": None, "expression": None, "message": None}, "create_alerts")
    def create_alert(p):
        if p.get("id") not in (None, "") and not re.search(ID_RULE, str(p["id"])):
            raise Reject("api", "Malformed parameter: id")
        aid = str(p.get("id") or new_id("a"))
        if aid in alerts:
            raise Reject("alert", f"That Alert ID already exists: {aid}")
        check(p, aid)
        now = int(clock())
        alert = {**p, "id": aid, "username": "api", "created": now, "modified": now, "revision": 1}
        alerts[aid] = alert  # only what was sent, as the real server stores it
        return {"alert": alert}

    @api("update_alert", {"id": ID_RULE}, "edit_alerts")
    def update_alert(p):
        check(p, p["id"])
        alert = alerts.get(p["id"])
        if alert is None:
            raise Reject("alert", "Failed to update alert: Item not found")
        for k, v in p.items():
            if k not in ("created", "username", "revision"):
                alert[k] = v  # shallow merge
        alert["modified"] = int(clock())
        alert["revision"] = int(alert.get("revision") or 0) + 1
        return {}

    @api("test_alert", {"server": r"^\w+$", "expression": r"\S", "message": r"\S"}, "edit_alerts")
    def test_alert(p):
        problem = compile_error(p["expression"])
        if problem:
            raise Reject("alert", f"Failed to compile alert expression: {problem}")
        data = host_data(p["server"])
        if data is None:
            raise Reject("alert", f"Failed to load server data: Error: Failed to fetch key: "
                                  f"hosts/{p['server']}/data: Not found")
        try:
            result = bool(evaluate(p["expression"], data))
        except ExprError:
            result = False  # jexl: unknown identifiers are undefined, the expression false
        return {"result": result, "message": render_message(p["message"], data)}

    @api("delete_alert", {"id": ID_RULE}, "delete_alerts")
    def delete_alert(p):
        if alerts.pop(p["id"], None) is None:
            raise Reject("alert", "Failed to delete alert: Item not found")
        return {}
