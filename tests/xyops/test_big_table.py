"""A big alerts table end to end: a body over BIG_BODY (decoded in pieces by jsonchunks), records
built in batches, a table over BIG_TABLE; sort and filter give the rows they should, in order.
(How fast: benchmarks/table_refresh.py.)"""

from __future__ import annotations

import gc
import threading

import pytest
from conftest import wait_for

from testdeck import http, jsonchunks, records
from testdeck.screens import refresh, view
from testdeck.screens.resource import ResourceScreen
from testdeck.widgets.statusbar import StatusBar
from testdeck.widgets.table import VirtualTable

SIZE = 6_000  # alerts: a ~1.8 MB body, more rows than BIG_TABLE


@pytest.fixture
def small_pieces(monkeypatch):
    # every piece-wise path taken many times over
    monkeypatch.setattr(jsonchunks, "PIECE", 97)
    monkeypatch.setattr(records, "BATCH", 101)
    monkeypatch.setattr(view, "SORT_CHUNK", 333)


async def shown(pilot, screen: ResourceScreen, what: str, check) -> list[str]:
    table = screen.query_one(VirtualTable)
    await wait_for(pilot, lambda: check(table), timeout=15, what=what)
    return list(table.data.keys)


async def test_a_big_table_loads_sorts_and_filters_the_rows_it_should(deck, small_pieces):
    app, sim_app, _ = deck("xyops", size=SIZE)
    alerts = list(sim_app.state.alerts.values())
    assert SIZE * 250 > http.BIG_BODY and SIZE > refresh.BIG_TABLE  # (an alert is ~300 bytes of JSON)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.last_ok is not None,
                       timeout=30, what="rows")
        screen = app.screen
        keys = await shown(pilot, screen, "all rows", lambda t: t.row_count == len(alerts))
        assert sorted(keys) == sorted(a["id"] for a in alerts)
        one = screen.records[keys[0]]
        source = sim_app.state.alerts[keys[0]]
        assert (one.title, one.enabled, one.modified) == (source["title"], source["enabled"], source["modified"])
        assert one.raw == source and type(one).__name__ == "Alert"

        # sort by `modified` (an int column), both ways; equal values keep the server's order
        column = [c.key for c in screen.resource.columns].index("modified")
        screen._sorted((column, False))
        # (the server sends them by title: the table's first order)
        by_age = [a["id"] for a in sorted(sorted(alerts, key=lambda a: a["title"].lower()), key=lambda a: a["modified"])]
        assert await shown(pilot, screen, "sorted", lambda t: t.sort_column == column and list(t.data.keys) == by_age)
        screen.action_sort_reverse()
        newest = [a["id"] for a in sorted(sorted(alerts, key=lambda a: a["title"].lower()), key=lambda a: a["modified"],
                                          reverse=True)]
        assert await shown(pilot, screen, "reversed", lambda t: t.sort_reverse and list(t.data.keys) == newest)

        # a filter typed into the box, on top of the sort
        await pilot.press("slash", *"title:alert 59")
        want = [k for k in newest if "alert 59" in sim_app.state.alerts[k]["title"].lower()]
        assert len(want) > 10
        assert await shown(pilot, screen, "filtered", lambda t: list(t.data.keys) == want)
        await pilot.press("escape")
        assert await shown(pilot, screen, "unfiltered", lambda t: list(t.data.keys) == newest)
    assert gc.isenabled()


async def test_a_big_first_load_shows_every_row_while_it_formats_them(deck, monkeypatch, frozen_clock):
    # (the clock frozen: an age cell formatted when painted equals the one formatted later)
    monkeypatch.setattr(refresh, "PREVIEW_FROM", 1_000)
    gate = threading.Event()
    prepare = refresh._prepare

    def slow(resource, records):  # the whole formatted list waits until the test has used the lazy view
        if len(records) > refresh.PREVIEW:
            gate.wait(20)
        return prepare(resource, records)

    monkeypatch.setattr(refresh, "_prepare", slow)
    app, sim_app, _ = deck("xyops", size=SIZE)
    everything = [a["id"] for a in sorted(sim_app.state.alerts.values(), key=lambda a: a["title"].lower())]
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, ResourceScreen) and app.screen.query(VirtualTable),
                           what="screen")
            screen = app.screen
            table = screen.query_one(VirtualTable)
            await wait_for(pilot, lambda: table.row_count > 0, timeout=30, what="first rows")
            assert list(table.data.keys) in (everything[:refresh.PREVIEW], everything)  # the first, then all
            await wait_for(pilot, lambda: table.row_count == len(everything), timeout=30, what="every row")
            assert list(table.data.keys) == everything and not gate.is_set()
            status = str(screen.query_one(StatusBar).render())
            assert f"{len(everything)} rows · preparing filter and sort" in status
            # the lazy view: every row reachable, its cells those the whole list gets, formatted when painted
            assert len(table.data.rows.lazy.blocks) < 3
            await pilot.press("end")
            await pilot.pause()
            assert table.cursor_key == everything[-1] and screen.selected().id == everything[-1]
            resource = screen.resource
            records = [screen.records[k] for k in everything]
            eager = view.build_view(resource, view.format_rows(resource, records, True), None, None, False)
            for n in (0, 1, view.LAZY_BLOCK, len(everything) - 1):
                assert table.data.rows[n] == eager.rows[n] and table.data.meanings[n] == eager.meanings[n]
            assert "".join(table.render_line(table.size.height - 1).text.split()).startswith(
                "".join(eager.rows[-1][:2]).replace(" ", ""))
            assert len(table.data.rows.lazy.blocks) < 6  # (not every block: only what was painted or read)
            # a filter typed now waits for the formatted rows, then applies
            await pilot.press("slash", *"alert 59", "enter")
            assert list(table.data.keys) == everything
            gate.set()
            want = [k for k in everything if "alert 59" in sim_app.state.alerts[k]["title"].lower()]
            assert await shown(pilot, screen, "filtered", lambda t: list(t.data.keys) == want) == want
            await pilot.pause(0.1)
            status = str(screen.query_one(StatusBar).render())
            assert f"{len(want)}/{len(everything)} rows" in status and "preparing" not in status
    finally:
        gate.set()


def test_a_lazy_view_shows_a_hostile_servers_escapes_as_stand_ins():
    """Cells formatted when painted go through the same cleaning as the whole list's: a title or an
    expression carrying OSC, CSI, C1 or bidi sequences shows them as visible stand-ins."""
    from hostile import FORBIDDEN, escape_records

    from testdeck.services import get_service
    from testdeck.services.xyops.client import Alert

    resource = get_service("xyops").resource("alerts")
    records = Alert.many([{**r, "id": f"{r['id']}-{n}", "expression": r["message"]}
                          for n in range(10) for r in escape_records()])
    data, by_key = view.lazy_view(resource, records)
    eager = view.build_view(resource, view.format_rows(resource, records, True), None, None, False)
    assert data.keys == eager.keys and len(by_key) == len(records)
    for n in range(len(records)):
        cells = data.rows[n]
        assert cells == eager.rows[n] and not FORBIDDEN & set("".join(cells))
    assert any("␛" in "".join(data.rows[n]) for n in range(len(records)))
