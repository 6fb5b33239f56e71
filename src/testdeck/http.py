"""One place for httpx.AsyncClient: timeouts, TLS, auth, retries, errors, read-only.

Every service adapter subclasses ApiClient and adds one method per endpoint.
Every failure leaves here as an ApiError carrying the server's own words,
with every known secret redacted. Those words are read out of an error body
by errortext.py; uploads and downloads are in transfers.py (a mixin of ApiClient).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, ClassVar

import httpx
import msgspec

from testdeck import journal, jsonchunks, pacing
from testdeck.jsonchunks import TooDeep, too_deep as _too_deep
from testdeck.config import Profile, secret_env_var
from testdeck.errors import ApiError, ConfigError, ReadOnlyError, Refused, failed_how
from testdeck.errortext import first_line, message_from_body
from testdeck.redact import Redactor, Scan, redact_values
from testdeck import transport as conn
from testdeck.transport import TokenExchangeError
from testdeck.transfers import Transfers

RETRY_STATUSES = {500, 502, 503, 504}  # retried for idempotent requests only (GET, a PUT said so)
BIG_BODY = 256 * 1024  # decode JSON larger than this off the event loop


class Health(msgspec.Struct):
    """What the status bar says about a profile's server."""

    last_ok: float | None = None
    last_error: ApiError | None = None
    last_error_at: float | None = None

    def before(self) -> tuple[ApiError | None, float | None]:
        return self.last_error, self.last_error_at

    def forget(self, errors: list[BaseException], before: tuple[ApiError | None, float | None]) -> None:
        """Reads that only add to what a screen shows (kyaraben's quota, a row's reason) failed: their
        failures are said where they are used, and the profile's health is what it was before them,
        unless something else failed meanwhile (then that one is the latest word)."""
        if any(self.last_error is e for e in errors):
            self.last_error, self.last_error_at = before

    @property
    def ok(self) -> bool | None:
        if self.last_ok is None and self.last_error_at is None:
            return None
        return (self.last_error_at or 0) <= (self.last_ok or 0)


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


# (method, path with its query, request body with secrets redacted, HTTP status or None, the server's message
# or "", what it did: done, refused, failed or interrupted)
MutationHook = Callable[[str, str, str, "int | None", str, str], None]


def check_headers(profile: str, headers: dict[str, Any]) -> None:
    """Header values must be sendable: ASCII, no line breaks or other controls. Names, never values."""
    for name, value in headers.items():
        text = str(value)
        if re.search(r"[\x00-\x08\x0a-\x1f\x7f]", text):
            raise ConfigError(f"profile {profile!r}: the value for the {name} header contains a line break or "
                              f"control character (value not shown); fix the secret or the profile field")
        if not text.isascii():
            raise ConfigError(f"profile {profile!r}: the value for the {name} header has a non-ASCII character, "
                              f"which HTTP headers cannot carry (value not shown)")


def _parse(body: bytes | str, loads: Callable[[Any], Any]) -> Any:
    try:
        payload = loads(body)
    except RecursionError:
        raise TooDeep() from None
    if loads is not jsonchunks.loads and _too_deep(payload):  # (jsonchunks measures depth as it goes)
        raise TooDeep()
    return payload


