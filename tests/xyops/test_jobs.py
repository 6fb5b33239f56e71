"""Events, jobs and their logs, servers: over loopback against the simulator (jobs run 40x faster)."""

from __future__ import annotations

import asyncio

import pytest

from testdeck.errors import ApiError
from testdeck.services.xyops.views_jobs import LogFollower, follow_job, list_jobs, result
from testdeck.resources import Ctx


async def event_id(client, title: str) -> str:
    return next(e.id for e in await client.get_events() if e.title == title)


async def wait_done(client, job_id: str, timeout: float = 10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        job = await client.get_job(job_id)
        if job.finished or asyncio.get_running_loop().time() > deadline:
            return job
        await asyncio.sleep(0.05)


async def test_events_list_details_with_active_jobs(xy):
    client, _ = xy
    c = client()
    events = await c.get_events()
    assert {e.title for e in events} >= {"Nightly backup", "Integration tests"} and events[0].id.startswith("e")
    backup = await c.get_event(await event_id(c, "Nightly backup"))
    assert backup.plugin == "shellplug" and backup.queued == 0
    assert [j["state"] for j in backup.jobs] == ["active"]
    with pytest.raises(ApiError) as exc:
        await c.get_event("enope")
    assert (exc.value.status, exc.value.message) == (404, "Failed to locate event: enope")


async def test_active_jobs_and_search_with_its_limit(xy):
    client, _ = xy
    c = client()
    active = await c.get_active_jobs()
    assert active and all(j.state == "active" and 0 < j.progress < 1 and j.started for j in active)
    # the real default limit is 1: the adapter always sends one
    assert len((await c.call("search_jobs", {"query": "*"}, get=True))["rows"]) == 1
    recent = await c.search_jobs()
    assert len(recent) >= 36 and all(j.finished for j in recent)
    assert "output" not in recent[0].raw  # search rows are pruned
    failed = await c.search_jobs("tags:_error", limit=100)
    assert failed and all("_error" in j.tags and j.code not in (0, None) for j in failed)
    assert {result(j.code) for j in failed} >= {"exit 1", "exit 3", "abort"}
    assert await c.search_jobs("(((") == []  # an invalid query answers no rows, not an error


async def test_run_event_with_overrides_follows_the_live_log_to_the_end(xy):
    client, _ = xy
    c = client()
    job_id = await c.run_event(await event_id(c, "Deploy web"), {"duration": 8, "lines": 6, "exit_code": 3})
    assert job_id.startswith("j")
    first = await c.tail_live_job_log(job_id)
    batches = [b async for b in follow_job(c, job_id)]
    lines = [line for b in batches for line in b]
    steps = [line for line in lines if ": step " in line or ": progress " in line]
    assert len(steps) == 6 and len(set(steps)) == 6  # every line once: only new text appended
    assert lines[-2] == "Error: Script exited with code: 3"
    assert lines[-1].startswith("-- complete · result exit 3 · Script exited with code: 3")
    job = await c.get_job(job_id)
    assert job.code == 3 and job.tags == ["_error"] and job.token and first.count("\n") <= 6
    assert await c.tail_live_job_log(job_id) == ""  # completed: empty text, not an error
    assert await c.get_job_log(job_id) is None  # 204: the log is inline in job.output
    assert await c.view_job_log(job_id, job.token) == job.output


async def test_a_big_log_comes_from_get_job_log_and_the_token_view(xy):
    client, _ = xy
    c = client()
    big = next(j for j in await c.search_jobs(limit=100) if j.raw.get("log_file_size", 0) > 32 * 1024)
    job = await c.get_job(big.id)
    assert job.output == ""
    text = await c.get_job_log(job.id)
    assert text and text.count("\n") > 1000 and text == await c.view_job_log(job.id, job.token)
    with pytest.raises(ApiError) as exc:
        await c.view_job_log(job.id, "bad-token")
    assert exc.value.status == 403 and "Authentication failed" in exc.value.message
    with pytest.raises(ApiError) as exc:
        await c.get_job("jnope")
    assert exc.value.status == 404 and exc.value.message.startswith("Failed to load job details: jnope")


async def test_abort_ends_with_code_abort_and_a_second_abort_is_fine(xy):
    client, _ = xy
    c = client()
    job_id = await c.run_event(await event_id(c, "Nightly backup"), {"duration": 3000})
    await c.abort_job(job_id)
    job = await wait_done(c, job_id)
    assert job.code == "abort" and result(job.code) == "abort"
    assert job.description == "Manually aborted by API Key: Demo admin key"
    assert job.output.rstrip().endswith("Caught SIGTERM, killing child: 4242")
    await c.abort_job(job_id)  # the real server answers code 0 again
    with pytest.raises(ApiError) as exc:
        await c.abort_job("jnope")
    assert exc.value.status == 500 and exc.value.message == "Job not found or is no longer active: jnope"


async def test_run_event_errors(xy):
    client, _ = xy
    with pytest.raises(ApiError) as exc:
        await client().run_event("enope")
    assert (exc.value.status, exc.value.message) == (500, "Event not found: enope")


async def test_jobs_list_default_failed_and_one_event(xy):
    client, _ = xy
    c = client()
    # jobs of earlier tests may finish meanwhile (the module's simulator runs fast): the count lies between
    before = len(await c.search_jobs("*", limit=1000))
    default = await list_jobs(Ctx(c))
    after = len(await c.search_jobs("*", limit=1000))
    assert min(100, before) <= len([j for j in default if j.finished]) <= min(100, after)
    assert all(j.raw["event_title"] for j in default)
    failed = await list_jobs(Ctx(c, query="tags:_error"))
    assert failed and all(not j.state == "active" and "_error" in j.tags for j in failed)
    eid = await event_id(c, "Integration tests")
    await c.run_event(eid, {"duration": 3000})
    mine = await list_jobs(Ctx(c, values={"event": eid}))
    assert mine and {j.event for j in mine} == {eid} and any(j.state == "active" for j in mine)


async def test_servers_with_info_and_details(xy):
    client, _ = xy
    c = client()
    rows = {s.id: s for s in await c.get_active_servers()}
    assert rows["s67890fghij"].info["cpu"]["cores"] == 8 and rows["s67890fghij"].groups == ["main", "db"]
    assert rows["sbatch02demo"].offline is True and rows["local"].offline is False
    detail = await c.get_server("s67890fghij")
    assert detail.online is True and detail.raw["data"]["data"]["monitors"]["load_avg"] == 11.2
    with pytest.raises(ApiError) as exc:
        await c.get_server("snope")
    assert exc.value.status == 404 and "hosts/snope/data" in exc.value.message


def test_log_follower_appends_only_new_complete_lines():
    f = LogFollower()
    assert f.take("a\nb\npart") == (["a", "b"], False)
    assert f.take("a\nb\npartial\nc\n") == (["partial", "c"], False)  # the whole log again: continue at the count
    assert f.take("ial\nc\nd\n") == (["d"], False)  # an end-aligned cut tail: continue after the anchor
    lines, gap = f.take("x\ny\n")  # nothing known in it: a gap, shown in full
    assert lines == ["x", "y"] and gap
    assert f.restarted  # shorter than what was shown: the log started over (a restarted server), it did not grow
    assert f.take("x\ny\nlast", final=True) == (["last"], False)
    g = LogFollower()
    g.take("a\nb\n")
    lines, gap = g.take("".join(f"line {i}\n" for i in range(50)))
    assert gap and not g.restarted  # longer, nothing known in it: cut, it grew faster than it was read
