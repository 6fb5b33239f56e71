"""xyOps simulator: the alert endpoints of the API document, with its auth and errors.

Errors follow the Standard Response Format: HTTP 200 with a non-zero `code`
and a `description` (that is what the real server does for API errors).
"""

from __future__ import annotations

import ast
import json
import operator
import re
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from testdeck.sim.base import Ids, SimConfig, faults

API_KEY = "muJm8T6QSzqQzuO6MvbOdtlB"  # the demo key (the document's example)

SEED_ALERTS = [
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

SERVERS = {
    "s12345abcde": {"hostname": "web01.demo", "cpu": {"cores": 2},
                    "memory": {"total": 8_589_934_592, "available": 2_147_483_648},
                    "monitors": {"load_avg": 2.5, "disk_usage_var": 93, "net_errors": 0, "processes": 211,
                                 "open_files": 4012, "mem_avail": 2_147_483_648}},
    "s67890fghij": {"hostname": "db01.demo", "cpu": {"cores": 8},
                    "memory": {"total": 34_359_738_368, "available": 1_073_741_824},
                    "monitors": {"load_avg": 11.2, "disk_usage_var": 41, "net_errors": 17, "processes": 954,
                                 "open_files": 61877, "mem_avail": 1_073_741_824}},
}

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


def check_syntax(expr: str) -> None:
    try:
        ast.parse(expr.replace("&&", " and ").replace("||", " or "), mode="eval")
    except SyntaxError as exc:
        raise _Reject("alert", f"Expression compile error: {exc.msg}") from None


def render_message(template: str, data: dict[str, Any]) -> str:
    return re.sub(r"\{\{(.*?)\}\}", lambda m: str(evaluate(m.group(1).strip(), data)), template)


def _ok(**extra: Any) -> JSONResponse:
    return JSONResponse({"code": 0, **extra})


def _err(code: str, description: str) -> JSONResponse:
    return JSONResponse({"code": code, "description": description})


def create_app(config: SimConfig | None = None) -> Any:
    config = config or SimConfig()
    ids = Ids(config.seed)
    start = int(config.clock())
    alerts: dict[str, dict[str, Any]] = {}
    for i, (aid, title, expr, msg, mon, enabled) in enumerate(SEED_ALERTS):
        alerts[aid] = {"id": aid, "title": title, "expression": expr, "message": msg, "groups": [], "email": "",
                       "web_hook": "", "monitor_id": mon, "enabled": enabled, "samples": 1, "notes": "",
                       "username": "admin", "modified": start - 600 * (i + 1), "created": start - 86400 * (i + 2)}
    for n in range(config.size):
        aid = ids.alnum(11, "a")
        alerts[aid] = {"id": aid, "title": f"Generated alert {n}", "expression": f"monitors.load_avg > {n % 50}",
                       "message": "load {{monitors.load_avg}}", "groups": [], "email": "", "web_hook": "",
                       "monitor_id": "load_avg", "enabled": n % 3 != 0, "samples": 1, "notes": "",
                       "username": "admin", "modified": start - n, "created": start - 86400 - n}

    async def params(request: Request) -> dict[str, Any]:
        out: dict[str, Any] = dict(request.query_params)
        if request.method == "POST":
            raw = await request.body()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise _Reject("api", "Malformed JSON in request body") from None
                if not isinstance(body, dict):
                    raise _Reject("api", "Request body must be a JSON object")
                out.update(body)
        return out

    def authorize(request: Request, p: dict[str, Any]) -> None:
        key = request.headers.get("x-api-key") or p.pop("api_key", None)
        p.pop("api_key", None)
        if not key:
            raise _Reject("session", "No Session ID or API Key could be found")
        if key != API_KEY:
            raise _Reject("api", "Invalid API Key: not found or disabled")

    def endpoint(handler, methods=("GET", "POST")):
        async def route(request: Request):
            try:
                p = await params(request)
                authorize(request, p)
                return handler(p)
            except _Reject as rej:
                return _err(rej.code, rej.description)
        return route, list(methods)

    def route(path, handler, methods=("GET", "POST")):
        fn, m = endpoint(handler, methods)
        return Route(path, fn, methods=m)

    def need(p: dict[str, Any], *names: str) -> None:
        for name in names:
            value = p.get(name)
            if not isinstance(value, str) or not value.strip():
                raise _Reject("api", f"Missing or malformed parameter: {name}")

    def find(p: dict[str, Any]) -> dict[str, Any]:
        need(p, "id")
        alert = alerts.get(p["id"])
        if alert is None:
            raise _Reject("alert", f"Alert not found: {p['id']}")
        return alert

    def get_alerts(p):
        rows = sorted(alerts.values(), key=lambda a: a["title"].lower())
        return _ok(rows=rows, list={"length": len(rows)})

    def get_alert(p):
        return _ok(alert=find(p))

    def create_alert(p):
        need(p, "title", "expression", "message")
        aid = p.get("id") or ids.alnum(11, "a")
        if not re.fullmatch(r"\w+", str(aid)):
            raise _Reject("api", "Malformed parameter: id (must be alphanumeric)")
        if aid in alerts:
            raise _Reject("alert", f"Alert already exists: {aid}")
        check_syntax(p["expression"])
        now = int(config.clock())
        alert = {"groups": [], "email": "", "web_hook": "", "monitor_id": "", "enabled": True, "samples": 1,
                 "notes": "", **{k: v for k, v in p.items()},
                 "id": aid, "username": "api", "created": now, "modified": now}
        alerts[aid] = alert
        return _ok(alert=alert)

    def update_alert(p):
        alert = find(p)
        if "expression" in p:
            check_syntax(str(p["expression"]))
        for k, v in p.items():
            if k not in ("id", "created", "username"):
                alert[k] = v  # shallow merge
        alert["modified"] = int(config.clock())
        return _ok()

    def test_alert(p):
        need(p, "server", "expression", "message")
        server = SERVERS.get(p["server"])
        if server is None:
            raise _Reject("server", f"Server not found: {p['server']}")
        try:
            result = bool(evaluate(p["expression"], server))
            message = render_message(p["message"], server)
        except ExprError as exc:
            raise _Reject("alert", str(exc)) from None
        return _ok(result=result, message=message)

    def delete_alert(p):
        alert = find(p)
        del alerts[alert["id"]]
        return _ok()

    routes = [
        route("/api/app/get_alerts/v1", get_alerts),
        route("/api/app/get_alert/v1", get_alert),
        route("/api/app/create_alert/v1", create_alert, ("POST",)),
        route("/api/app/update_alert/v1", update_alert, ("POST",)),
        route("/api/app/test_alert/v1", test_alert, ("POST",)),
        route("/api/app/delete_alert/v1", delete_alert, ("POST",)),
    ]
    app = Starlette(routes=routes)
    app.state.alerts = alerts
    app.state.config = config
    return faults(app, config)


class _Reject(Exception):
    def __init__(self, code: str, description: str):
        super().__init__(description)
        self.code, self.description = code, description
