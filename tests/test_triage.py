"""The triage engine (UI-free) against a real simulator over loopback."""

from __future__ import annotations

import msgspec
import pytest

from testdeck.config import Profile
from testdeck.errors import ApiError
from testdeck.resources import Failing
from testdeck.services import get_service
from testdeck.services.kyaraben import sim
from testdeck.services.kyaraben.client import Kyaraben
from testdeck.resources import Ctx
from testdeck.triage import Board, Item, ProfileState, Reading, collect
from tests.kyaraben.conftest import Clock


def _service(*failing):
    return msgspec.structs.replace(get_service("kyaraben"), failing=list(failing))


@pytest.fixture
async def kyaraben(sim_server):
    clock = Clock()
    url, app, _ = sim_server(sim.create_app, clock=clock)
    clock.advance(60)  # past creation: seeded VMs are READY or ERROR now
    client = Kyaraben(Profile("kb", "kyaraben", url, timeout=5, fields={"user_id": sim.DEMO_USER}), None)
    yield client, app, clock
    await client.aclose()


async def test_items_are_the_rows_matching_the_declared_predicate(kyaraben):
    client, app, _ = kyaraben
    svc = _service(Failing("avms", lambda r: r.status == "ERROR", "error", message=lambda r: f"state {r.status}",
                           since=lambda r: r.ts_created))
    items = (await collect(svc, client, "kb")).items
    res = svc.resource("avms")
    errored = [r for r in await res.list(Ctx(client)) if r.status == "ERROR"]
    assert errored, "the seeded data must have a failing VM"
    assert {i.key for i in items} == {r.avm_id for r in errored}
    item = items[0]
    assert (item.severity, item.profile, item.service, item.resource) == ("error", "kb", "kyaraben", "avms")
    assert item.message == "state ERROR"
    assert item.since is not None and item.what.startswith("android vm ")


async def test_a_fixed_item_disappears_and_a_new_one_is_marked_new(kyaraben):
    client, app, _ = kyaraben
    wanted = {"first vm"}
    svc = _service(Failing("avms", lambda r: r.avm_name in wanted, "warning", what=lambda r: f"vm {r.avm_name}"))
    board = Board()
    await board.poll("kb", svc, client)
    assert [i.what for i in board.items()] == ["vm first vm"]
    first = board.items()[0]
    assert first.ident in board.new
    await board.poll("kb", svc, client)
    assert board.new == set()  # seen before: no longer new
    wanted.clear()
    wanted.add("nightly")
    await board.poll("kb", svc, client)
    assert [i.what for i in board.items()] == ["vm nightly"]  # the fixed one is gone
    assert board.items()[0].ident in board.new


async def test_unreachable_profile_is_one_critical_item_and_other_errors_keep_items_stale(sim_server):
    svc = _service(Failing("avms", lambda r: True))
    dead = Kyaraben(Profile("gone", "kyaraben", "http://127.0.0.1:9", timeout=1, fields={"user_id": "x"}), None)
    board = Board()
    await board.poll("gone", svc, dead)
    await dead.aclose()
    (item,) = board.items()
    assert (item.severity, item.what, item.profile) == ("critical", "profile unreachable", "gone")
    assert board.states["gone"].stale


async def test_a_profile_that_becomes_unreachable_keeps_what_it_read_stale_with_its_age(kyaraben):
    """Read, then unreachable: the one critical item, and every item read before it stays (its
    read time kept: the view shows its age); read again, all is fresh and the critical item goes."""
    from testdeck import clock

    client, app, _ = kyaraben
    svc = _service(Failing("avms", lambda r: r.status == "ERROR", "error"))
    board = Board()
    clock.freeze(1_000.0)
    try:
        await board.poll("kb", svc, client)
        known = board.items()
        assert known and all(i.read_at == 1_000.0 for i in known)
        assert all(board.states["kb"].stale_age(i, 1_000.0) is None for i in known)
        dead = Kyaraben(Profile("kb", "kyaraben", "http://127.0.0.1:9", timeout=1, fields={"user_id": "x"}), None)
        clock.freeze(1_180.0)
        await board.poll("kb", svc, dead)
        clock.freeze(1_200.0)
        await board.poll("kb", svc, dead)  # still down: the same critical item (its since kept)
        await dead.aclose()
        state = board.states["kb"]
        down, *kept = board.items()
        assert (down.severity, down.what, down.since) == ("critical", "profile unreachable", 1_180.0)
        assert kept == known  # not dropped: not known to be fixed
        assert state.stale and state.down and not state.unclear and not state.unknown
        assert state.stale_age(down, 1_200.0) is None
        assert [state.stale_age(i, 1_260.0) for i in kept] == [260.0] * len(kept)
        clock.freeze(1_300.0)
        await board.poll("kb", svc, client)
        assert board.items() == known and not board.states["kb"].stale
        assert all(board.states["kb"].stale_age(i, 1_300.0) is None for i in board.items())
    finally:
        clock.freeze(None)


