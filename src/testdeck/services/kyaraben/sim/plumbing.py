"""Request plumbing of the simulated kyaraben: auth, bodies, the real server's answer shapes.

The real server is aiohttp: JSON answers are `application/json; charset=utf-8`,
errors are text/plain, 202 deletes answer the text `202: Accepted`, and an
exception (a body missing a key the handler reads) is aiohttp's bare 500 page:
no traceback, no local path.
"""

from __future__ import annotations

import json
import pprint
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from testdeck.services.kyaraben.sim.world import DEMO_TOKEN, Reject

PAGE_500 = ("\n<html>\n  <head>\n    <title>500 Internal Server Error</title>\n  </head>\n  <body>\n"
            "    <h1>500 Internal Server Error</h1>\n    Server got itself in trouble\n  </body>\n</html>\n")


class Json(JSONResponse):
    media_type = "application/json; charset=utf-8"


def accepted() -> Response:
    return PlainTextResponse("202: Accepted", 202)


def no_content() -> Response:
    return Response(status_code=204, media_type="application/octet-stream")


async def body_of(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise Reject(400, "a json body is expected") from None
    if not isinstance(data, dict):
        raise Reject(400, "a json body is expected")
    return data


async def file_of(request: Request) -> tuple[str, bytes]:
    form = await request.form()
    upload = form["file"]  # missing: KeyError, a 500 like the real server
    if not isinstance(upload, UploadFile):
        raise Reject(400, 'missing form field "file"')
    return upload.filename or "upload", await upload.read()


def endpoint(fn: Callable[..., Awaitable[Response]]):
    async def route(request: Request) -> Response:
        user = request.headers.get("x-auth-userid", "").strip()
        if not user:
            return Json({"error": "Missing authentication header"}, 401)
        auth = request.headers.get("authorization")
        if auth is not None and auth.strip() != f"Bearer {DEMO_TOKEN}":
            return Json({"error": "Invalid authentication token"}, 401)
        try:
            return await fn(request, user, **request.path_params)
        except Reject as rej:
            return PlainTextResponse(rej.text, rej.status)
        except (KeyError, TypeError, AttributeError, ValueError):
            return HTMLResponse(PAGE_500, 500)
    return route


def route(path: str, fn: Callable[..., Awaitable[Response]], *methods: str) -> Route:
    return Route(path, endpoint(fn), methods=list(methods))


# --- POST /android's schema, with jsonschema's message format -------------------------------------

def _path(parts: list[Any]) -> str:
    return "".join(f"[{p!r}]" for p in parts)


def _indent(obj: Any) -> str:
    return "\n".join("    " + line for line in pprint.pformat(obj, width=72).splitlines())


def validate_schema(instance: Any, schema: dict[str, Any], where: list[Any] | None = None,
                    schema_where: list[Any] | None = None) -> None:
    """A tiny jsonschema (type/required/minimum/maximum); failures are 400 `Malformed request: ...`."""
    where = where or []
    schema_where = schema_where or []

    def fail(message: str, keyword: str) -> None:
        text = (f"Malformed request: {message}\n\n"
                f"Failed validating {keyword!r} in schema{_path(schema_where)}:\n{_indent(schema)}\n\n"
                f"On instance{_path(where)}:\n{_indent(instance)}")
        raise Reject(400, text)

    kind = schema.get("type")
    if kind == "object" and not isinstance(instance, dict):
        fail(f"{instance!r} is not of type 'object'", "type")
    if kind == "string" and not isinstance(instance, str):
        fail(f"{instance!r} is not of type 'string'", "type")
    if kind == "integer" and (isinstance(instance, bool) or not isinstance(instance, int)):
        fail(f"{instance!r} is not of type 'integer'", "type")
    if "minimum" in schema and instance < schema["minimum"]:
        fail(f"{instance!r} is less than the minimum of {schema['minimum']}", "minimum")
    if "maximum" in schema and instance > schema["maximum"]:
        fail(f"{instance!r} is greater than the maximum of {schema['maximum']}", "maximum")
    for name in schema.get("required", []):
        if name not in instance:
            fail(f"{name!r} is a required property", "required")
    for name, sub in schema.get("properties", {}).items():
        if isinstance(instance, dict) and name in instance:
            validate_schema(instance[name], sub, where + [name], schema_where + ["properties", name])
