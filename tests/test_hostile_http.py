"""The HTTP layer against a hostile server: deadlines, size caps, nesting, echoed secrets,
bad header values, streamed uploads and downloads, the mutation hook, one health check."""

from __future__ import annotations

import asyncio
import base64
import gzip
import os
import stat
import time
import tracemalloc

import pytest
from hostile import hostile  # noqa: F401

from testdeck.config import Profile
from testdeck.errors import ApiError, ConfigError
from testdeck.http import ApiClient

KEY = "xk_Live+9f8e7d6c5b4a/3210=="


class Client(ApiClient):
    service = "demo"
    backoff = 0.05

    def default_headers(self):
        return {"X-API-Key": self._secret} if self._secret else {}

    async def ping(self):
        await self.request("GET", "/drip?every=0.2&size=3")
        return "ok"


def make(url, *, secret=KEY, timeout=5.0, **fields):
    max_body = fields.pop("max_body_mb", 64.0)
    return Client(Profile("lab", "xyops", url, timeout=timeout, max_body_mb=max_body, fields=fields), secret)


async def failure(client, path, method="GET", **kw) -> tuple[ApiError, float]:
    start = time.monotonic()
    with pytest.raises(ApiError) as info:
        await client.request(method, path, **kw)
    return info.value, time.monotonic() - start


# --- deadlines -----------------------------------------------------------------------

async def test_a_slow_drip_body_fails_at_the_profiles_timeout(hostile):
    # one byte every 0.3 s: no single read ever times out, the whole exchange must
    async with make(hostile.url, timeout=2) as client:
        err, took = await failure(client, "/drip?every=0.3&size=40")
    assert 1.9 <= took < 3.0
    assert "timed out after 2." in err.message and err.retryable


async def test_the_deadline_covers_retries_and_says_the_real_time(hostile):
    async with make(hostile.url, timeout=1) as client:
        err, took = await failure(client, "/hang")  # a GET: retried, but only within the deadline
    assert took < 1.6
    waited = float(err.message.split("timed out after ")[1].split("s")[0])
    assert abs(waited - took) < 0.3


# --- size caps -----------------------------------------------------------------------

async def test_a_body_announced_over_the_cap_is_refused_without_reading_it(hostile):
    async with make(hostile.url, max_body_mb=1) as client:
        err, took = await failure(client, "/huge?mb=100")
    assert "over the 1 MiB cap (100 MiB announced)" in err.message  # refused on the header alone
    assert "max_body_mb" in err.message and "'lab'" in err.message
    assert took < 2 and hostile.sent < 50 * 2**20


async def test_an_endless_chunked_body_stops_at_the_cap(hostile):
    async with make(hostile.url, max_body_mb=2) as client:
        err, _ = await failure(client, "/endless")
    assert "over the 2 MiB cap" in err.message


async def test_a_gzip_bomb_counts_at_its_real_size(hostile):
    hostile.route("/bomb", gzip.compress(b" " * (8 * 2**20)),
                  headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    async with make(hostile.url, max_body_mb=1) as client:
        err, _ = await failure(client, "/bomb")
    assert "cap" in err.message


async def test_the_cap_is_a_profile_setting(hostile):
    hostile.route("/two", b"[" + b" " * (2 * 2**20) + b"]", headers={"Content-Type": "application/json"})
    async with make(hostile.url, max_body_mb=3) as client:
        assert await client.request("GET", "/two") == []


# --- nesting -------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,                      # json.loads: RecursionError
    b'{"a":' * 300 + b"1" + b"}" * 300,                   # parses, but deeper than anything can show
    b"[" + b"1," * 4_500_000 + b"[" * 5000 + b"]" * 5000 + b"]",  # over 8 MB: the chunked decoder
], ids=["recursion", "too-deep", "huge"])
async def test_deeply_nested_json_is_a_malformed_response(hostile, body):
    hostile.route("/deep", body, headers={"Content-Type": "application/json"})
    async with make(hostile.url) as client:
        err, _ = await failure(client, "/deep")
    assert "malformed response" in err.message and "nested" in err.message


