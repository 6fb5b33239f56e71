"""The xyOps simulator's plumbing: routing, auth, privileges and errors as the real server sends them.

On /api/app/NAME/v1 URLs the real server (1.0.88) sets the HTTP status from the
error code: api 400, session and access 403, notfound 404, rate 429, anything
else (alert, bucket, job, ...) 500. Required parameters are checked before the
key; an unknown API name answers 200 with code 1.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

# Demo keys: real keys are 43 characters of letters, digits, - and _.
API_KEY = "xyops-demo_K3yFor7estdeckSimulatorOnly-0001"
READ_KEY = "xyops-demo_R3adOnlyKeyNoPrivilegesAtAll0002"
KEYS = {API_KEY: ("Demo admin key", None), READ_KEY: ("Read only", frozenset())}  # None: every privilege
assert all(len(k) == 43 for k in KEYS)

STATUS = {"api": 400, "session": 403, "access": 403, "notfound": 404, "rate": 429}
PRIVILEGES = {
    "create_alerts": "Create Alerts", "edit_alerts": "Edit Alerts", "delete_alerts": "Delete Alerts",
    "create_buckets": "Create Buckets", "edit_buckets": "Edit Buckets", "delete_buckets": "Delete Buckets",
    "run_jobs": "Run Jobs", "abort_jobs": "Abort Jobs",
}
ID_RULE = r"^[a-z0-9_]+$"


class Reject(Exception):
    def __init__(self, code: str, description: str):
        super().__init__(description)
        self.code, self.description = code, description


def error(code: str, description: str) -> JSONResponse:
    return JSONResponse({"code": code, "description": description}, status_code=STATUS.get(code, 500))


@dataclass
class Caller:
    key_title: str
    privileges: frozenset | None

    def require(self, privilege: str) -> None:
        if self.privileges is not None and privilege not in self.privileges:
            raise Reject("access", f'API Key "{self.key_title}" does not have the "{PRIVILEGES[privilege]}" '
                                   "privilege required to perform this action.")


@dataclass
class Api:
    """The registry of API handlers: name -> (handler, required params, privilege)."""

    handlers: dict[str, tuple[Callable, dict[str, str | None], str | None]] = field(default_factory=dict)

    def __call__(self, name: str, params: dict[str, str | None] | None = None, privilege: str | None = None):
        def register(fn: Callable) -> Callable:
            self.handlers[name] = (fn, params or {}, privilege)
            return fn
        return register


def require_params(p: dict[str, Any], spec: dict[str, str | None]) -> None:
    for name, rule in spec.items():
        value = p.get(name)
        if value is None or value == "":
            raise Reject("api", f"Missing parameter: {name}")
        if rule and not re.search(rule, str(value)):
            raise Reject("api", f"Malformed parameter: {name}")


async def read_params(request: Request) -> dict[str, Any] | Response:
    out: dict[str, Any] = dict(request.query_params)
    ctype = request.headers.get("content-type", "")
    if request.method == "POST" and not ctype.startswith("multipart/"):
        raw = await request.body()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                return PlainTextResponse("400 Bad Request: Invalid JSON in request body\n", status_code=400)
            if isinstance(body, dict):
                out.update(body)
    return out


def caller(request: Request, p: dict[str, Any]) -> Caller:
    key = request.headers.get("x-api-key") or p.pop("api_key", None)
    p.pop("api_key", None)
    if not key:
        raise Reject("session", "No Session ID or API Key could be found")
    if key not in KEYS:
        raise Reject("session", "Invalid API Key")
    title, privileges = KEYS[key]
    return Caller(title, privileges)


def api_route(api: Api) -> Route:
    async def dispatch(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in api.handlers:
            return JSONResponse({"code": 1, "description": f"Unsupported API: {name}"})
        fn, spec, privilege = api.handlers[name]
        p = await read_params(request)
        if isinstance(p, Response):
            return p
        try:
            require_params(p, spec)
            who = caller(request, p)
            if privilege:
                who.require(privilege)
            result = fn(p, request, who) if len(inspect.signature(fn).parameters) == 3 else fn(p)
            if inspect.isawaitable(result):
                result = await result
        except Reject as rej:
            return error(rej.code, rej.description)
        if isinstance(result, Response):
            return result
        # msgspec: 100k alerts (30 MB) render in a fraction of json.dumps' second, as a real server's would
        return Response(msgspec.json.encode({"code": 0, **(result or {})}), media_type="application/json")

    return Route("/api/app/{name}/v1", dispatch, methods=["GET", "POST"])


def matches(job: dict[str, Any], query: str) -> bool | None:
    """The unbase query subset used here (search_jobs, search_alerts): `*`, `key:value` terms (tags:_error, event:ID). None: invalid."""
    for term in query.split():
        if term == "*":
            continue
        if not re.fullmatch(r"[\w.-]+:[\w.*-]+", term):
            return None
        key, value = term.split(":", 1)
        have = job.get(key)
        if isinstance(have, list):
            if value not in [str(v) for v in have]:
                return False
        elif value not in (str(have), json.dumps(have)):  # true / false as JSON spells them
            return False
    return True


def as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def search_page(items: list[dict[str, Any]], query: str, p: dict[str, Any], key) -> tuple[list[dict[str, Any]], int]:
    """Matches of an unbase query, newest first, paged; the real default limit is 1.
    An invalid query answers no rows, not an error."""
    if items and matches(items[0], query) is None:
        return [], 0
    hits = sorted((i for i in items if matches(i, query)), key=key, reverse=True)
    offset, limit = max(0, as_int(p.get("offset"), 0)), max(1, as_int(p.get("limit"), 1))
    return hits[offset:offset + limit], len(hits)
