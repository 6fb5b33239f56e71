"""One place for httpx.AsyncClient: timeouts, TLS, auth, retries, errors, read-only.

Every service adapter subclasses ApiClient and adds one method per endpoint.
Every failure leaves here as an ApiError carrying the server's own words,
with every known secret redacted.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import httpx

from testdeck import jsonchunks
from testdeck.config import Profile
from testdeck.errors import ApiError, ReadOnlyError

RETRY_STATUSES = {502, 503, 504}
BIG_BODY = 256 * 1024  # decode JSON larger than this off the event loop
HUGE_BODY = 8 * 1024 * 1024  # ... and larger than this a list element at a time (see jsonchunks)
# keys that carry a human message in the error bodies of the five back-ends
MESSAGE_KEYS = ("description", "Error", "error", "message", "detail", "msg", "errorMessage", "reason")


@dataclass
class Health:
    """What the status bar says about a profile's server."""

    last_ok: float | None = None
    last_error: ApiError | None = None
    last_error_at: float | None = None

    @property
    def ok(self) -> bool | None:
        if self.last_ok is None and self.last_error_at is None:
            return None
        return (self.last_error_at or 0) <= (self.last_ok or 0)


class TokenExchangeError(Exception):
    def __init__(self, response: httpx.Response):
        super().__init__(f"token exchange failed: HTTP {response.status_code}")
        self.response = response