# --- echoed secrets ----------------------------------------------------------------------

async def test_a_secret_echoed_in_a_successful_body_is_redacted(hostile):
    async with make(hostile.url) as client:
        echoed = await client.request("GET", "/echo")
    assert echoed["headers"]["x-api-key"] == "***"


@pytest.mark.parametrize("echo", [
    KEY.upper(), KEY.lower(), KEY[:10] + "…", KEY[:9],
    base64.b64encode(KEY.encode()).decode(),
    base64.b64encode(f"admin:{KEY}".encode()).decode(),   # HTTP Basic: the key at another alignment
    base64.urlsafe_b64encode(("xy" + KEY).encode()).decode().rstrip("="),
], ids=["upper", "lower", "truncated", "prefix9", "b64", "basic", "b64url"])
async def test_truncated_recased_and_base64_echoes_are_redacted(hostile, echo):
    hostile.route("/job/log", f"line 1\nusing key {echo} now\nline 3\n")
    async with make(hostile.url) as client:
        text = await client.request("GET", "/job/log", expect="text")
    assert echo not in text and "***" in text, text
    assert text.startswith("line 1\nusing key ") and text.endswith(" now\nline 3\n")


async def test_redaction_leaves_a_body_without_secrets_alone(hostile):
    hostile.route("/rows", [{"id": "xk_Live"}, {"id": "abc"}])
    async with make(hostile.url) as client:
        assert await client.request("GET", "/rows") == [{"id": "xk_Live"}, {"id": "abc"}]


# --- header values checked when loaded -------------------------------------------------

@pytest.mark.parametrize("bad", ["key\r\nX-Evil: 1", "clé-secrète", "tab\x1bbad"], ids=["crlf", "non-ascii", "esc"])
def test_unsendable_header_values_are_refused_naming_the_profile_not_the_value(bad):
    with pytest.raises(ConfigError) as info:
        make("http://127.0.0.1:9", secret=bad)
    assert "'lab'" in str(info.value) and "X-API-Key" in str(info.value)
    assert bad not in str(info.value) and "clé" not in str(info.value)


# --- the mutation hook (the action journal) ------------------------------------------------

async def test_on_mutation_sees_each_mutation_redacted_and_cannot_break_it(hostile):
    hostile.route("/alerts", {"ok": True})
    hostile.route("/gone", {"error": "no such alert"}, status=404)
    seen = []
    async with make(hostile.url) as client:
        client.on_mutation = lambda *a: seen.append(a)
        await client.request("POST", "/alerts", json_body={"title": "t", "token": KEY})
        await client.request("GET", "/alerts")  # not a mutation
        with pytest.raises(ApiError):
            await client.request("DELETE", "/gone")
        client.on_mutation = lambda *a: 1 / 0
        assert await client.request("PUT", "/alerts", json_body={}) == {"ok": True}
    assert seen == [("POST", "/alerts", '{"title": "t", "token": "***"}', 200, "", "done"),
                    ("DELETE", "/gone", "", 404, "no such alert", "refused")]


# --- streamed upload and download ------------------------------------------------------------

async def test_upload_streams_from_disk_in_bounded_memory(hostile, tmp_path):
    big = tmp_path / "big.apk"
    with open(big, "wb") as fh:
        fh.truncate(40 * 2**20)
    ticks = []
    async with make(hostile.url, timeout=30) as client:
        tracemalloc.start()
        try:
            await client.upload("POST", "/up/sink", big, data={"note": "x"}, progress=lambda s, t: ticks.append((s, t)))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    total = ticks[-1][1]
    assert ticks[-1] == (total, total) and total > 40 * 2**20 and len(ticks) > 10
    assert int(hostile.requests[-1].body) == total


