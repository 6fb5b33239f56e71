"""The simulator's shared state, auth and request plumbing (no routes of its own).

Status codes are the document's. Where it is silent the nearest documented case
is used: an unknown id is the 404 its sibling GET documents, a project the user
is not a member of is the 401 the execution API documents, a body that cannot
be used at all is a plain 400 (the server's Spring layer; the document only
says "an error occurs").
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from testdeck.sim.base import Ids, SimConfig

DEMO_OFFLINE_TOKEN = ("eyJhbGciOiJIUzI1NiIsInR5cCIgOiAiSldUIiwia2lkIiA6ICJkZW1vIn0.eyJ0eXAiOiJPZmZsaW5lIiwic3ViIjoi"
                      "dGVzdGRlY2stZGVtbyJ9.b2ZmbGluZS1kZW1vLXNpZ25hdHVyZQ")
DEMO_PROJECT_ID = "3600"
DEMO_SPACE_ID = "9f1c6a52-7d3e-4b8a-a0c4-5e2f7b9d1c30"
OTHER_PROJECT_ID = "3601"
PERF_SPACE_ID = "2b7e0d14-61a9-4c3f-9e5d-8a0f3c6b2e71"
PERF_PROJECT_ID = "3700"
SPACES = {DEMO_SPACE_ID: "Demo team", PERF_SPACE_ID: "Performance lab"}
PROJECTS = {DEMO_PROJECT_ID: ("Demo project", DEMO_SPACE_ID), OTHER_PROJECT_ID: ("Mobile banking", DEMO_SPACE_ID),
            PERF_PROJECT_ID: ("Checkout load", PERF_SPACE_ID)}
USER = "demo"
TOKEN_TTL = 300.0  # clock seconds an access token stays valid
UNAUTHORIZED = "Unauthorized user. Ensure user is member of project and authorization headers are correct."


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_iso(text: str) -> float | None:
    try:
        return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class Reject(Exception):
    """Answer with this status and body (a dict as JSON, a str as text/plain)."""

    def __init__(self, status: int, body: dict[str, Any] | str):
        super().__init__(str(body))
        self.status, self.body = status, body


def err(status: int, message: str) -> Reject:
    return Reject(status, {"code": status, "message": message})


def items(value: str | None) -> list[str]:
    """A comma-delimited query value as a list."""
    return [s.strip() for s in (value or "").split(",") if s.strip()]


def flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() == "true"


async def body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"null")
    except ValueError:
        raise err(400, "Request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise err(400, "Request body must be a JSON object")
    return data


def int_id(request: Request, name: str, missing: str) -> int:
    try:
        return int(request.path_params[name])
    except ValueError:
        raise err(404, missing) from None


class State:
    """Everything the simulator holds; the resource modules add their tables."""

    def __init__(self, config: SimConfig, token_ttl: float):
        self.config = config
        self.ids = Ids(config.seed)
        self.start = config.clock()
        self.auth: dict[str, Any] = {"ttl": token_ttl, "issued": 0, "leaky": False}
        self.tokens: dict[str, float] = {}  # access token -> issued at (clock)
        self.requests: list[tuple[str, str, str]] = []  # (method, path, query) of every API call, for tests

    def now(self) -> float:
        return self.config.clock()

    def uuid(self) -> str:
        h = self.ids.hex32()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def authorize(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        leak = f" (received: {header})" if self.auth["leaky"] else ""
        if scheme.lower() != "bearer" or not token:
            raise err(401, UNAUTHORIZED)
        issued = self.tokens.get(token)
        if issued is None:
            raise err(401, UNAUTHORIZED + leak)
        if self.now() - issued >= self.auth["ttl"]:
            raise err(401, "Access token has expired" + leak)

    def project(self, request: Request, name: str = "projectId") -> str:
        pid = request.path_params[name]
        if pid not in PROJECTS:
            raise err(401, UNAUTHORIZED)  # the document's answer for a project the user is not a member of
        return pid

    def space(self, request: Request) -> str:
        sid = request.path_params["spaceId"]
        if sid not in SPACES:
            raise err(404, f"Team space {sid} not found")
        return sid

    def endpoint(self, handler):
        async def route(request: Request) -> Response:
            self.requests.append((request.method, request.url.path, request.url.query))
            try:
                self.authorize(request)
                return await handler(request)
            except Reject as rej:
                if isinstance(rej.body, str):
                    return PlainTextResponse(rej.body, rej.status)
                return JSONResponse(rej.body, rej.status)
        return route