async def test_refused_key_is_one_item(sim_server):
    url, _app, _ = sim_server(sim.create_app)
    svc = _service(Failing("avms", lambda r: True))
    client = Kyaraben(Profile("kb", "kyaraben", url, timeout=5, fields={}), None)  # no user id: refused
    with pytest.raises(ApiError) as err:
        await collect(svc, client, "kb")
    assert err.value.status in (401, 403)
    board = Board()
    await board.poll("kb", svc, client)
    await client.aclose()
    assert [(i.severity, i.what) for i in board.items()] == [("critical", "key refused")]


async def test_scoped_resources_are_searched_in_every_scope(kyaraben):
    client, app, _ = kyaraben
    svc = _service(Failing("campaigns", lambda r: True, "warning"))
    items = (await collect(svc, client, "kb")).items
    projects = [oid for oid, _ in await svc.resource("campaigns").scope.options(Ctx(client))]
    expected = set()
    for pid in projects:
        expected |= {(pid, svc.resource("campaigns").row_key(r))
                     for r in await svc.resource("campaigns").list(Ctx(client, scope=pid))}
    assert expected, "the seeded data must have campaigns"
    assert {(i.scope, i.key) for i in items} == expected


def test_sorted_by_severity_then_oldest_first():
    items = [Item("warning", "a", "s", "w", since=1), Item("critical", "a", "s", "c", since=50),
             Item("error", "a", "s", "e2", since=20), Item("error", "a", "s", "e1", since=10)]
    board = Board()
    board.states["a"] = ProfileState(items=items)
    assert [i.what for i in board.items()] == ["c", "e1", "e2", "w"]
    assert board.counts("a") == {"warning": 1, "critical": 1, "error": 2}


def test_the_same_failure_read_by_two_polls_is_the_same_item():
    """read_at says when a poll read it, not what it is: not in equality nor in the hash."""
    first = Item("error", "a", "s", "vm-1", message="boom", key="1", read_at=1_000.0)
    again = Item("error", "a", "s", "vm-1", message="boom", key="1", read_at=1_005.0)
    assert first == again and not first != again
    assert hash(first) == hash(again) and len({first, again}) == 1
    assert first != Item("error", "a", "s", "vm-1", message="other words", key="1", read_at=1_000.0)
    with pytest.raises(AttributeError):
        first.message = "changed"  # type: ignore[misc]  # frozen


async def test_a_resource_that_cannot_be_read_keeps_its_items_stale_and_the_rest_moves_on(kyaraben, sim_server):
    """Two declarations; the VM list answers 500 while the campaigns answer: the VMs' items are
    not dropped (not known to be fixed), the profile is stale and says what was not read, and the
    campaigns' items are fresh. Read again, all is fresh."""
    client, app, _ = kyaraben
    config = app.state.config
    svc = _service(Failing("avms", lambda r: r.status == "ERROR", "error"),
                   Failing("projects", lambda r: True, "warning"))
    board = Board()
    await board.poll("kb", svc, client)
    vms = {i.key for i in board.items() if i.resource == "avms"}
    projects = {i.key for i in board.items() if i.resource == "projects"}
    assert vms and projects and not board.states["kb"].stale
    config.fail_paths.add("/android")
    reading = await collect(svc, client, "kb")
    assert {i.resource for i in reading.items} == {"projects"} and set(reading.unread) == {"avms"}
    assert reading.unread["avms"].status == 500
    await board.poll("kb", svc, client)
    state = board.states["kb"]
    assert state.stale and state.unread == ("avms",) and state.not_read() == "not read: avms"
    assert not state.down and not state.unknown
    assert {i.key for i in board.items() if i.resource == "avms"} == vms  # kept, not "fixed"
    assert {i.key for i in board.items() if i.resource == "projects"} == projects
    config.fail_paths.clear()
    await board.poll("kb", svc, client)
    assert not board.states["kb"].stale and board.states["kb"].unread == ()


