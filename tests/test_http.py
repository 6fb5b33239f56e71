"""The shared HTTP layer: server messages, retries, timeouts, read-only, redaction, token exchange."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from testdeck import http as http_mod
from testdeck.config import Profile
from testdeck.errors import ApiError, ReadOnlyError
from testdeck.errortext import message_from_body
from testdeck.http import ApiClient, Health
from testdeck.transport import TokenExchangeAuth

SECRET = "tok+Ab/9xQ==zzSECRETzz"  # base64-ish: +, / and = change under URL and JSON escaping


class Client(ApiClient):
    service = "demo"
    backoff = 0.0


def make(url: str = "http://testserver", *, app=None, secret: str | None = SECRET, timeout: float = 5.0,
         read_only: bool = False, cls: type[ApiClient] = Client) -> ApiClient:
    profile = Profile(name="lab", service="xyops", url=url, timeout=timeout)
    transport = httpx.ASGITransport(app=app) if app is not None else None
    return cls(profile, secret, read_only=read_only, transport=transport)


ALL = ["GET", "POST", "PUT", "DELETE", "PATCH"]


def R(path: str, handler) -> Route:
    return Route(path, handler, methods=ALL)


def app_of(*routes: Route) -> Starlette:
    return Starlette(routes=list(routes))


def serve(sim_server, app) -> str:
    url, _, _ = sim_server(lambda config: app)
    return url


async def error_of(client: ApiClient, method: str = "GET", path: str = "/x", **kw) -> ApiError:
    with pytest.raises(ApiError) as info:
        await client.request(method, path, **kw)
    return info.value


# --- the server's own message ---------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ({"code": "api", "description": "Alert not found: a1"}, "Alert not found: a1"),   # xyOps
    ({"Error": "Group qa is not allowed"}, "Group qa is not allowed"),                 # XPRESSO
    ({"error": "user_id missing"}, "user_id missing"),                                 # kyaraben
    ({"message": "Execution 7 unknown", "status": 400}, "Execution 7 unknown"),
    ({"error": {"message": "nested words"}}, "nested words"),
    ([{"message": "first"}, {"message": "second"}], "first; second"),
])
async def test_json_error_bodies_give_the_servers_message(body, message):
    async def handler(request):
        return JSONResponse(body, status_code=400)

    async with make(app=app_of(R("/x", handler))) as client:
        err = await error_of(client)
    assert err.status == 400
    assert err.message == message
    assert json.loads(err.detail) == body
    assert err.retryable is False


async def test_text_plain_body_first_meaningful_line_and_full_detail():
    text = "\n\n   \n  Job j42 is not running\n  state: COMPLETE\nsee the job log\n"

    async def handler(request):
        return PlainTextResponse(text, status_code=409)

    async with make(app=app_of(R("/x", handler))) as client:
        err = await error_of(client)
    assert err.message == "Job j42 is not running"
    assert "state: COMPLETE" in err.detail and "see the job log" in err.detail
    assert err.status == 409


async def test_html_body_gives_heading_text_not_tags():
    page = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title>"
            "<style>h1 {color: red}</style></head>"
            "<body><center><h1>Bad <b>Gateway</b> &amp; friends</h1></center><hr>nginx/1.25</body></html>")

    async def handler(request):
        return HTMLResponse(page, status_code=502)

    async with make(app=app_of(R("/x", handler))) as client:
        err = await error_of(client, "POST")  # POST: no retry
    assert err.message == "Bad Gateway & friends"
    assert "<" not in err.message and "<" not in err.detail
    assert "color: red" not in err.detail
    assert "nginx/1.25" in err.detail
    assert err.retryable is True


async def test_html_title_only():
    async def handler(request):
        return HTMLResponse("<html><head><title>Access denied</title></head><body><p>x</p></body></html>",
                            status_code=403)

    async with make(app=app_of(R("/x", handler))) as client:
        err = await error_of(client)
    assert err.message == "Access denied"


@pytest.mark.parametrize("status, reason", [(404, "Not Found"), (500, "Internal Server Error"),
                                            (401, "Unauthorized")])
async def test_empty_body_gives_the_reason_phrase(status, reason):
    async def handler(request):
        return Response(b"", status_code=status)

    async with make(app=app_of(R("/x", handler))) as client:
        err = await error_of(client, "POST")
    assert err.message == reason
    assert err.detail == ""


async def test_malformed_json_on_200():
    async def handler(request):
        return Response(b'{"rows": [{"id": "trunc', media_type="application/json")

    async with make(app=app_of(R("/x", handler))) as client:
        err = await error_of(client, "POST")
    assert err.status == 200
    assert "malformed JSON" in err.message
    assert '{"rows"' in err.detail


async def test_success_payloads():
    async def handler(request):
        return JSONResponse({"rows": [1, 2]})

    async def empty(request):
        return Response(b"", status_code=204)

    async def text(request):
        return PlainTextResponse("hello")

    app = app_of(R("/x", handler), Route("/e", empty, methods=["DELETE"]), Route("/t", text))
    async with make(app=app) as client:
        assert await client.request("GET", "/x") == {"rows": [1, 2]}
        assert await client.request("DELETE", "/e") is None
        assert await client.request("GET", "/t", expect="text") == "hello"
        assert await client.request("GET", "/t", expect="bytes") == b"hello"


async def test_check_payload_hook_turns_a_200_into_an_error():
    class Coded(Client):
        def check_payload(self, payload):
            return payload.get("description") if payload.get("code") else None

    async def handler(request):
        return JSONResponse({"code": "session", "description": "Session expired"})

    async with make(app=app_of(R("/x", handler)), cls=Coded) as client:
        err = await error_of(client)
    assert (err.status, err.message) == (200, "Session expired")


# --- retries, drops and timeouts (real loopback) ---------------------------------------

def counting_app(status: int = 503):
    hits: Counter = Counter()

    async def handler(request):
        hits[request.method] += 1
        return PlainTextResponse("Service Unavailable: warming up", status_code=status)

    return app_of(Route("/x", handler, methods=["GET", "POST", "PUT"])), hits


async def test_get_is_retried_on_503(sim_server):
    app, hits = counting_app(503)
    async with make(serve(sim_server, app)) as client:
        err = await error_of(client, "GET")
    assert hits["GET"] == 1 + Client.retries == 3
    assert err.status == 503 and err.retryable
    assert err.message == "Service Unavailable: warming up"


async def test_get_503_then_ok_succeeds(sim_server):
    hits = Counter()

    async def handler(request):
        hits["n"] += 1
        if hits["n"] < 3:
            return Response(b"", status_code=503)
        return JSONResponse({"ok": True})

    async with make(serve(sim_server, app_of(R("/x", handler)))) as client:
        assert await client.request("GET", "/x") == {"ok": True}
        assert client.health.ok is True
    assert hits["n"] == 3


async def test_post_is_not_retried_on_503(sim_server):
    app, hits = counting_app(503)
    async with make(serve(sim_server, app)) as client:
        err = await error_of(client, "POST", json_body={"a": 1})
        await error_of(client, "PUT", json_body={"a": 1})
    assert hits["POST"] == 1 and hits["PUT"] == 1
    assert err.status == 503 and err.retryable


async def test_post_marked_idempotent_is_retried(sim_server):
    app, hits = counting_app(503)
    async with make(serve(sim_server, app)) as client:
        await error_of(client, "POST", idempotent=True)
    assert hits["POST"] == 3


def dropping_app():
    """Answers headers, then drops the connection mid-body (a real dropped connection)."""
    hits: Counter = Counter()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        hits[scope["method"]] += 1
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")]})
        raise RuntimeError("connection dropped")

    return app, hits


async def test_get_is_retried_on_dropped_connections(sim_server):
    app, hits = dropping_app()
    async with make(serve(sim_server, app)) as client:
        err = await error_of(client, "GET")
    assert hits["GET"] == 3
    assert err.status is None and err.retryable
    assert "connection failed" in err.message
    assert "\n" not in str(err)


async def test_post_is_not_retried_on_dropped_connections(sim_server):
    app, hits = dropping_app()
    async with make(serve(sim_server, app)) as client:
        err = await error_of(client, "POST", json_body={})
    assert hits["POST"] == 1
    assert err.retryable


async def test_connection_refused_is_an_api_error():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    async with make(f"http://127.0.0.1:{port}") as client:
        err = await error_of(client)
    assert err.status is None and err.retryable
    assert "no response" in str(err)


async def test_timeout_is_a_retryable_api_error(sim_server):
    hits = Counter()

    async def slow(request):
        hits["n"] += 1
        await asyncio.sleep(1.0)
        return JSONResponse({})

    url = serve(sim_server, app_of(Route("/x", slow, methods=["GET", "POST"])))
    async with make(url, timeout=0.2) as client:
        loop = asyncio.get_running_loop()
        start = loop.time()
        err = await error_of(client, "POST")
        took = loop.time() - start
        assert err.retryable is True and err.status is None
        assert "timed out" in err.message
        assert took < 0.9
        assert hits["n"] == 1
        err = await error_of(client, "GET")
        assert err.retryable and "timed out" in err.message
    await asyncio.sleep(0.1)
    assert hits["n"] == 2  # the timeout bounds the whole GET, retries included: no time was left to retry


# --- read-only ---------------------------------------------------------------------------

async def test_read_only_refuses_mutations_before_sending(sim_server):
    hits = Counter()

    async def handler(request):
        hits[request.method] += 1
        return JSONResponse({"ok": True})

    url = serve(sim_server, app_of(Route("/x", handler, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])))
    async with make(url, read_only=True) as client:
        for method in ("POST", "PUT", "DELETE", "PATCH", "post"):
            with pytest.raises(ReadOnlyError) as info:
                await client.request(method, "/x", json_body={"a": 1})
            assert "read-only" in str(info.value)
        assert hits == Counter()
        assert client.health.ok is None, "a refusal says nothing about the server"
        assert await client.request("GET", "/x") == {"ok": True}
        assert await client.request("POST", "/x", json_body={"q": 1}, mutates=False) == {"ok": True}
        with pytest.raises(ReadOnlyError):
            await client.request("GET", "/x", mutates=True)
    assert hits == Counter({"GET": 1, "POST": 1})


async def test_read_only_refuses_upload_before_sending(sim_server, tmp_path):
    hits = Counter()

    async def handler(request):
        hits[request.method] += 1
        return JSONResponse({})

    f = tmp_path / "a.apk"
    f.write_bytes(b"x" * 10)
    async with make(serve(sim_server, app_of(Route("/up", handler, methods=["POST"]))), read_only=True) as c:
        with pytest.raises(ReadOnlyError):
            await c.upload("POST", "/up", f)
    assert hits == Counter()


# --- secrets never leak -----------------------------------------------------------------

async def test_secret_echoed_in_error_body_is_redacted():
    async def handler(request):
        key = request.headers.get("x-api-key", "")
        return JSONResponse({"description": f"Invalid API key: {key}", "key": key}, status_code=403)

    class Keyed(Client):
        def default_headers(self):
            return {"X-API-Key": self._secret}

    async with make(app=app_of(R("/x", handler)), cls=Keyed) as client:
        err = await error_of(client)
    assert err.message.startswith("Invalid API key: ")
    for text in (str(err), err.message, err.detail, repr(err), repr(err.args)):
        assert SECRET not in text


async def test_secret_echoed_in_text_body_is_redacted():
    async def handler(request):
        return PlainTextResponse(f"bad token {request.headers.get('x-token')}\nrequest had {request.headers}",
                                 status_code=401)

    class Tok(Client):
        def default_headers(self):
            return {"X-Token": self._secret}

    async with make(app=app_of(R("/x", handler)), cls=Tok) as client:
        err = await error_of(client)
    assert SECRET not in str(err) and SECRET not in err.detail
    assert "bad token ***" in err.message


async def test_secret_straddling_the_message_cut_is_not_partly_shown():
    async def handler(request):
        return PlainTextResponse("x" * 290 + " " + SECRET, status_code=400)

    async with make(app=app_of(R("/x", handler))) as client:
        err = await error_of(client)
    assert SECRET[:8] not in str(err)
    assert SECRET[:8] not in err.detail


async def test_secret_echoed_url_or_json_escaped_is_redacted():
    """A server echoing the form body (URL-encoded) or a PHP-style JSON (escaped slashes)."""
    async def handler(request):
        body = (await request.body()).decode()
        escaped = json.dumps(SECRET)[1:-1].replace("/", "\\/")
        return PlainTextResponse(f"bad request body: {body}\njson: {escaped}", status_code=400)

    async with make(app=app_of(Route("/x", handler, methods=["POST"]))) as client:
        err = await error_of(client, "POST", data={"refresh_token": SECRET})
    from urllib.parse import quote_plus
    assert quote_plus(SECRET) not in err.message and quote_plus(SECRET) not in err.detail
    assert "\\/9xQ" not in err.detail


async def test_secret_in_malformed_200_body_is_redacted():
    async def handler(request):
        return Response(f'{{"token": "{SECRET}", "trunc'.encode(), media_type="application/json")

    async with make(app=app_of(R("/x", handler))) as client:
        err = await error_of(client, "POST")
    assert "malformed JSON" in err.message
    assert SECRET not in str(err) and SECRET not in err.detail


# --- token exchange -------------------------------------------------------------------

def token_app(*, expire_after: int | None = None, exchange_status: int = 200):
    state = {"exchanges": 0, "calls": 0, "forms": [], "valid": set(), "uses": Counter()}

    async def tokens(request):
        form = await request.form()
        state["forms"].append(dict(form))
        state["exchanges"] += 1
        if exchange_status != 200:
            return JSONResponse({"error": "invalid_grant", "error_description": "Offline token expired"},
                                status_code=exchange_status)
        token = f"access-{state['exchanges']}-abcdef"
        state["valid"] = {token}
        return JSONResponse({"access_token": token, "expires_in": 300})

    async def data(request):
        state["calls"] += 1
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        if token not in state["valid"]:
            return JSONResponse({"message": "token expired"}, status_code=401)
        state["uses"][token] += 1
        if expire_after and state["uses"][token] >= expire_after:
            state["valid"] = set()  # the next call with this token is a 401
        return JSONResponse({"token_used": token})

    app = app_of(Route("/rest/tokens/", tokens, methods=["POST"]), Route("/rest/data", data))
    return app, state


class OneTestish(Client):
    def auth(self):
        return TokenExchangeAuth("/rest/tokens/", {"refresh_token": self._secret},
                                 parse=lambda r: r.json()["access_token"], on_token=self.remember_secret)


async def test_token_exchanged_once_and_reused(sim_server):
    app, state = token_app()
    async with make(serve(sim_server, app), cls=OneTestish) as client:
        for _ in range(3):
            # the server echoes the access token: a remembered secret, redacted even in a success
            assert (await client.request("GET", "/rest/data"))["token_used"] == "***"
    assert state["uses"] == {"access-1-abcdef": 3}
    assert state["exchanges"] == 1
    assert state["forms"] == [{"refresh_token": SECRET}]
    assert state["calls"] == 3


async def test_token_renewed_once_on_401(sim_server):
    app, state = token_app(expire_after=1)
    async with make(serve(sim_server, app), cls=OneTestish) as client:
        await client.request("GET", "/rest/data")
        await client.request("GET", "/rest/data")
    assert state["uses"] == {"access-1-abcdef": 1, "access-2-abcdef": 1}
    assert state["exchanges"] == 2
    assert state["calls"] == 3  # ok, 401, ok after renewal


async def test_token_renewed_only_once_when_401_persists():
    exchanges = Counter()

    async def tokens(request):
        exchanges["n"] += 1
        return JSONResponse({"access_token": f"t{exchanges['n']}-longer"})

    async def data(request):
        exchanges["calls"] += 1
        return JSONResponse({"message": "no access to project p1"}, status_code=401)

    app = app_of(Route("/rest/tokens/", tokens, methods=["POST"]), Route("/rest/data", data))
    async with make(app=app, cls=OneTestish) as client:
        err = await error_of(client, "GET", "/rest/data")
    assert err.status == 401 and err.message == "no access to project p1"
    assert exchanges["n"] == 2 and exchanges["calls"] == 2


async def test_failed_exchange_is_an_api_error_with_the_servers_message():
    app, state = token_app(exchange_status=400)
    async with make(app=app, cls=OneTestish) as client:
        err = await error_of(client, "GET", "/rest/data")
    assert err.status == 400
    assert err.method == "POST" and err.path == "/rest/tokens/"
    assert "token exchange failed" in err.message and "invalid_grant" in err.message
    assert state["calls"] == 0
    assert SECRET not in str(err) and SECRET not in err.detail


async def test_exchanged_token_is_redacted_in_errors():
    async def tokens(request):
        return JSONResponse({"access_token": "eyJhbGciOi-access-token"})

    async def data(request):
        return PlainTextResponse(f"forbidden for {request.headers['authorization']}", status_code=403)

    app = app_of(Route("/rest/tokens/", tokens, methods=["POST"]), Route("/rest/data", data))
    async with make(app=app, cls=OneTestish) as client:
        err = await error_of(client, "GET", "/rest/data")
    assert "eyJhbGciOi-access-token" not in str(err) and "eyJhbGciOi-access-token" not in err.detail


# --- upload ------------------------------------------------------------------------------

async def test_upload_sends_multipart_and_reports_progress(sim_server, tmp_path):
    seen = {}

    async def handler(request):
        form = await request.form()
        up = form["file"]
        seen["name"] = up.filename
        seen["content"] = await up.read()
        seen["project"] = form.get("project")
        seen["ctype"] = request.headers["content-type"]
        return JSONResponse({"id": "apk1", "size": len(seen["content"])})

    content = bytes(range(256)) * 1000  # 256 kB: several chunks
    f = tmp_path / "app-release.apk"
    f.write_bytes(content)
    calls: list[tuple[int, int]] = []
    url = serve(sim_server, app_of(Route("/apks", handler, methods=["POST"])))
    async with make(url) as client:
        result = await client.upload("POST", "/apks", f, data={"project": "p1"},
                                     progress=lambda sent, total: calls.append((sent, total)))
    assert result == {"id": "apk1", "size": len(content)}
    assert seen["content"] == content and seen["name"] == "app-release.apk" and seen["project"] == "p1"
    assert seen["ctype"].startswith("multipart/form-data")
    total = calls[-1][1]
    assert total > len(content)
    assert calls[-1] == (total, total)
    assert len(calls) > 1
    assert [s for s, _ in calls] == sorted(s for s, _ in calls)


async def test_upload_of_a_missing_file_is_an_api_error(tmp_path):
    async with make() as client:
        with pytest.raises(ApiError) as info:
            await client.upload("POST", "/apks", tmp_path / "nope.apk")
    assert "nope.apk" in str(info.value)


# --- ApiError and Health -------------------------------------------------------------------

def test_api_error_is_one_line_with_everything():
    err = ApiError("xyops", "prod", "DELETE", "/api/app/delete_alert/v1", 404, "Alert not found")
    assert str(err) == "xyops/prod: DELETE /api/app/delete_alert/v1: HTTP 404: Alert not found"
    assert err.retryable is False
    err = ApiError("kyaraben", "lab", "GET", "/vms", None, "timed out", retryable=True)
    assert str(err) == "kyaraben/lab: GET /vms: no response: timed out"


def test_api_error_str_stays_one_line_with_a_multiline_message():
    err = ApiError("s", "p", "GET", "/x", 500, "first\nsecond\r\nthird")
    assert "\n" not in str(err) and "\r" not in str(err)
    assert "first" in str(err)


def test_api_error_is_hashable_and_raisable():
    err = ApiError("s", "p", "GET", "/x", 500, "m")
    assert {err}  # sets of errors (dedupe in a status bar, traceback bookkeeping) must work
    with pytest.raises(ApiError, match="HTTP 500: m"):
        raise err
    ro = ReadOnlyError("s", "p", "POST", "/x", None, "refused")
    assert isinstance(ro, ApiError)


async def test_api_error_fields_from_a_real_failure():
    async def handler(request):
        return JSONResponse({"description": "nope"}, status_code=404)

    async with make(app=app_of(R("/api/thing", handler))) as client:
        err = await error_of(client, "GET", "/api/thing", params={"id": "a1"})
    assert (err.service, err.profile, err.method, err.path, err.status, err.message) == (
        "demo", "lab", "GET", "/api/thing", 404, "nope")
    assert str(err) == "demo/lab: GET /api/thing: HTTP 404: nope"


async def test_health_flips():
    flip = {"fail": False}

    async def handler(request):
        if flip["fail"]:
            return JSONResponse({"error": "down"}, status_code=500)
        return JSONResponse({})

    async with make(app=app_of(R("/x", handler))) as client:
        client.retries = 0
        assert client.health.ok is None
        await client.request("GET", "/x")
        assert client.health.ok is True
        flip["fail"] = True
        await error_of(client)
        assert client.health.ok is False
        assert client.health.last_error.message == "down"
        flip["fail"] = False
        await client.request("GET", "/x")
        assert client.health.ok is True


async def test_health_follows_the_latest_outcome_even_on_a_coarse_clock(monkeypatch):
    """Windows' time.time() ticks every ~15 ms: success then failure can share a timestamp."""
    monkeypatch.setattr(http_mod.time, "time", lambda: 1000.0)
    flip = {"fail": False}

    async def handler(request):
        return JSONResponse({"error": "down"}, status_code=500) if flip["fail"] else JSONResponse({})

    async with make(app=app_of(R("/x", handler))) as client:
        client.retries = 0
        await client.request("GET", "/x")
        assert client.health.ok is True
        flip["fail"] = True
        await error_of(client)
        assert client.health.ok is False
        flip["fail"] = False
        await client.request("GET", "/x")
        assert client.health.ok is True


