"""Buckets and their files over loopback: data replace vs merge, multipart upload, streamed download."""

from __future__ import annotations

import pytest

from testdeck.errors import ApiError
from testdeck.services.xyops.sim import API_KEY


@pytest.fixture
async def bucket(xy):
    client, app = xy
    created = await client().create_bucket({"title": "Scratch", "enabled": True, "icon": "", "notes": "n",
                                            "data": {"foo": 1, "n": 2}})
    yield created
    if created.id in app.state.buckets:
        await client().delete_bucket(created.id)


async def test_list_and_details_with_data_and_files(xy):
    client, _ = xy
    rows = await client().get_buckets()
    release = next(b for b in rows if b.title == "Release artefacts")
    assert release.id.startswith("b") and len(release.id) == 16 and release.files == []  # lists carry no files
    detail = await client().get_bucket(release.id)
    assert detail.data == {"version": "2.4.1", "channel": "stable", "approved": True}
    names = {f.filename: f for f in detail.files}
    assert set(names) == {"Release Notes.TXT", "build.log"} and names["build.log"].size == 1800
    assert names["Release Notes.TXT"].path.endswith("/release_notes.txt")  # storage path lowercased
    assert detail.raw["files"][0]["filename"] and detail.raw["data"]["channel"] == "stable"
    with pytest.raises(ApiError) as exc:
        await client().get_bucket("bnope")
    assert (exc.value.status, exc.value.message) == (404, "Bucket not found: bnope")


async def test_create_echoes_no_data_but_the_record_keeps_what_was_sent(xy, bucket):
    client, app = xy
    assert bucket.data == {"foo": 1, "n": 2} and bucket.revision == 1
    assert app.state.bucket_data[bucket.id] == {"foo": 1, "n": 2}


async def test_update_bucket_replaces_data_write_bucket_data_merges(xy, bucket):
    client, app = xy
    await client().update_bucket(bucket.id, {"title": "Renamed", "data": {"bar": 2}})
    after = await client().get_bucket(bucket.id)
    assert after.title == "Renamed" and after.notes == "n" and after.data == {"bar": 2} and after.revision == 2
    merged = await client().write_bucket_data(bucket.id, {"baz": 3})
    assert merged == {"bar": 2, "baz": 3} == app.state.bucket_data[bucket.id]


async def test_upload_keeps_names_replaces_only_exact_matches_and_downloads_byte_for_byte(xy, bucket, tmp_path):
    client, app = xy
    one, two = tmp_path / "Hello World.TXT", tmp_path / "data.bin"
    one.write_text("hello world\n")
    two.write_bytes(bytes(range(256)) * 1000)
    seen = []
    files = await client().upload_bucket_files(bucket.id, [one, two], progress=lambda s, t: seen.append((s, t)))
    assert [f.filename for f in files] == ["Hello World.TXT", "data.bin"]
    assert files[0].path.endswith("/hello_world.txt") and files[0].path.startswith(f"files/bucket/{bucket.id}/")
    assert seen[-1] == (one.stat().st_size + two.stat().st_size,) * 2
    lower = tmp_path / "hello world.txt"
    lower.write_text("second\n")
    files = await client().upload_bucket_files(bucket.id, [lower])
    assert sorted(f.filename for f in files) == ["Hello World.TXT", "data.bin", "hello world.txt"]
    one.write_text("replaced\n")
    files = await client().upload_bucket_files(bucket.id, [one])
    assert len(files) == 3  # an exact name match replaced the first file
    dest = tmp_path / "out.bin"
    path = next(f.path for f in files if f.filename == "data.bin")
    assert await client().download_bucket_file(path, dest) == two.stat().st_size
    assert dest.read_bytes() == two.read_bytes()
    await client().delete_bucket_file(bucket.id, "data.bin")
    assert [f.filename for f in (await client().get_bucket(bucket.id)).files] == ["hello world.txt",
                                                                                 "Hello World.TXT"]
    with pytest.raises(ApiError) as exc:
        await client().download_bucket_file(path, tmp_path / "gone.bin")
    assert exc.value.status == 404 and "File not found" in exc.value.message
    assert not (tmp_path / "gone.bin").exists() and not (tmp_path / "gone.bin.part").exists()


