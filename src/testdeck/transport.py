"""How a client reaches its server: connection pools, TLS contexts, token exchange.

http.ApiClient builds on these; nothing here knows a service or reads a reply's body.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import threading
from collections.abc import Callable, Generator
from typing import Any

import httpx


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
                 on_token: Callable[[str], None] | None = None, field: str = "access_token"):
        self.token_path = token_path
        self.form = form
        self.parse = parse
        self.on_token = on_token
        self.field = field  # the JSON field `parse` reads: the journal's curl extracts it the same way
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


_ssl_lock = threading.Lock()
_ssl_contexts: dict[bool | str, Any] = {}


def ssl_context(verify: bool | str) -> Any:
    """One SSL context per verification setting, shared by every profile's client.

    Loading the CA bundle costs ~90 ms of C code per context (httpx builds one per client):
    fifty profiles paid it fifty times at start. The lock makes a second caller wait for the
    first one's context rather than build its own; a failure (a missing CA bundle) is not kept."""
    with _ssl_lock:
        if verify not in _ssl_contexts:
            if isinstance(verify, str):  # a profile's ca_bundle: a file, or a folder of hashed certificates
                import ssl

                folder = os.path.isdir(verify)
                _ssl_contexts[verify] = ssl.create_default_context(cafile=None if folder else verify,
                                                                   capath=verify if folder else None)
            else:
                _ssl_contexts[verify] = httpx.create_ssl_context(verify=verify)
        return _ssl_contexts[verify]


def prewarm_ssl() -> None:
    """Build the default context on a thread now (OpenSSL releases the GIL while it reads the
    bundle), so the first https request does not wait for it."""
    threading.Thread(target=lambda: ssl_context(True), daemon=True, name="ssl-prewarm").start()


# what httpcore imports at its first connection, on the event loop: a 100 ms freeze at start
FIRST_CONNECTION = ("httpcore._backends.anyio", "anyio._backends._asyncio")


class Transport(httpx.AsyncBaseTransport):
    """httpx's own transport, one connection pool per scheme.

    The CA bundle is read only for https (on a thread): a plain-http profile (a lab server, the
    simulators) never waits for it. It was most of the wait for a first table (~100 ms) on a
    cold start. A pool only ever sees its own scheme, so the http pool's context (none loaded)
    is never used for a TLS connection. The profile's own scheme gets its pool where the client
    is made (a thread, in the console); another one (a download link) gets it off the event loop
    at its first request. Making the first pool imports httpcore and what its first connection
    needs (~80-100 ms of the event loop otherwise)."""

    def __init__(self, verify: bool | str, url: str) -> None:
        self._verify = verify
        self._pools: dict[str, httpx.AsyncHTTPTransport] = {}
        if url.lower().startswith("http:"):
            self._pools["http"] = self._pool("http")

    def _pool(self, scheme: str) -> httpx.AsyncHTTPTransport:
        # (http: the shared context without a CA bundle; one SSLContext a client cost ~1 ms each)
        pool = httpx.AsyncHTTPTransport(verify=ssl_context(self._verify if scheme == "https" else False))
        for name in FIRST_CONNECTION:
            try:
                importlib.import_module(name)
            except ImportError:  # another httpcore or anyio: it imports what it needs itself
                pass
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        scheme = request.url.scheme
        pool = self._pools.get(scheme)
        if pool is None:
            try:
                made = await asyncio.to_thread(self._pool, scheme)
            except OSError as exc:  # (ssl.SSLError is one): a missing or unreadable CA bundle
                where = f"the CA bundle {self._verify}" if isinstance(self._verify, str) else "the CA bundle"
                raise httpx.ConnectError(f"cannot load {where}: {exc.strerror or exc}", request=request) from None
            pool = self._pools.setdefault(scheme, made)
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()
