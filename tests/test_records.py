"""Typed records never crash on missing, extra, null or wrong-typed fields."""

from __future__ import annotations

import json
from typing import Any, Optional

import msgspec
import pytest

from testdeck.records import Record


class Job(Record):
    id: str = ""
    title: str = ""
    count: int = 0
    progress: float = 0.0
    enabled: bool = False
    tags: list[str] = msgspec.field(default_factory=list)
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    parent: str | None = None
    retries: Optional[int] = None
    anything: Any = None


def test_known_fields_typed_and_unknown_fields_kept_in_raw():
    data = {"id": "j1", "title": "nightly", "count": 4, "progress": 0.5, "enabled": True,
            "tags": ["a"], "params": {"x": 1}, "brand_new": {"nested": [1, 2]}, "another": None}
    job = Job.from_api(data)
    assert (job.id, job.title, job.count, job.progress, job.enabled) == ("j1", "nightly", 4, 0.5, True)
    assert job.tags == ["a"] and job.params == {"x": 1}
    assert job.raw == data
    assert job.raw is not data, "raw is a copy: mutating the server dict later changes nothing"
    assert job.get("brand_new") == {"nested": [1, 2]}
    assert job.get("count") == 4
    assert job.get("missing", "dflt") == "dflt"
    json.dumps(job.raw)


def test_missing_fields_take_defaults():
    job = Job.from_api({})
    assert job == Job()
    assert job.tags == [] and job.params == {}
    assert job.raw == {}


def test_null_fields_take_defaults():
    job = Job.from_api({k: None for k in ("id", "title", "count", "progress", "enabled", "tags", "params",
                                          "parent", "retries", "anything")})
    assert job == Job()
    assert "title" in job.raw


@pytest.mark.parametrize("key, value", [
    ("id", {"oops": 1}),
    ("id", [1, 2]),
    ("count", "many"),
    ("count", "3.5"),
    ("count", {"n": 3}),
    ("count", [3]),
    ("progress", "half"),
    ("enabled", "maybe"),
    ("enabled", [True]),
    ("tags", "a,b"),
    ("tags", {"a": 1}),
    ("params", ["x"]),
    ("retries", "lots"),
])
def test_wrong_typed_fields_take_defaults(key, value):
    job = Job.from_api({"id": "j", key: value} if key != "id" else {key: value})
    assert getattr(job, key) == getattr(Job(), key)
    assert job.raw[key] == value


@pytest.mark.parametrize("key, value", [
    ("count", 1e400),           # json.loads("1e400") is inf
    ("count", float("nan")),
    ("retries", float("-inf")),
])
def test_non_finite_numbers_for_int_fields_take_defaults(key, value):
    job = Job.from_api({key: value})
    assert getattr(job, key) == getattr(Job(), key)


def test_huge_number_from_real_json_does_not_crash():
    data = json.loads('{"id": "j", "count": 1e400, "progress": 1e400}')
    job = Job.from_api(data)
    assert job.count == 0


def test_coercions():
    job = Job.from_api({"id": 42, "count": "3", "progress": "0.25", "retries": "2", "title": 7})
    assert job.id == "42" and job.count == 3 and job.progress == 0.25 and job.retries == 2
    assert job.title == "7"
    assert isinstance(job.count, int) and isinstance(job.progress, float)
    assert Job.from_api({"progress": 1}).progress == 1.0
    assert isinstance(Job.from_api({"progress": 1}).progress, float)


@pytest.mark.parametrize("value, expected", [
    (0, False), (1, True), (True, True), (False, False),
    ("true", True), ("false", False), ("1", True), ("0", False), ("yes", True), ("no", False),
    ("TRUE", True), ("False", False),
])
def test_bools(value, expected):
    job = Job.from_api({"enabled": value})
    assert job.enabled is expected


def test_optional_fields():
    assert Job.from_api({"parent": "p1"}).parent == "p1"
    assert Job.from_api({"parent": 5}).parent == "5"
    assert Job.from_api({"retries": 3}).retries == 3
    assert Job.from_api({"anything": {"k": [1]}}).anything == {"k": [1]}


def test_many():
    jobs = Job.many([{"id": "a"}, {"id": "b", "count": "2"}, None, "c"])
    assert [j.id for j in jobs] == ["a", "b", "", ""]
    assert jobs[1].count == 2
    assert jobs[3].raw == {"value": "c"}
    for bad in (None, {"rows": [{"id": "a"}]}, "a,b", 3, ({"id": "a"},)):
        assert Job.many(bad) == []
    assert Job.many([]) == []


def test_from_api_on_non_dict_does_not_crash():
    for bad in (None, "text", 3, ["a"]):
        job = Job.from_api(bad)
        assert job.id == ""