async def test_file_errors_as_the_real_server(xy, bucket, tmp_path):
    client, _ = xy
    with pytest.raises(ApiError) as exc:
        await client().delete_bucket_file(bucket.id, "nope.txt")
    assert exc.value.status == 500
    assert exc.value.message == 'Failed to delete bucket file: Bucket file not found: {"filename":"nope.txt"}'
    f = tmp_path / "a.txt"
    f.write_text("x")
    with pytest.raises(ApiError) as exc:
        await client().upload_bucket_files("bnope", [f])
    assert exc.value.message == "Bucket not found: bnope" and not exc.value.retryable


async def test_delete_bucket_removes_its_files(xy, bucket, tmp_path):
    client, app = xy
    f = tmp_path / "k.txt"
    f.write_text("keep?")
    (entry,) = await client().upload_bucket_files(bucket.id, [f])
    await client().delete_bucket(bucket.id)
    assert bucket.id not in app.state.buckets
    with pytest.raises(ApiError) as exc:
        await client().download_bucket_file(entry.path, tmp_path / "k2.txt")
    assert exc.value.status == 404


async def test_file_url_needs_no_key_and_gets_none(xy, sim_server, tmp_path):
    """The download sends no key at all (URL or header); Range and HEAD work on the file URL."""
    import httpx
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    client, app = xy
    release = next(b for b in await client().get_buckets() if b.title == "Release artefacts")
    path = next(f.path for f in (await client().get_bucket(release.id)).files if f.filename == "build.log")
    base = str(client()._http.base_url).rstrip("/")
    async with httpx.AsyncClient() as raw:
        head = await raw.head(f"{base}/{path}")
        part = await raw.get(f"{base}/{path}", headers={"Range": "bytes=0-3"})
    assert head.status_code == 200 and head.headers["content-length"] == "1800"
    assert part.status_code == 206 and part.headers["content-range"] == "bytes 0-3/1800" and part.content == b"buil"
    seen = []

    async def record(request):
        seen.append((request.scope["raw_path"].decode() + "?" + request.url.query, dict(request.headers)))
        return PlainTextResponse("file body")

    url, _, _ = sim_server(lambda config: Starlette(routes=[Route("/files/{p:path}", record)]))
    from testdeck.config import Profile
    from testdeck.services.xyops.client import XyOps

    c = XyOps(Profile("xy", "xyops", url), API_KEY)
    await c.download_bucket_file("files/bucket/b1/r/../../x#", tmp_path / "x.txt")
    (where, headers), = seen
    assert API_KEY not in where and "api_key" not in where and "x-api-key" not in headers
    # every segment from data stays one segment: `..` cannot climb, `#` cannot cut the URL
    assert where == "/files/bucket/b1/r/%2E%2E/%2E%2E/x%23?"
    assert (tmp_path / "x.txt").read_text() == "file body"


async def test_ids_from_data_stay_inside_their_parameter(sim_server):
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from testdeck.config import Profile
    from testdeck.services.xyops.client import XyOps

    seen = []

    async def record(request):
        seen.append((request.url.path, dict(request.query_params)))
        return JSONResponse({"code": 0, "bucket": {}, "job": {}})

    url, _, _ = sim_server(lambda config: Starlette(routes=[Route("/api/app/{name}/v1", record,
                                                                  methods=["GET", "POST"])]))
    c = XyOps(Profile("xy", "xyops", url), API_KEY)
    await c.get_bucket("../../x#")
    await c.get_job("../../x#")
    assert seen == [("/api/app/get_bucket/v1", {"id": "../../x#"}), ("/api/app/get_job/v1", {"id": "../../x#"})]
