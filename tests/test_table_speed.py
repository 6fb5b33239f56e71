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