class TokenExchangeAuth(httpx.Auth):
    """Exchange a long-lived secret for a short-lived bearer token; renew once on 401.

    Used by OneTest (offline token -> POST /rest/tokens/) and any other server
    that hands out access tokens.
    """

    requires_response_body = True

    def __init__(self, token_path: str, form: dict[str, str], parse: Callable[[httpx.Response], str],
                 on_token: Callable[[str], None] | None = None):
        self.token_path = token_path
        self.form = form
        self.parse = parse
        self.on_token = on_token
        self.token: str | None = None

    def _token_request(self, request: httpx.Request) -> httpx.Request:
        url = request.url.copy_with(raw_path=self.token_path.encode(), query=None)
        return httpx.Request("POST", url, data=self.form, headers={"Accept": "application/json"})

    def _accept(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            raise TokenExchangeError(response)
        self.token = self.parse(response)
        if self.on_token:
            self.on_token(self.token)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.token is None:
            self._accept((yield self._token_request(request)))
        request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        if response.status_code == 401:
            self._accept((yield self._token_request(request)))
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request


def message_from_body(response: httpx.Response, redact: Callable[[str], str] | None = None) -> tuple[str, str]:
    """(first meaningful line, full text) of an error body, whatever its shape.

    `redact` is applied to the whole body before anything is cut, so a secret
    can never be half-shown at a truncation boundary."""
    raw = response.text if response.content else ""
    if redact:
        raw = redact(raw)
    full = raw.strip()
    ctype = response.headers.get("content-type", "")
    data: Any = None
    if full[:1] in "{[" and full:
        try:
            data = json.loads(full)
        except ValueError:
            data = None
    if data is not None:
        msg = _message_from_json(data)
        if msg:
            return _first_line(msg), full
        if data in ({}, []):  # an empty JSON body (XPRESSO's 404 `{}`) says nothing: the status does
            return response.reason_phrase or f"HTTP {response.status_code}", full
    looks_html = full.lower().startswith(("<!doctype", "<html")) or (
        full.startswith("<") and not ctype.startswith(("text/plain", "application/json")))
    if "html" in ctype or looks_html:
        title = re.search(r"<title[^>]*>(.*?)</title>", full, re.S | re.I)
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", full, re.S | re.I)
        text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", full, flags=re.S | re.I)
        text = html.unescape(re.sub(r"<[^>]+>", "\n", text))
        pick = (heading or title)
        first = html.unescape(re.sub(r"<[^>]+>", "", pick.group(1))).strip() if pick else _first_line(text)
        return first or response.reason_phrase, re.sub(r"\n\s*\n+", "\n", text).strip()
    if full:
        return _first_line(full), full
    return response.reason_phrase or f"HTTP {response.status_code}", ""


def _message_from_json(data: Any) -> str | None:
    if isinstance(data, dict):
        code, text = data.get("error"), data.get("error_description")
        if isinstance(code, str) and isinstance(text, str) and text:  # OAuth2 (RFC 6749 5.2): code + words
            return f"{code}: {text}"
        for key in MESSAGE_KEYS:
            if key in data and data[key] not in (None, "", [], {}):
                value = data[key]
                if isinstance(value, (dict, list)):
                    return _message_from_json(value) or json.dumps(value)
                return str(value)
        return None
    if isinstance(data, list) and data:
        parts = [m for m in (_message_from_json(x) if not isinstance(x, str) else x for x in data) if m]
        return "; ".join(parts) or None
    if isinstance(data, str):
        return data
    return None


def seg(value: Any) -> str:
    """The one path escaper: a value from data (an id) as exactly one URL path segment.

    Slashes, `?`, `#` and `%` are percent-encoded, and a segment made only of dots
    is encoded too, so `..` can never climb out of the path it was put in."""
    text = urllib.parse.quote(str(value), safe="")
    if text.strip(".") == "":
        text = text.replace(".", "%2E")
    return text


def path(template: str, *values: Any) -> str:
    """`path("/api/v1/requests/{}/stop", rid)`: every `{}` filled with seg(value)."""
    return template.format(*(seg(v) for v in values))


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line[:300]
    return ""


class ApiClient:
    """Base adapter: one per profile, one httpx.AsyncClient underneath."""

    service: ClassVar[str] = ""
    retries: ClassVar[int] = 2
    backoff: ClassVar[float] = 0.25

    def __init__(self, profile: Profile, secret: str | None = None, *, read_only: bool = False,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.profile = profile
        self.read_only = read_only
        self.health = Health()
        self._secret = secret
        self._redact: set[str] = {secret} if secret else set()
        verify: Any = profile.ca_bundle or profile.verify_tls
        self._http = httpx.AsyncClient(
            base_url=profile.url,
            timeout=httpx.Timeout(profile.timeout, connect=min(5.0, profile.timeout)),
            verify=verify,
            transport=transport,
            auth=self.auth(),
            headers={"Accept": "application/json", "User-Agent": "testdeck", **self.default_headers()},
            follow_redirects=False,
        )

    # --- hooks for the services -------------------------------------------------
    def auth(self) -> httpx.Auth | None:
        """The auth scheme of the service (headers set per request)."""
        return None

    def default_headers(self) -> dict[str, str]:
        return {}

    def check_payload(self, payload: Any) -> str | None:
        """A service whose 200 responses can carry an error returns its message here."""
        return None

    async def ping(self) -> str:
        """A cheap call that proves URL and credentials; returns a short description."""
        raise NotImplementedError

    # --- the one request path --------------------------------------------------
    def remember_secret(self, value: str) -> None:
        """Add a value (an exchanged token, say) to what every error text redacts."""
        if value:
            self._redact.add(value)

    def redact(self, text: str) -> str:
        for value in self._redact:
            if value and len(value) >= 4:
                # the value as sent and as a server may echo it: URL-encoded (form bodies,
                # query strings) or JSON-escaped (with or without escaped slashes)
                escaped = json.dumps(value)[1:-1]
                forms = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value),
                         escaped, escaped.replace("/", "\\/")}
                for form in sorted(forms, key=len, reverse=True):
                    text = text.replace(form, "***")
        return text

    def error(self, method: str, path: str, status: int | None, message: str, *, retryable: bool = False,
              detail: str = "", cls: type[ApiError] = ApiError) -> ApiError:
        err = cls(self.service, self.profile.name, method, path, status, self.redact(message),
                  retryable, self.redact(detail))
        if cls is not ReadOnlyError:
            # strictly after the last success, even on a coarse clock: the latest outcome wins
            self.health.last_error = err
            self.health.last_error_at = max(time.time(), (self.health.last_ok or 0) + 1e-6)
        return err

    async def request(self, method: str, path: str, *, params: dict | None = None, json_body: Any = None,
                      data: dict | None = None, files: dict | None = None, content: Any = None,
                      headers: dict | None = None, mutates: bool | None = None, idempotent: bool | None = None,
                      expect: str = "json") -> Any:
        """Send one request; returns parsed JSON (or text/bytes/None per `expect`).

        `mutates` defaults to "not GET/HEAD" and is what read-only mode refuses;
        `idempotent` defaults to GET/HEAD and is what may be retried.
        """
        method = method.upper()
        if mutates is None:
            mutates = method not in ("GET", "HEAD", "OPTIONS")
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "OPTIONS")
        if mutates and self.read_only:
            raise self.error(method, path, None, "refused: testdeck runs read-only (--read-only)", cls=ReadOnlyError)
        attempts = 1 + (self.retries if idempotent else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = await self._http.request(method, path, params=params, json=json_body, data=data,
                                                    files=files, content=content, headers=headers)
            except TokenExchangeError as exc:
                first, full = message_from_body(exc.response, self.redact)
                raise self.error("POST", exc.response.request.url.path, exc.response.status_code,
                                 f"token exchange failed: {first}", detail=full) from None
            except httpx.TimeoutException as exc:
                if not last:
                    await asyncio.sleep(self.backoff * 2**attempt)
                    continue
                raise self.error(method, path, None, f"timed out ({type(exc).__name__}) after "
                                 f"{self.profile.timeout:g}s", retryable=True) from None
            except httpx.TransportError as exc:
                if not last:
                    await asyncio.sleep(self.backoff * 2**attempt)
                    continue
                reason = str(exc) or type(exc).__name__
                raise self.error(method, path, None, f"connection failed: {reason}", retryable=True) from None
            if response.status_code in RETRY_STATUSES and not last:
                await asyncio.sleep(self.backoff * 2**attempt)
                continue
            return await self._decode(method, path, response, expect)
        raise AssertionError("unreachable")

    async def _decode(self, method: str, path: str, response: httpx.Response, expect: str) -> Any:
        status = response.status_code
        if status >= 400:
            first, full = message_from_body(response, self.redact)
            if status == 401 or status == 403:
                first = first or "not authorised"
            raise self.error(method, path, status, first, detail=full,
                             retryable=status >= 500 or status == 429)
        if status >= 300:
            where = response.headers.get("location", "?")
            raise self.error(method, path, status, f"unexpected redirect to {where}")
        if expect == "none":
            payload: Any = None
        elif expect == "text":
            payload = response.text
        elif expect == "bytes":
            payload = response.content
        else:
            body = response.content
            if not body.strip():
                payload = None
            else:
                try:
                    if len(body) > HUGE_BODY:  # one json.loads call would hold the GIL for 100s of ms
                        payload = await asyncio.to_thread(lambda: jsonchunks.loads(body.decode(response.encoding or "utf-8")))
                    elif len(body) > BIG_BODY:
                        payload = await asyncio.to_thread(json.loads, body)
                    else:
                        payload = json.loads(body)
                except ValueError:
                    text = self.redact(response.text)
                    snippet = _first_line(text)[:120]
                    raise self.error(method, path, status, f"malformed JSON from server: {snippet!r}",
                                     detail=text[:4000], retryable=True) from None
            problem = self.check_payload(payload)
            if problem:
                raise self.error(method, path, status, problem, detail=json.dumps(payload, indent=2)[:4000])
        self.health.last_ok = max(time.time(), (self.health.last_error_at or 0) + 1e-6)
        return payload

    async def upload(self, method: str, path: str, file_path: str | Path, *, field: str = "file",
                     data: dict | None = None, progress: Callable[[int, int], None] | None = None,
                     expect: str = "json") -> Any:
        """Multipart upload of a local file with a progress callback (sent, total)."""
        file_path = Path(file_path)
        try:
            raw = file_path.read_bytes()
        except OSError as exc:
            raise self.error(method, path, None, f"cannot read {file_path}: {exc.strerror}") from None
        built = httpx.Request(method, "http://upload.invalid/", files={field: (file_path.name, raw)}, data=data)
        body = built.read()
        total = len(body)

        async def chunks() -> AsyncIterator[bytes]:
            step = 64 * 1024
            for start in range(0, total, step):
                yield body[start:start + step]
                if progress:
                    progress(min(start + step, total), total)

        headers = {"Content-Type": built.headers["Content-Type"], "Content-Length": str(total)}
        return await self.request(method, path, content=chunks(), headers=headers, expect=expect)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.aclose()
