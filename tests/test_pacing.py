"""Background work gives way to a key in flight (pacing.py), and the app says when keys come and go."""

from __future__ import annotations

import asyncio

from conftest import wait_for
from console_kit import rows_shown, table
from textual import events

from testdeck import pacing
from testdeck.config import Profile
from testdeck.services import get_service
from testdeck.services.xyops import sim


async def test_an_answer_waits_while_a_key_is_on_its_way_then_goes(sim_server, monkeypatch):
    url, _, _ = sim_server(sim.create_app)
    monkeypatch.setattr(pacing, "MAX_WAIT", 5.0)  # the cap is not what is tested here
    client = get_service("xyops").client(Profile("p", "xyops", url, timeout=10.0), sim.API_KEY)
    pacing.attach(asyncio.get_running_loop())
    try:
        pacing.key_arrived()
        request = asyncio.ensure_future(client.get_alerts())
        await asyncio.sleep(0.2)
        assert not request.done()  # held back: a key is on its way
        pacing.keys_settled()
        assert await asyncio.wait_for(request, 5.0)  # then it goes, with its answer
    finally:
        pacing.attach(None)
        await client.aclose()


async def test_the_wait_is_capped_and_nothing_waits_without_a_key():
    pacing.attach(asyncio.get_running_loop())
    try:
        waiting = asyncio.ensure_future(pacing.give_way())
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert waiting.done()  # no key: no wait at all
        pacing.key_arrived()  # a key that never acts (an action awaiting this very request)
        await asyncio.wait_for(pacing.give_way(), 2.0)  # goes after MAX_WAIT, never deadlocks
    finally:
        pacing.attach(None)


async def test_a_key_from_the_terminal_marks_keys_busy_until_it_has_acted(deck):
    app, _, _ = deck("xyops")
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_shown(pilot, 2)
        # (a screen just up holds the keys until it has painted, and a held key marks nothing: under load, longer)
        await wait_for(pilot, lambda: not app._holds and not pacing.keys_busy(), what="no hold, no key busy")
        before = table(app).cursor
        app._driver.send_message(events.Key("down", None))  # as the terminal's input thread does
        assert pacing.keys_busy()  # marked before the key even reaches the queue
        await wait_for(pilot, lambda: table(app).cursor == before + 1, what="the key acted")
        await wait_for(pilot, lambda: not pacing.keys_busy(), what="keys settled")


async def test_background_requests_take_turns_and_the_users_do_not(sim_server, monkeypatch):
    url, _, _ = sim_server(sim.create_app, latency=0.05)
    monkeypatch.setattr(pacing, "BACKGROUND_SLOTS", 2)
    client = get_service("xyops").client(Profile("p", "xyops", url, timeout=10.0), sim.API_KEY)
    inside, most = [0], [0]
    exchange = client._exchange

    async def counted(*args, **kwargs):
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        try:
            return await exchange(*args, **kwargs)
        finally:
            inside[0] -= 1

    client._exchange = counted
    pacing.attach(asyncio.get_running_loop())
    try:
        async def poll() -> None:  # like a triage poll: its own task, marked, starting more tasks
            pacing.background()
            await asyncio.gather(*(client.get_alerts() for _ in range(6)))

        await asyncio.create_task(poll())
        assert most[0] == 2  # six background requests, two at a time
        most[0] = 0
        await asyncio.gather(*(client.get_alerts() for _ in range(6)))
        assert most[0] == 6  # the user's own requests never wait for a slot
    finally:
        pacing.attach(None)
        await client.aclose()
