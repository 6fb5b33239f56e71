"""Big tables: the pieces that keep sorting and filtering from holding the GIL (benchmarks/table_refresh.py)."""

from __future__ import annotations

import random

import pytest

from testdeck.records import Record
from testdeck.screens import view
from testdeck.screens.view import Cancelled, Row, filter_sort, sort_rows
from testdeck.services import get_service


def rows(n: int, seed: int = 3) -> list[Row]:
    rnd = random.Random(seed)
    return [Row(str(i), (str(rnd.randint(0, 50)),), Record(raw={"v": rnd.randint(0, 50)})) for i in range(n)]


@pytest.mark.parametrize("reverse", [False, True])
def test_sorting_in_pieces_is_sorted_and_stable_like_sorted(monkeypatch, reverse):
    monkeypatch.setattr(view, "SORT_CHUNK", 7)  # many pieces, many ties between them
    data = rows(500)
    key = lambda r: r.record.get("v")  # noqa: E731
    got = sort_rows(data, key, reverse)
    assert [r.key for r in got] == [r.key for r in sorted(data, key=key, reverse=reverse)]


def test_a_newer_filter_or_sort_stops_the_older_one(monkeypatch):
    monkeypatch.setattr(view, "SORT_CHUNK", 10)
    resource = get_service("xyops").resource("alerts")
    data = rows(30_000)
    asked = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 2

    with pytest.raises(Cancelled):
        filter_sort(resource, data, lambda r: True, 0, False, cancelled)
    assert filter_sort(resource, data, None, None, False, lambda: False) == data


# --- format_rows works column by column (C where it can): the same rows as Col.cell / Col.meaning -------

from testdeck import clock  # noqa: E402
from testdeck.columns import ERROR, OK, WARNING, Col, age, duration, plain  # noqa: E402
from testdeck.resources import Resource  # noqa: E402
from testdeck.screens import view  # noqa: E402
from testdeck.screens.view import GLYPHS, build_view, format_rows  # noqa: E402
from testdeck.widgets.table import TableData, clean  # noqa: E402


class Vm(Record):
    id: str = ""
    state: str = ""
    size: int = 0
    at: int = 0


class Odd(Record):
    id: str = ""

    def get(self, key, default=None):  # a record that answers for itself
        return "odd-" + key if key == "state" else super().get(key, default)


def row_by_row(resource, records):
    """format_rows as it was: one cell at a time (the reference)."""
    cols = resource.columns
    out = []
    for r in records:
        cells = [c.cell(r) for c in cols]
        found = [None] * len(cols)
        for i, c in enumerate(cols):
            meaning = c.meaning(r)
            if meaning in GLYPHS:
                found[i] = meaning
                why = c.reason and meaning in (ERROR, WARNING) and r.get(c.reason)
                if why:
                    cells[i] += f": {plain(why)}"
        out.append((resource.row_key(r), tuple(map(clean, cells)), tuple(found) if any(found) else None))
    return out


def boom(value):
    if value == 13:
        raise ValueError("unlucky")
    return f"<{value}>"


RESOURCE = Resource("vms", "VMs", "id", columns=[
    Col("id"), Col("state", status={"ERROR": ERROR, "RUNNING": OK, "": WARNING}, reason="why"),
    Col("size"), Col("size", "boxed", fmt=boom), Col("at", fmt=age), Col("took", fmt=duration),
    Col("extra"), Col("on"), Col("flag", status=lambda v: 1 / 0 if v == "x" else (OK if v else None)),
], list=None)

VALUES = [None, "", "x", "ERROR", "RUNNING", 0, 13, 7, -3, 2.5, float("nan"), True, False, [1, "a"], {"k": None},
          1_700_000_000, 1_700_000_000_000, 10**15, 10**400, "2026-11-18T12:00:00Z", "é\x1b[31m"]


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: 1_700_000_500.25)


