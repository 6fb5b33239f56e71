"""The GC policy of big refreshes (screens/refresh.py gc_paused): young collection and freeze
after each, and now and then one full pass, when the keyboard is idle, so memory stays flat."""

from __future__ import annotations

import testdeck.screens.refresh as resource


class FakeGC:
    def __init__(self):
        self.calls: list[str] = []

    def disable(self):
        self.calls.append("disable")

    def enable(self):
        self.calls.append("enable")

    def collect(self, generation: int = 2):
        self.calls.append(f"collect{generation}")

    def freeze(self):
        self.calls.append("freeze")

    def unfreeze(self):
        self.calls.append("unfreeze")


def refreshes(monkeypatch, n: int, rows: int, idle: bool, collect: bool = True) -> list[str]:
    fake = FakeGC()
    monkeypatch.setattr(resource, "gc", fake)
    for _ in range(n):
        with resource.gc_paused(lambda: rows, collect=collect, idle=lambda: idle):
            pass
    return fake.calls


def test_a_big_refresh_collects_the_young_then_freezes(monkeypatch):
    monkeypatch.setattr(resource, "_gc_big_refreshes", 0)
    assert refreshes(monkeypatch, 1, resource.BIG_TABLE, idle=True) == ["disable", "collect1", "freeze", "enable"]
    assert refreshes(monkeypatch, 1, resource.BIG_TABLE - 1, idle=True) == ["disable", "enable"]  # small: no freeze


def test_every_so_many_big_refreshes_one_full_pass_when_idle(monkeypatch):
    monkeypatch.setattr(resource, "_gc_big_refreshes", 0)
    calls = refreshes(monkeypatch, 2 * resource.FULL_GC_EVERY, resource.BIG_TABLE, idle=True)
    assert calls.count("unfreeze") == 2 and calls.count("collect2") == 2
    assert calls.count("collect1") == 2 * resource.FULL_GC_EVERY - 2
    # the full pass comes right before a freeze: nothing is left frozen that died meanwhile
    first = calls.index("unfreeze")
    assert calls[first:first + 3] == ["unfreeze", "collect2", "freeze"]


def test_a_full_pass_waits_for_the_keyboard_but_not_for_ever(monkeypatch):
    monkeypatch.setattr(resource, "_gc_big_refreshes", 0)
    busy = refreshes(monkeypatch, 2 * resource.FULL_GC_EVERY - 1, resource.BIG_TABLE, idle=False)
    assert "unfreeze" not in busy  # someone is typing: the stall waits
    assert refreshes(monkeypatch, 1, resource.BIG_TABLE, idle=False).count("unfreeze") == 1  # capped


def test_filters_and_sorts_do_not_count_or_collect(monkeypatch):
    monkeypatch.setattr(resource, "_gc_big_refreshes", 0)
    calls = refreshes(monkeypatch, 3 * resource.FULL_GC_EVERY, resource.BIG_TABLE, idle=True, collect=False)
    assert not any(c.startswith("collect") or c == "unfreeze" for c in calls)


async def test_every_read_of_a_screens_rows_runs_with_the_collector_off(deck, monkeypatch):
    """The first read went out as the screen composed, outside the refresh's gc_paused: 100k records
    decoded with the collector on took 0.3-0.4 s more (benchmarks/table_refresh.py)."""
    import gc

    from conftest import wait_for
    from console_kit import rows_shown
    from testdeck.services import get_service

    alerts = get_service("xyops").resource("alerts")
    seen: list[bool] = []
    listed = alerts.list

    async def spy(cx):
        seen.append(gc.isenabled())
        return await listed(cx)

    monkeypatch.setattr(alerts, "list", spy)
    app, _, _ = deck("xyops", start="test-xyops/alerts")
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await rows_shown(pilot)
        await pilot.pause()
        screen.loaded.clear()
        await pilot.press("r")
        await wait_for(pilot, screen.loaded.is_set, what="a second read")
    # the first read (sent as the screen was made) and a refresh; a slow machine may add a timed one
    assert len(seen) >= 2 and not any(seen), seen