class ApiClient(Transfers):
    """Base adapter: one per profile, one httpx.AsyncClient underneath."""

    service: ClassVar[str] = ""
    retries: ClassVar[int] = 2
    backoff: ClassVar[float] = 0.25

    def __init__(self, profile: Profile, secret: str | None = None, *, read_only: bool = False,
                 transport: httpx.AsyncBaseTransport | None = None,
                 on_mutation: MutationHook | None = None):
        self.profile = profile
        self.read_only = read_only
        self.read_only_why = "testdeck runs read-only (--read-only)"  # or the profile's own read_only
        self.health = Health()
        # called after every mutating request (the action journal); never raises into the request
        self.on_mutation = on_mutation
        self._secret = secret
        self._redactor = Redactor([secret] if secret else [])
        self._base_path = urllib.parse.urlsplit(profile.url).path.rstrip("/")
        verify: Any = profile.ca_bundle or profile.verify_tls
        headers = {"Accept": "application/json", "User-Agent": "testdeck", **self.default_headers()}
        check_headers(profile.name, headers)
        if transport is None and not urllib.request.getproxies():
            # (with proxies named in the environment, httpx's own transport: it honours them)
            transport = conn.Transport(verify, profile.url)
        self._http = httpx.AsyncClient(
            base_url=profile.url,
            timeout=httpx.Timeout(profile.timeout, connect=min(5.0, profile.timeout)),
            verify=verify if transport is not None else conn.ssl_context(verify),
            transport=transport,
            auth=self.auth(),
            headers=headers,
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

    def explain(self, exc: ApiError) -> None:
        """A service's own reading of its errors, made on `exc` before anyone judges it (xyOps: a coded
        500 is a refusal, not retryable): the journal's outcome, `do` and the forms then agree."""

    async def ping(self) -> str:
        """A cheap call that proves URL and credentials; returns a short description."""
        raise NotImplementedError

    # --- the one request path --------------------------------------------------
    @property
    def max_body(self) -> int:
        return int(self.profile.max_body_mb * 1024 * 1024)

    @property
    def _redact(self) -> set[str]:
        """The values redacted (tests look here)."""
        return set(self._redactor.values)

    def remember_secret(self, value: str) -> None:
        """Add a value (an exchanged token, say) to what every text from the server redacts."""
        self._redactor.add(value)

    def redact(self, text: str) -> str:
        return self._redactor.redact(text)

    def error(self, method: str, path: str, status: int | None, message: str, *, retryable: bool = False,
              detail: str = "", cls: type[ApiError] = ApiError, local: bool = False) -> ApiError:
        """An ApiError for this profile; it marks the server failing unless it is a refusal made here,
        before sending (read-only, or `local`: a service's own rule), which says nothing of its health."""
        if local and status is None and cls is ApiError:
            cls = Refused
        if path.startswith("/") and self._base_path:
            path = self._base_path + path  # the path as sent: a profile URL's own path (`/api`) doubled is visible
        err = cls(self.service, self.profile.name, method, path, status, self.redact(message),
                  retryable, self.redact(detail))
        if status in (401, 403) and not self._secret:  # the likely cause, which the server cannot name
            err.hint = (f"no secret found for profile {self.profile.name!r}: set "
                        f"{secret_env_var(self.profile.name)} or store one with `testdeck profile add`")
        if cls is not ReadOnlyError and not local:
            # strictly after the last success, even on a coarse clock: the latest outcome wins
            self.health.last_error = err
            self.health.last_error_at = max(time.time(), (self.health.last_ok or 0) + 1e-6)
        return err

    def refuse(self, method: str, path: str, message: str) -> ApiError:
        """A refusal decided here, before sending (a service's own rule): `refused before sending: …`."""
        return self.error(method, path, None, message, local=True)

    async def request(self, method: str, path: str, *, params: dict | None = None, json_body: Any = None,
                      data: dict | None = None, files: dict | None = None, content: Any = None,
                      headers: dict | None = None, mutates: bool | None = None, idempotent: bool | None = None,
                      expect: str = "json", journal_body: Any = None) -> Any:
        """Send one request; returns parsed JSON (or text/bytes/None per `expect`).

        `mutates` defaults to "not GET/HEAD" and is what read-only mode refuses;
        `idempotent` defaults to GET/HEAD and is what may be retried; `journal_body` is what
        on_mutation records as the body (default: json_body or data). The profile's
        timeout bounds the whole exchange, retries included; the body is read up to
        the profile's cap (max_body_mb) and no further.
        """
        method = method.upper()
        if mutates is None:
            mutates = method not in ("GET", "HEAD", "OPTIONS")
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "OPTIONS")
        if mutates and self.read_only:
            raise self.error(method, path, None, f"refused: {self.read_only_why}", cls=ReadOnlyError)
        # status, server message, what it did (journal: done/accepted/refused/failed/interrupted): for on_mutation
        outcome: list[Any] = [None, "", "failed"]
        try:
            async with pacing.turn():  # background requests take turns; a key on its way goes first
                await pacing.give_way()
                scan = expect in ("text", "json")
                response, body, found = await self._exchange(method, path, idempotent, outcome, scan,
                                                             params=params, json=json_body, data=data, files=files,
                                                             content=content, headers=headers)
                await pacing.give_way()
                payload = await self._decode(method, path, response, body, expect, found)
                outcome[2] = "done"  # (journal.acting makes it `accepted` when the action's result says so)
                return payload
        except ApiError as exc:  # refused: nothing was done; failed: the server may have acted (failed_how)
            self.explain(exc)
            outcome[:] = [exc.status, exc.message, "refused" if failed_how(exc) is None else "failed"]
            raise
        except asyncio.CancelledError:  # ctrl+c, SIGTERM (`testdeck do`), a closed screen: said as it is
            outcome[1:] = ["interrupted before an answer was read: the server may have acted", "interrupted"]
            raise
        finally:
            if mutates and self.on_mutation is not None:
                body = journal_body if journal_body is not None else json_body if json_body is not None else data
                if files and body is None:
                    body = {k: f"<file {v[0] if isinstance(v, tuple) else '?'}>" for k, v in files.items()}
                # the query too (OneTest's stop options), encoded as httpx sent it
                sent = str(httpx.URL(path, params=params)) if params else path
                self._mutated(method, sent, body, *outcome)

    def _mutated(self, method: str, path: str, body: Any, status: int | None, message: str, outcome: str) -> None:
        redact = self.redact
        marks = getattr(self.on_mutation, "marks", None)
        if marks:  # (the journal) the profile's secret and any other redacted value, each marked apart
            secret = self._secret if self._secret and len(self._secret) >= 4 else None
            typed = journal.form_secrets()  # a secret form field's value, whatever its length

            def marked(text: str) -> str:
                if text in typed:
                    return marks[1]
                return self._redactor.redact(text.replace(secret, marks[0]) if secret else text, marks[1])
            redact = marked
        text = "" if body is None else json.dumps(redact_values(body, redact), default=str)
        try:
            self.on_mutation(method, path, text, status, message, outcome)  # type: ignore[misc]
        except Exception:
            pass  # the journal is a witness: it must never break the request it records

    async def _exchange(self, method: str, path: str, idempotent: bool, outcome: list, scan: bool = False,
                        **kw: Any) -> tuple[httpx.Response, bytes, Scan | None]:
        """Send (with retries) and read the body, all within the profile's timeout; with `scan`,
        the body is searched for secrets as it arrives (Redactor.scan)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self.profile.timeout
        attempts = 1 + (self.retries if idempotent else 0)
        attempt = 0
        while True:
            attempt += 1
            failure: str | None = None  # None: timed out
            answered: tuple[httpx.Response, bytes, Scan | None] | None = None
            try:
                async with asyncio.timeout_at(deadline):
                    response = await self._http.send(self._http.build_request(method, path, **kw), stream=True)
                    try:
                        outcome[0] = response.status_code
                        # (made once the headers are in: a token exchanged on the way is among its needles)
                        found = self._redactor.scan() if scan and response.status_code < 300 else None
                        answered = response, await self._read_capped(method, path, response, found), found
                    finally:
                        await response.aclose()
            except TokenExchangeError as exc:
                first, full = message_from_body(exc.response, self.redact)
                raise self.error("POST", exc.response.request.url.path, exc.response.status_code,
                                 f"token exchange failed: {first}", detail=full) from None
            except (httpx.TimeoutException, TimeoutError):
                pass
            except httpx.TransportError as exc:
                failure = (str(exc) or type(exc).__name__) + self._tls_hint(exc)
            if answered is not None and answered[0].status_code not in RETRY_STATUSES:
                return answered
            pause = self.backoff * 2 ** (attempt - 1)
            if attempt < attempts and loop.time() + pause < deadline:
                await asyncio.sleep(pause)
                continue
            if answered is not None:
                return answered
            if failure is not None:
                raise self.error(method, path, None, f"connection failed: {failure}", retryable=True)
            tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
            raise self.error(method, path, None, f"timed out after {loop.time() - started:.1f}s ({tries}; "
                             f"the profile's timeout of {self.profile.timeout:g}s bounds the whole request)",
                             retryable=True)

    def _tls_hint(self, exc: httpx.TransportError) -> str:
        """What to change in the profile, for the TLS mix-ups whose own words do not say it."""
        text = str(exc)
        https = self.profile.url.lower().startswith("https:")
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return " (a private CA: set ca_bundle = \"/path/to/ca.pem\" in the profile; verify_tls = false turns checks off)"
        if https and ("WRONG_VERSION_NUMBER" in text or "record layer failure" in text):
            return " (the server does not speak TLS on that port: is the URL http://?)"
        # (only before any answer: a server that answered before and drops a connection now is not a TLS port)
        if not https and self.health.last_ok is None and isinstance(exc, (httpx.ReadError, httpx.RemoteProtocolError)):
            return " (no HTTP answer: if the server speaks TLS on that port, the URL should be https://)"
        return ""

    async def _read_capped(self, method: str, path: str, response: httpx.Response, scan: Scan | None = None) -> bytes:
        cap = self.max_body
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise self._too_big(method, path, response.status_code, f"{int(declared) / 2**20:.0f} MiB announced")
        # chunks joined once at the end: a growing bytearray copied a 30 MB body ~50 times over
        # as it grew (0.1 s of the event loop's time); a big join in a thread, where it lets go of
        # the GIL (30 MB on the event loop was a 40-60 ms callback, its pages touched at once)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():  # decoded: a gzip bomb counts at its real size
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                raise self._too_big(method, path, response.status_code, "stopped reading")
            if scan is not None:
                scan.feed(chunk)
        return await asyncio.to_thread(b"".join, chunks) if size > BIG_BODY else b"".join(chunks)

    def _too_big(self, method: str, path: str, status: int, how: str) -> ApiError:
        return self.error(method, path, status, f"response body over the {self.profile.max_body_mb:g} MiB cap "
                          f"({how}); raise max_body_mb in profile {self.profile.name!r} if it is legitimate")

    async def _decode(self, method: str, path: str, response: httpx.Response, body: bytes, expect: str,
                      scan: Scan | None = None) -> Any:
        status = response.status_code
        # the read body back on the response, for .text and the error-body parser
        response = httpx.Response(status, headers=[(k, v) for k, v in response.headers.items()
                                                   if k.lower() not in ("content-encoding", "transfer-encoding")],
                                  content=body, request=response.request)
        if status >= 400:
            first, full = message_from_body(response, self.redact)
            if status == 401 or status == 403:
                first = first or "not authorised"
            raise self.error(method, path, status, first, detail=full,
                             retryable=status >= 500 or status == 429)
        if status >= 300:
            where = response.headers.get("location", "?")
            raise self.error(method, path, status, f"unexpected redirect to {where}")
        if scan is not None and scan.needles is not self._redactor._needles:  # a secret learnt meanwhile
            scan = None
        echoed = expect in ("text", "json") and (
            scan.hit if scan is not None
            else await asyncio.to_thread(self._redactor.may_hold, body) if len(body) > BIG_BODY
            else self._redactor.may_hold(body))
        if echoed and expect == "text":
            # a secret echoed in a successful body (a key in a job's log, say) is never shown
            body = self.redact(body.decode(response.encoding or "utf-8", "replace")).encode("utf-8")
            response = httpx.Response(status, headers={"content-type": "text/plain; charset=utf-8"},
                                      content=body, request=response.request)
        if expect == "none":
            payload: Any = None
        elif expect == "text":
            payload = response.text
        elif expect == "bytes":
            payload = response.content
        else:
            if not body.strip():
                payload = None
            else:
                try:
                    if len(body) > BIG_BODY:  # in pieces: one json.loads call holds the GIL (see jsonchunks)
                        payload = await asyncio.to_thread(_parse, body, jsonchunks.loads)
                    else:
                        payload = _parse(body, json.loads)
                except ValueError as exc:
                    text = self.redact(response.text)
                    snippet = first_line(text)[:120]
                    what = str(exc) if isinstance(exc, TooDeep) else f"malformed JSON from server: {snippet!r}"
                    raise self.error(method, path, status, what, detail=text[:4000], retryable=True) from None
                if echoed:  # in JSON, the strings: redacting the text first could break the JSON
                    payload = (await asyncio.to_thread(redact_values, payload, self.redact) if len(body) > BIG_BODY
                               else redact_values(payload, self.redact))
            problem = self.check_payload(payload)
            if problem:
                raise self.error(method, path, status, problem, detail=json.dumps(payload, indent=2)[:4000])
        self.health.last_ok = max(time.time(), (self.health.last_error_at or 0) + 1e-6)
        return payload

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.aclose()