@pytest.mark.parametrize("build", ["many", "mixed", "in parts"])
def test_format_rows_gives_the_cells_and_meanings_of_col_cell_and_col_meaning(frozen, build, monkeypatch):
    if build == "in parts":  # a big list is formatted a part at a time: the same rows, the longest of all
        monkeypatch.setattr(view, "FORMAT_PART", 7)
    rnd = random.Random(5)
    raws = [{"id": f"v{n}", "on": rnd.choice([0, 1, True, False, "no"]),
             **{k: rnd.choice(VALUES) for k in ("state", "size", "at", "took", "extra", "flag", "why")}}
            for n in range(400)]
    records = Vm.many(raws)
    if build == "mixed":  # more than one record class in one list, one answering get() itself
        records = [Odd.from_api(x) if n % 3 == 0 else r for n, (x, r) in enumerate(zip(raws, records))]
    want = row_by_row(RESOURCE, records)
    got = format_rows(RESOURCE, records, True)
    assert [(r.key, r.cells, r.meanings) for r in got] == want
    assert [r.record for r in got] == records
    assert [r.cells for r in format_rows(RESOURCE, records)] == [tuple(clean(c.cell(r)) for c in RESOURCE.columns)
                                                                 for r in records]  # no reasons without meanings
    assert any("␛" in cell for r in got for cell in r.cells), "cells are display lines: controls made visible"
    assert all(r.meanings is None for r in format_rows(RESOURCE, records))
    assert got.longest == [max(len(r.cells[i]) for r in got) for i in range(len(RESOURCE.columns))]


def test_format_rows_of_nothing():
    assert format_rows(RESOURCE, [], True) == []
    assert [r.cells for r in format_rows(Resource("x", "X", "id", columns=[], list=None), Vm.many([{}]))] == [()]


@pytest.mark.parametrize("seconds", [-5, 0, 0.5, 1, 59, 60, 61, 3599, 3600, 3661, 86399, 86400, 90061, 10**9])
def test_ages_and_durations_in_two_units(seconds):
    units = [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)]
    s, parts = max(0, int(seconds)), []
    for unit, size in units:  # the rule, spelled out: the two most significant units
        if s >= size or (parts and len(parts) < 2):
            parts.append(f"{s // size}{unit}")
            s %= size
        if len(parts) == 2:
            break
    assert duration(seconds) == ("".join(parts) or "0s")


@pytest.mark.parametrize("column", [0, 1, 2, 6, 7])  # text, mixed (null, numbers, text, lists), int, bools/numbers, text/bools
@pytest.mark.parametrize("reverse", [False, True])
def test_sorting_a_column_orders_rows_like_sorted_on_the_sort_key(monkeypatch, frozen, column, reverse):
    monkeypatch.setattr(view, "SORT_CHUNK", 13)  # many pieces, merged two by two (an odd one out too)
    rnd = random.Random(column)
    raws = [{"id": rnd.choice(["b", "B", "a", "Ä", "c10", "c9"]) + str(rnd.randint(0, 3)),
             "state": rnd.choice(VALUES), "size": rnd.randint(-3, 3), "on": rnd.choice(["no", True, "Yes", False]),
             "extra": rnd.choice([True, False, 0, 1, 2.5])}
            for _ in range(500)]
    rows = format_rows(RESOURCE, Vm.many(raws), True)
    key = RESOURCE.columns[column].key
    want = sorted(rows, key=lambda r: view._sort_key(r.record.get(key)), reverse=reverse)
    assert [r.key for r in filter_sort(RESOURCE, rows, None, column, reverse)] == [r.key for r in want]
    assert [id(r) for r in filter_sort(RESOURCE, rows, None, column, reverse)] == [id(r) for r in want]  # stable


@pytest.mark.parametrize("filtered, column, reverse", [(None, None, False), ("v1", None, False), (None, 4, True),
                                                       ("state:error", 0, False), (None, 2, False)])
def test_build_view_measures_like_the_table_measures_the_rows_shown(frozen, filtered, column, reverse):
    rnd = random.Random(9)
    raws = [{"id": f"v{n}", "state": rnd.choice(["ERROR", "RUNNING", "x" * rnd.randint(0, 60)]),
             "why": "w" * rnd.randint(0, 30), "at": 1_700_000_000 - rnd.randint(0, 10**6),
             "extra": "é" * rnd.randint(0, 9)} for n in range(300)]
    rows = format_rows(RESOURCE, Vm.many(raws), True)
    match = view.compile_filter(filtered, RESOURCE) if filtered else None
    for _ in range(2):  # the second time from what the first kept
        got = build_view(RESOURCE, rows, match, column, reverse)
        shown = view.filter_sort(RESOURCE, rows, match, column, reverse)
        want = TableData.build([c.heading for c in RESOURCE.columns], [(r.key, r.cells) for r in shown],
                               [None if c.reason else c.width for c in RESOURCE.columns], [r.meanings for r in shown],
                               [c.priority for c in RESOURCE.columns], GLYPHS)
        assert (got.keys, got.rows, got.widths, got.index, got.meanings) == \
            (want.keys, want.rows, want.widths, want.index, want.meanings)
    assert rows.longest == [max(len(r.cells[i]) for r in rows) for i in range(len(RESOURCE.columns))]