def test_default_factory_fields_not_shared():
    a, b = Job.from_api({}), Job.from_api({})
    a.tags.append("x")
    assert b.tags == []


def test_raw_excluded_from_equality_and_repr():
    a = Job.from_api({"id": "a", "extra": 1})
    b = Job.from_api({"id": "a", "extra": 2})
    assert a == b
    assert "extra" not in repr(a)


# --- many(): built in C by msgspec, always what from_api gives --------------------------------------------

VALUES = [None, "", "x", "3", "3.5", "1e3", "true", "yes", 0, 1, 2, 3.0, 3.7, 1e400, float("nan"), True, False,
          [], ["a"], {}, {"k": 1}, 2**70]


def fields_of(job: Job) -> dict[str, Any]:
    return {k: getattr(job, k) for k in Job.__struct_fields__}


def same(a: Any, b: Any) -> bool:
    return a == b or (a != a and b != b)  # nan


@pytest.mark.parametrize("key", [k for k in Job.__struct_fields__ if k != "raw"])
def test_many_gives_what_from_api_gives_for_every_kind_of_value(key):
    for v in VALUES:  # each in a batch of its own: one lenient conversion must not slip through
        data = {"id": "r", key: v}
        got, want = Job.many([{"id": "ok", "count": 1}, data])[1], Job.from_api(data)
        assert all(same(getattr(got, k), getattr(want, k)) for k in fields_of(want)), (key, data)
        assert type(getattr(got, key)) is type(getattr(want, key)), (key, data)
        assert got.raw == data and got.api() == data


def test_many_keeps_extra_fields_and_a_field_named_raw_in_raw_only():
    [job] = Job.many([{"id": "a", "raw": {"x": 1}, "brand_new": [1]}])
    assert job.raw == {"id": "a", "raw": {"x": 1}, "brand_new": [1]}
    assert job.get("brand_new") == [1] and job.get("raw") == {"x": 1}  # the server's field, not the record's


def test_many_in_batches_with_bad_rows_among_good_ones(monkeypatch):
    import testdeck.records as records

    monkeypatch.setattr(records, "BATCH", 4)
    rows = [{"id": str(i), "count": i} for i in range(10)]
    rows[5] = {"id": "5", "count": None, "extra": 1}  # a null: the default, as from_api
    rows[7] = "bare"  # not an object: wrapped, as from_api
    jobs = Job.many(rows)
    assert [j.id for j in jobs] == ["0", "1", "2", "3", "4", "5", "6", "", "8", "9"]
    assert [j.count for j in jobs] == [0, 1, 2, 3, 4, 0, 6, 0, 8, 9]
    assert jobs[7].api() == "bare" and jobs[5].raw["extra"] == 1
    assert all(type(j) is Job for j in jobs)
    jobs[0].tags.append("x")
    assert jobs[1].tags == [], "default factories are not shared"


class Hooked(Record):
    name: str = ""
    upper: str = ""

    def __post_init__(self) -> None:
        self.upper = self.name.upper()


class Defaulted(Record):
    extra: Any = "dflt"  # an Any field with a non-None default: a null must still give it


def test_many_runs_post_init_and_keeps_non_none_defaults_of_any_fields():
    a, b = Hooked.many([{"name": "ab"}, {"name": "c"}])
    assert (a.upper, b.upper) == ("AB", "C")
    assert [d.extra for d in Defaulted.many([{"extra": None}, {}, {"extra": 1}])] == ["dflt", "dflt", 1]


# --- msgspec Structs: what the dataclasses did, and what many() relies on ---------------------------------

class Odd(Record):
    """Declared types msgspec would convert otherwise than from_api: many() goes through a twin."""

    n: int | None = 5  # a null gives 5 (convert would give None)
    either: str | int = ""  # from_api makes an int a str
    tags: list[str] = msgspec.field(default_factory=list)  # from_api takes any list


def same_record(got: Record, want: Record) -> None:
    assert type(got) is type(want)
    for k in type(want).__struct_fields__:
        a, b = getattr(got, k), getattr(want, k)
        assert same(a, b) and type(a) is type(b), (k, a, b)
    assert got.raw == want.raw and got.api() == want.api()


def many_is_from_api(cls: type[Record], rows: list) -> list[Record]:
    """many() of the rows, checked against from_api of each (a fresh copy each: __post_init__ may add to raw)."""
    got = cls.many([dict(r) if isinstance(r, dict) else r for r in rows])
    want = [cls.from_api(dict(r) if isinstance(r, dict) else r) for r in rows]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        same_record(g, w)
    return got


@pytest.mark.parametrize("key", [k for k in Odd.__struct_fields__ if k != "raw"])
def test_many_through_a_twin_gives_what_from_api_gives(key):
    for v in VALUES:
        many_is_from_api(Odd, [{}, {key: v}])
    assert Odd.many([{"n": None, "either": 3, "tags": ["a", 1]}]) == [Odd(n=5, either="3", tags=["a", 1])]