async def test_a_profile_whose_first_poll_fails_is_unknown_not_clear(kyaraben):
    client, app, _ = kyaraben
    app.state.config.fail_paths.add("/android")
    svc = _service(Failing("avms", lambda r: r.status == "ERROR", "error"))
    board = Board()
    await board.poll("kb", svc, client)
    state = board.states["kb"]
    assert board.items() == [] and state.stale and state.unknown and not state.down
    assert state.not_read() == "not read: avms"


async def test_a_profile_is_on_the_board_only_once_its_first_poll_has_ended(kyaraben):
    """While the first poll is on the way there is no state: no "✔ 0" count is claimed for it."""
    import asyncio

    client, app, _ = kyaraben
    app.state.config.latency = 0.3
    board = Board()
    poll = asyncio.create_task(board.poll("kb", _service(Failing("avms", lambda r: True)), client))
    await asyncio.sleep(0.1)
    assert "kb" not in board.states
    await poll
    assert board.states["kb"].last_ok is not None and board.items()



async def test_declarations_on_the_same_list_read_it_once_per_poll(sim_server):
    """xyOps declares failed and warned jobs on one search: one request for both, per poll."""
    from testdeck.services.xyops import sim as xysim

    url, _app, _ = sim_server(xysim.create_app)
    svc = get_service("xyops")
    client = svc.client(Profile("xy", "xyops", url, timeout=5), xysim.API_KEY)
    sent: list[str] = []
    request = client.request

    async def counted(method, path, **kw):
        sent.append(path)
        return await request(method, path, **kw)

    client.request = counted
    try:
        jobs = [f for f in svc.failing if f.resource == "jobs"]
        assert len(jobs) == 2 and jobs[0].query == jobs[1].query
        reading = await collect(svc, client, "xy")
    finally:
        await client.aclose()
    assert {i.severity for i in reading.items if i.resource == "jobs"} >= {"error"}
    assert sent.count("/api/app/search_jobs/v1") == 1, sent  # (the lists' joins read their own once too)
    assert sorted(sent) == sorted(set(sent)), sent


async def test_a_broken_profile_is_one_item_that_says_so():
    """A profile whose config or secret cannot be used (session.BrokenClient): one critical item naming
    why, in the console's view as in `testdeck triage` (the console skipped it: nothing failing there)."""
    from testdeck.session import BrokenClient

    svc = _service(Failing("avms", lambda r: True))
    broken = BrokenClient(Profile("bad", "kyaraben", "http://127.0.0.1:9"), "read_only must be true or false")
    board = Board()
    await board.poll("bad", svc, broken)
    (item,) = board.items()
    assert (item.severity, item.what) == ("critical", "profile broken")
    assert "read_only must be true or false" in item.message


async def test_a_run_that_failed_longer_ago_than_its_window_is_history_not_failing(kyaraben):
    """OneTest executions and XPRESSO requests that ended in failure a month ago kept `testdeck triage`
    at exit 3 for good: a declaration's `within` leaves them out (xyOps jobs: the last day, as before)."""
    from testdeck import clock

    client, _app, _ = kyaraben
    ended = [clock.now() - 30]
    svc = _service(Failing("avms", lambda r: r.get("status") == "ERROR", since=lambda r: ended[0], within=60.0))
    board = Board()
    await board.poll("kb", svc, client)
    assert board.items()  # failed 30 s ago: failing now
    ended[0] = clock.now() - 3600  # an hour ago: outside its window
    board = Board()
    await board.poll("kb", svc, client)
    assert board.items() == []
    assert {f.within for f in get_service("onetest").failing if f.resource == "executions"} == {86400.0}
    assert {f.within for f in get_service("xpresso").failing} == {86400.0}


def test_a_broken_profiles_reason_is_not_cut_by_a_one_letter_secret(tmp_path, monkeypatch):
    """A secret of one letter, read earlier in the process, turned `read_only` into `r***ad_only`."""
    from testdeck import credentials
    from testdeck.config import Config
    from testdeck.session import ProfileSession

    monkeypatch.setattr(credentials, "_known", {"e", "hunter2-long-secret"})
    bad = Profile("bad", "xyops", "http://127.0.0.1:9", broken="read_only must be true or false; hunter2-long-secret")
    session = ProfileSession.open_or_broken(Config(path=tmp_path / "c.toml", profiles={"bad": bad}), bad)
    assert "read_only must be true or false" in session.broken and "hunter2" not in session.broken