def test_health_directly():
    h = Health()
    assert h.ok is None
    h.last_ok = 10.0
    assert h.ok is True
    h.last_error_at = 11.0
    assert h.ok is False
    h.last_ok = 12.0
    assert h.ok is True


def test_message_from_body_on_plain_responses():
    r = httpx.Response(418, text="")
    assert message_from_body(r) == ("I'm a teapot", "")
    r = httpx.Response(400, json={"description": None, "error": "second key"})
    assert message_from_body(r)[0] == "second key"
    r = httpx.Response(400, text="<not html>, just angle brackets", headers={"content-type": "text/plain"})
    assert message_from_body(r)[0] == "<not html>, just angle brackets"


def test_a_secret_across_the_scan_windows_of_a_big_body_is_still_found(monkeypatch):
    from testdeck import redact

    monkeypatch.setattr(redact, "SCAN_WINDOW", 64)  # small windows: the secret straddles two of them
    secret = "s3cr3t-Value-0123456789"
    redactor = redact.Redactor([secret])
    for at in range(40, 80):
        body = b"x" * at + secret.encode() + b"y" * 200
        assert redactor.may_hold(body), at
    assert not redactor.may_hold(b"z" * 1000)
    assert not redactor.may_hold(b"")


def test_a_body_searched_chunk_by_chunk_finds_what_the_whole_search_finds():
    """Redactor.scan() is fed the body as it arrives: a secret split across chunks (in any
    form the redactor knows: as sent, upper-cased, base64) is found; a clean body is not."""
    import base64
    import random

    from testdeck import redact

    redactor = redact.Redactor([SECRET])
    forms = [SECRET, SECRET.upper(), base64.b64encode(b"user:" + SECRET.encode()).decode()]
    rng = random.Random(7)
    for form in forms:
        for at in range(0, 60, 3):
            body = b"x" * at + form.encode() + b"y" * 50
            assert redactor.may_hold(body), (form, at)
            for _ in range(5):
                cuts = sorted(rng.sample(range(1, len(body)), rng.randint(1, 8)))
                scan = redactor.scan()
                for start, end in zip([0, *cuts], [*cuts, len(body)]):
                    scan.feed(body[start:end])
                assert scan.hit, (form, at, cuts)
    clean = redactor.scan()
    for start in range(0, 1000, 7):
        clean.feed(b"z" * 7)
    assert not clean.hit
    assert not redact.Redactor([]).scan().hit