async def test_download_streams_to_a_new_private_file(hostile, tmp_path):
    hostile.route("/files/report.bin", os.urandom(3 * 2**20), headers={"Content-Type": "application/octet-stream"})
    dest = tmp_path / "report.bin"
    ticks = []
    async with make(hostile.url, max_body_mb=1) as client:  # the body cap is for parsed bodies, not files
        size = await client.download("/files/report.bin", dest, progress=lambda d, t: ticks.append((d, t)))
    assert size == 3 * 2**20 == dest.stat().st_size
    assert dest.read_bytes() == hostile.routes["/files/report.bin"].body
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert ticks[-1] == (size, size)
    assert hostile.requests[-1].headers["x-api-key"] == KEY
    assert [p.name for p in tmp_path.iterdir()] == ["report.bin"]  # no temp file left


async def test_download_never_replaces_a_file_and_cleans_up_on_errors(hostile, tmp_path):
    hostile.route("/missing", {"error": "no such file"}, status=404)
    dest = tmp_path / "keep.txt"
    dest.write_text("mine")
    async with make(hostile.url) as client:
        with pytest.raises(ApiError, match="already exists"):
            await client.download("/files/x", dest)
        with pytest.raises(ApiError, match="no such file"):
            await client.download("/missing", tmp_path / "new.txt")
    assert dest.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
    assert [r.path for r in hostile.requests] == ["/missing"]


async def test_download_without_auth_sends_no_credentials(hostile, tmp_path):
    hostile.route("/bucket/file.txt", "public")
    async with make(hostile.url) as client:
        await client.download(f"{hostile.url}/bucket/file.txt", tmp_path / "f.txt", auth=False)
        with pytest.raises(ApiError, match="only sent to the profile's own server"):
            await client.download("http://127.0.0.2:9/x", tmp_path / "g.txt")
    assert "x-api-key" not in hostile.requests[-1].headers
    assert (tmp_path / "f.txt").read_text() == "public"


# --- one health check per profile in flight ---------------------------------------------------

async def test_one_health_check_per_profile_in_flight(hostile):
    from testdeck.session import ProfileSession

    async with make(hostile.url) as client:
        session = ProfileSession(client.profile, None, client, 5.0, False, "env")  # type: ignore[arg-type]
        answers = await asyncio.gather(*(session.ping() for _ in range(5)))
        assert answers == ["ok"] * 5
        assert len(hostile.requests) == 1
        await session.ping()  # the next check, once the first is over, is a new one
        assert len(hostile.requests) == 2


# --- the one path escaper ---------------------------------------------------------------------

@pytest.mark.parametrize("value, segment", [
    ("../../../admin/users/7/disable#", "..%2F..%2F..%2Fadmin%2Fusers%2F7%2Fdisable%23"),
    ("..", "%2E%2E"), (".", "%2E"), ("a b?c=d&e%f", "a%20b%3Fc%3Dd%26e%25f"), (42, "42"), ("ümlaut", "%C3%BCmlaut"),
])
def test_seg_makes_exactly_one_segment(value, segment):
    from testdeck.http import path, seg

    assert seg(value) == segment
    assert path("/api/{}/x/{}", value, "ok") == f"/api/{segment}/x/ok"


async def test_an_id_from_a_server_cannot_climb_out_of_its_path(hostile):
    from testdeck.http import path

    hostile.route("/api/requests/..%2F..%2Fadmin%2Fusers%2F7%2Fdisable%23/stop", {"stopped": True})
    async with make(hostile.url) as client:
        assert await client.request("PATCH", path("/api/requests/{}/stop", "../../admin/users/7/disable#")) \
            == {"stopped": True}
    assert [r.path for r in hostile.requests] == ["/api/requests/..%2F..%2Fadmin%2Fusers%2F7%2Fdisable%23/stop"]


async def test_a_secret_in_a_big_body_is_redacted_too(hostile):
    rows = [{"id": i, "note": "x" * 100} for i in range(3000)] + [{"id": "leak", "note": f"key={KEY}"}]
    hostile.route("/big", rows)  # over BIG_BODY: checked and parsed off the event loop
    async with make(hostile.url) as client:
        got = await client.request("GET", "/big")
    assert got[-1] == {"id": "leak", "note": "key=***"} and len(got) == 3001
