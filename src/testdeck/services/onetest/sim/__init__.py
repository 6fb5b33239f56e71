"""OneTest Server (execution API) simulator: the whole document, split by resource.

Documented: `POST /rest/tokens/` takes the offline token as form field
`refresh_token` and answers `{"access_token": ...}`; every other call wants
`Authorization: Bearer <access_token>` and answers 401 "Unauthorized user..."
otherwise. The spaces and projects lists (for the console's picker) and the
results resource are the server's other APIs, as the issue describes them.

Silent in the document, chosen here: token errors are OAuth2-shaped
(`{"error": "invalid_grant", "error_description": ...}`, HTTP 400, as the
server's oauth2 provider answers; 403 when no license is available); other
errors are `{"message": ...}`; access tokens live `token_ttl` clock seconds
(default 300), and `app.state.auth["ttl"]` can be changed at run time.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from testdeck.services.onetest.sim import executions, hosts, virtualization
from testdeck.services.onetest.sim.common import (
    DEMO_OFFLINE_TOKEN,
    DEMO_PROJECT_ID,
    DEMO_SPACE_ID,
    OTHER_PROJECT_ID,
    PERF_PROJECT_ID,
    PERF_SPACE_ID,
    PROJECTS,
    SPACES,
    TOKEN_TTL,
    UNAUTHORIZED,
    State,
    iso,
)
from testdeck.services.onetest.sim.executions import (
    ACTIVE,
    ASSETS,
    LOG_RETENTION,
    SEED,
    STOP_GRACE,
    TRANSITION,
    parse_duration,
)
from testdeck.sim.base import SimConfig, faults

__all__ = ["ACTIVE", "ASSETS", "DEMO_OFFLINE_TOKEN", "DEMO_PROJECT_ID", "DEMO_SPACE_ID", "LOG_RETENTION",
           "OTHER_PROJECT_ID", "PERF_PROJECT_ID", "PERF_SPACE_ID", "PROJECTS", "SEED", "SPACES", "STOP_GRACE",
           "TOKEN_TTL", "TRANSITION", "UNAUTHORIZED", "create_app", "iso", "parse_duration"]


class _Segments:
    """Route on the raw path when it holds an escaped slash: `%2F` stays inside its segment, as on the
    real server, instead of being decoded into a path separator before routing."""

    def __init__(self, app):
        self.app = app

    @property
    def state(self):
        return self.app.state

    async def __call__(self, scope, receive, send):
        raw = scope.get("raw_path") or b""
        if scope["type"] == "http" and b"%2f" in raw.lower():
            text = raw.decode("latin-1").split("?")[0]
            scope = dict(scope, path="/".join(unquote(s).replace("/", "%2F") for s in text.split("/")))
        await self.app(scope, receive, send)


def create_app(config: SimConfig | None = None, *, token_ttl: float = TOKEN_TTL) -> Any:
    config = config or SimConfig()
    st = State(config, token_ttl)
    st.auth["licensed"] = True

    async def tokens_endpoint(request: Request):
        form = await request.form()
        offline = str(form.get("refresh_token") or "")
        if not offline:
            return JSONResponse({"error": "invalid_request",
                                 "error_description": "Missing form parameter: refresh_token"}, 400)
        if offline != DEMO_OFFLINE_TOKEN:
            extra = f" ({offline})" if st.auth["leaky"] else ""
            return JSONResponse({"error": "invalid_grant",
                                 "error_description": f"Offline token is not valid or was revoked{extra}"}, 400)
        if not st.auth["licensed"]:
            return JSONResponse({"error": "access_denied",
                                 "error_description": "No license is available for user demo"}, 403)
        access = "ots-" + st.ids.hex32() + st.ids.hex32()
        st.tokens[access] = st.now()
        st.auth["issued"] += 1
        return JSONResponse({"access_token": access, "expires_in": int(st.auth["ttl"]), "token_type": "Bearer",
                             "scope": "openid offline_access", "not-before-policy": 0})

    async def spaces(request: Request):
        search = request.query_params.get("search", "").lower()
        return JSONResponse([{"id": sid, "displayName": name} for sid, name in SPACES.items()
                             if search in name.lower()])

    async def projects(request: Request):
        space = request.headers.get("spaceId")
        rows = [{"id": pid, "name": name, "spaceId": sid} for pid, (name, sid) in PROJECTS.items()
                if not space or sid == space]
        return JSONResponse({"total": len(rows), "data": rows})

    routes = [
        Route("/rest/tokens/", tokens_endpoint, methods=["POST"]),
        Route("/rest/spaces", st.endpoint(spaces), methods=["GET"]),
        Route("/rest/projects", st.endpoint(projects), methods=["GET"]),
        *executions.routes(st),
        *hosts.routes(st),
        *virtualization.routes(st),
    ]
    app = Starlette(routes=routes)
    app.state.sim = st
    for name in ("executions", "tokens", "auth", "config", "agents", "dockerhosts", "rules", "intercepts"):
        setattr(app.state, name, getattr(st, name))
    return faults(_Segments(app), config)
