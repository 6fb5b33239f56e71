"""The hostile test server itself behaves as its docstring says (other tests rely on it)."""

from __future__ import annotations

import time

import httpx

from hostile import ESCAPES, hostile  # noqa: F401  (a test module imports the fixture it uses)


def test_canned_echo_nested_and_escapes(hostile):
    hostile.route("/x", {"a": 1}, status=418)
    with httpx.Client(base_url=hostile.url) as c:
        r = c.get("/x")
        assert (r.status_code, r.json()) == (418, {"a": 1})
        echoed = c.post("/v1/echo", headers={"X-Key": "k1"}, content=b"hello").json()
        assert echoed["headers"]["x-key"] == "k1" and echoed["body"] == "hello"
        assert c.get("/nested?depth=3").content == b"[[[]]]"
        titles = [r["name"] for r in c.get("/escapes").json()]
        assert titles == list(ESCAPES.values())
    assert [s.method for s in hostile.requests] == ["GET", "POST", "GET", "GET"]


def test_drip_really_drips(hostile):
    start = time.monotonic()
    with httpx.Client(base_url=hostile.url, timeout=5) as c, c.stream("GET", "/drip?every=0.1&size=5") as r:
        assert r.read() == b"     "
    assert time.monotonic() - start >= 0.4


def test_endless_never_ends(hostile):
    with httpx.Client(base_url=hostile.url, timeout=5) as c, c.stream("GET", "/endless") as r:
        got = 0
        for chunk in r.iter_bytes():
            got += len(chunk)
            if got > 4 * 1024 * 1024:
                break
    assert got > 4 * 1024 * 1024