def _service_records() -> list[type[Record]]:
    import importlib

    for module in ("xyops.client", "alyvix.client", "onetest.models", "xpresso.client", "kyaraben.client",
                   "kyaraben.views.quota", "kyaraben.views.vms"):
        importlib.import_module(f"testdeck.services.{module}")

    def below(cls: type) -> list[type]:
        return [c for s in cls.__subclasses__() for c in (s, *below(s))]
    found = {c for c in below(Record) if c.__module__.startswith("testdeck.services.") and not c.__name__.startswith("_")}
    return sorted(found, key=lambda c: (c.__module__, c.__name__))


SERVICE_RECORDS = _service_records()


def test_every_service_record_class_is_found():
    assert len(SERVICE_RECORDS) >= 37  # (a module left out of the list above would go unchecked)


@pytest.mark.parametrize("cls", SERVICE_RECORDS, ids=lambda c: f"{c.__module__.split('.')[2]}.{c.__name__}")
def test_many_gives_what_from_api_gives_for_every_service_record(cls, frozen_clock):
    for key in cls.__struct_fields__:
        for v in VALUES:  # "raw" too: a server field of that name, of any type
            many_is_from_api(cls, [{}, {key: v}])
    many_is_from_api(cls, [None, "bare", 3, ["a"], {}])


def test_many_leaves_a_server_field_named_raw_of_any_type_to_raw_and_stays_in_c(monkeypatch):
    def no(*_):
        raise AssertionError("a row went through from_api")

    monkeypatch.setattr(Job, "from_api", classmethod(no))
    rows = [{"id": "a", "raw": 5}, {"id": "b", "raw": "text"}, {"id": "c", "raw": [1]}, {"id": "d", "raw": None},
            {"id": "e", "raw": {"x": 1}}]
    jobs = Job.many(rows)
    assert [j.id for j in jobs] == ["a", "b", "c", "d", "e"]
    assert all(j.raw is row for j, row in zip(jobs, rows))
    assert [j.get("raw") for j in jobs] == [5, "text", [1], None, {"x": 1}]


def test_a_wrong_type_in_a_batch_of_2000_goes_alone_through_from_api(monkeypatch):
    rows = [{"id": str(i), "count": i, "progress": i / 2, "tags": ["t"]} for i in range(2000)]
    rows[1234] = {"id": "1234", "count": "12", "progress": "half"}  # "12" is taken as 12, "half" is not a float
    calls = []
    from_api = Job.from_api.__func__

    def counted(cls, data):
        calls.append(data)
        return from_api(cls, data)

    monkeypatch.setattr(Job, "from_api", classmethod(counted))
    jobs = many_is_from_api(Job, rows)
    assert (jobs[1234].count, jobs[1234].progress, jobs[1235].count) == (12, 0.0, 1235)
    assert sum(1 for c in calls if c.get("id") == "1234") == 2  # many()'s and the check's
    assert len(calls) == 2001  # the check's 2000, and that row


class Derived(Record):
    name: str = ""
    seen: str = ""
    calls: int = 0

    def __post_init__(self) -> None:
        self.calls += 1
        self.seen = f"{self.name}/{self.raw.get('other', '-')}"  # raw is set when it runs


def test_post_init_on_the_fast_path_runs_once_with_raw_set(monkeypatch):
    rows = [{"name": f"n{i}", "other": i} for i in range(3000)] + [{"name": 7}]  # the last one: from_api's way
    records = many_is_from_api(Derived, rows)
    assert [r.seen for r in records[:2]] == ["n0/0", "n1/1"] and records[-1].seen == "7/-"
    assert {r.calls for r in records} == {1} and all(type(r) is Derived for r in records)
    assert Derived(name="x").seen == "x/-", "built directly: __post_init__ as well"


def test_records_as_the_dataclasses_were():
    a = Job.from_api({"id": "a", "extra": 1})
    assert repr(a).startswith("Job(id='a', title='', count=0,") and "raw" not in repr(a)
    assert a != Hooked() and a != Job(id="b") and a == Job(id="a")
    with pytest.raises(TypeError):
        hash(a)
    a.note = "kept"  # extra attributes, as views set (kyaraben's _reason_unread, alyvix's _api)
    a.__dict__["_api"] = {"shown": 1}
    assert a.note == "kept" and a.api() == {"shown": 1} and a == Job(id="a")
    assert Job.from_api(None).api() is None and Job().api() == {}
    assert Record(raw={"v": 1}).get("v") == 1 and Record(raw={"v": 1}) == Record(raw={"w": 2})