async def test_a_secret_deep_in_a_big_body_read_over_http_is_redacted(sim_server):
    """Over real HTTP, a 2 MB JSON answer echoing the key past the first reads (httpcore reads
    64 KiB at a time; where a read ends is the network's choice, the splits are tested above):
    the rows come back with *** in its place, never the key."""
    filler = "r" * 200
    body = json.dumps({"rows": [{"id": f"row{i}", "note": filler} for i in range(10_000)]})
    at = 3 * 65536 - len(SECRET) // 2
    run = body.rfind('"note": "', 0, at) + len('"note": "')  # the filler that position falls in
    assert run <= at and at + len(SECRET) <= run + len(filler)
    body = body[:at] + SECRET + body[at + len(SECRET):]

    async def handler(request):
        return Response(body.encode(), media_type="application/json")

    url = serve(sim_server, app_of(R("/x", handler)))
    async with make(url) as client:
        got = await client.request("GET", "/x")
    text = json.dumps(got)  # (counts: pytest would spend minutes showing a 2 MB string)
    assert len(got["rows"]) == 10_000
    assert (text.count(SECRET), text.count(SECRET[:8]), text.count("***")) == (0, 0, 1)


async def test_an_error_names_the_path_as_sent_with_the_profiles_own_base_path():
    """A profile URL ending in /api with paths that start with /api too: the server was asked for
    /api/api/...; the error said /api/..., hiding the doubling the user had to fix."""
    seen = []

    async def handler(request):
        seen.append(request.url.path)
        return JSONResponse({"error": "no such route"}, status_code=404)

    async with make("http://testserver/api", app=app_of(R("/{rest:path}", handler))) as client:
        err = await error_of(client, path="/api/app/get_alerts/v1")
    assert seen == ["/api/api/app/get_alerts/v1"]
    assert err.path == "/api/api/app/get_alerts/v1" and "GET /api/api/app/get_alerts/v1: HTTP 404" in str(err)


async def test_get_is_retried_on_a_plain_500_and_post_is_not(sim_server):
    """A GET is idempotent: a 500 is tried again (twice), as the README says of 5xx. Against a server
    failing 30% of requests, `get alerts` failed 5 runs in 12 when only 502-504 were."""
    app, hits = counting_app(500)
    url = serve(sim_server, app)
    async with make(url) as client:
        await error_of(client, "GET")
        gets = hits["GET"]
        await error_of(client, "POST")
    assert gets == 3 and hits["POST"] == 1
