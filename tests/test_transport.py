"""The transport. TLS: https profiles verify against the CA bundle they name (or the default one), plain http never
reads a CA bundle (a cold start's first table waited ~100 ms for one), and a bundle that cannot be
read is a clear error, not a crash. A real TLS server on loopback (certificates from trustme)."""

from __future__ import annotations

import pytest
import trustme
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from testdeck import transport as transport_mod
from testdeck.config import Profile
from testdeck.errors import ApiError
from testdeck.http import ApiClient
from testdeck.sim.base import serve


class Client(ApiClient):
    service = "demo"
    backoff = 0.0


def app() -> Starlette:
    return Starlette(routes=[Route("/x", lambda request: JSONResponse({"ok": request.url.scheme}))])


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_server(ca, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(folder / "server.pem"))
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    server = serve(app(), tls=(str(folder / "server.pem"), str(folder / "server.pem")))
    yield server.url, str(folder / "ca.pem")
    server.stop()


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def client(url: str, **kw) -> ApiClient:
    return Client(Profile(name="lab", service="xyops", url=url, timeout=5.0, **kw), None)


async def test_https_with_the_profiles_ca_bundle_works(tls_server):
    url, ca_file = tls_server
    async with client(url, ca_bundle=ca_file) as c:
        assert await c.request("GET", "/x") == {"ok": "https"}


async def test_https_with_an_unknown_ca_is_refused_with_the_reason(tls_server):
    url, _ = tls_server
    async with client(url) as c:  # the default bundle does not know trustme's CA
        with pytest.raises(ApiError) as info:
            await c.request("GET", "/x")
    assert "connection failed" in info.value.message
    assert "CERTIFICATE_VERIFY_FAILED" in info.value.message
    assert "set ca_bundle" in info.value.message  # what to change in the profile


async def test_the_wrong_scheme_for_a_port_says_which_one_to_try(tls_server):
    """http:// to a TLS port read `ReadError`; https:// to a plain one `WRONG_VERSION_NUMBER`."""
    tls_url, _ = tls_server
    plain = serve(app())
    try:
        async with client(tls_url.replace("https:", "http:")) as c:
            with pytest.raises(ApiError) as to_tls:
                await c.request("GET", "/x")
        async with client(plain.url.replace("http:", "https:")) as c:
            with pytest.raises(ApiError) as to_plain:
                await c.request("GET", "/x")
    finally:
        plain.stop()
    assert "the URL should be https://" in to_tls.value.message, to_tls.value.message
    assert "is the URL http://?" in to_plain.value.message, to_plain.value.message


async def test_https_with_verification_off_works(tls_server):
    url, _ = tls_server
    async with client(url, verify_tls=False) as c:
        assert await c.request("GET", "/x") == {"ok": "https"}


async def test_a_missing_ca_bundle_is_a_clear_error_not_a_crash(tls_server, tmp_path):
    url, _ = tls_server
    missing = str(tmp_path / "corp.pem")
    async with client(url, ca_bundle=missing) as c:
        with pytest.raises(ApiError) as info:
            await c.request("GET", "/x")
    assert f"cannot load the CA bundle {missing}" in info.value.message


async def test_plain_http_never_reads_a_ca_bundle(monkeypatch):
    loaded = []
    real = transport_mod.ssl_context
    monkeypatch.setattr(transport_mod, "ssl_context", lambda verify: loaded.append(verify) or real(verify))
    server = serve(app())
    try:
        async with client(server.url) as c:
            assert await c.request("GET", "/x") == {"ok": "http"}
    finally:
        server.stop()
    assert set(loaded) <= {False}  # at most the shared context that loads no CA bundle


async def test_proxies_in_the_environment_are_still_honoured(tls_server, monkeypatch):
    """httpx honours HTTPS_PROXY only with its own transport: testdeck keeps it then."""
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # a port nothing listens on
    url, ca_file = tls_server
    async with client(url, ca_bundle=ca_file) as c:
        with pytest.raises(ApiError) as info:
            await c.request("GET", "/x")
    assert "connection failed" in info.value.message  # it went to the (dead) proxy, not the server


def test_making_a_client_imports_what_the_first_connection_needs(tmp_path):
    """The console makes a profile's client on a thread: httpcore and its anyio backend are imported
    there, not at the first request on the event loop (a ~100 ms freeze at start). A fresh interpreter,
    since this process imported them long ago."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from testdeck.config import Profile\n"
        "from testdeck.http import ApiClient\n"
        "from testdeck.transport import FIRST_CONNECTION\n"
        "before = [m for m in FIRST_CONNECTION if m in sys.modules]\n"
        "ApiClient(Profile(name='lab', service='xyops', url='http://127.0.0.1:9', timeout=5.0), None)\n"
        "print(before, [m for m in FIRST_CONNECTION if m not in sys.modules])\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if not k.lower().endswith("_proxy")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["[]", "[]"]  # none imported before, none missing after
