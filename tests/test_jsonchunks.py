"""The interruptible JSON decoder gives exactly json.loads' results and errors."""

from __future__ import annotations

import json

import pytest

from testdeck import jsonchunks

DOCS = [
    '{"code": 0, "rows": [{"id": 1, "g": [1, [2]]}, {"id": 2, "t": "x\\"y"}], "n": null}',
    '[]', '{}', ' [ 1 , "a" , {"k": []} ] ', '"plain"', '3.5', '{"a": [], "b": {"c": [1]}, "é": "ü"}',
]


@pytest.mark.parametrize("doc", DOCS)
def test_same_result_as_json_loads(doc):
    assert jsonchunks.loads(doc) == json.loads(doc)


def test_big_rows_document():
    doc = json.dumps({"code": 0, "rows": [{"id": i, "tags": [i, str(i)]} for i in range(5000)]})
    assert jsonchunks.loads(doc) == json.loads(doc)


@pytest.mark.parametrize("bad", ['{"a": 1,}', "[1 2]", '{"a" 1}', "[1]x", '{"a": [1,]}', "", '{"a": [1', "{1: 2}"])
def test_malformed_raises_value_error(bad):
    with pytest.raises(ValueError):
        jsonchunks.loads(bad)


MORE = ['{"a": 1, "a": 2, "b": [3]}', '[NaN, 1e400, -Infinity]', '{"rows": [1e400, {"t": "\\ud800"}]}',
        '12345678901234567890123', '{"rows": [{"x": -0.0}], "t": 1.5e300}', '\n\t [ {"k": [[], {}]} , "é" ] \n',
        ' ' * 100 + '{"rows": [1, 2]}',
        '{"n": 123456789012345678901234567890, "f": 1.5, "b": true, "z": null, "s": "x", "o": {"p": {"q": [1]}}}']


@pytest.mark.parametrize("doc", DOCS + MORE)
def test_bytes_and_text_give_json_loads_result(doc):
    want = json.loads(doc)
    for body in (doc, doc.encode("utf-8", "surrogatepass")):
        got = jsonchunks.loads(body)
        assert repr(got) == repr(want)  # nan, -0.0 and key order included


def test_valid_json_takes_the_msgspec_path_in_pieces(monkeypatch):
    monkeypatch.setattr(jsonchunks, "PIECE", 7)
    monkeypatch.setattr(jsonchunks, "_loads_json", lambda text: pytest.fail("took the slow path"))
    doc = {"code": 0, "rows": [{"id": i, "tags": [i, str(i)], "n": None} for i in range(100)], "list": {"length": 100}}
    assert jsonchunks.loads(json.dumps(doc).encode()) == doc
    assert jsonchunks.loads(json.dumps(doc["rows"])) == doc["rows"]


@pytest.mark.parametrize("bad", [b'{"a": 1,}', b"[1 2]", b'{"rows": [1,]}', b"\xff[1]", b'[1] [2]'])
def test_malformed_bytes_raise_value_error(bad):
    with pytest.raises(ValueError):
        jsonchunks.loads(bad)


def nested(n: int, inner: str = "1") -> str:
    return "[" * n + inner + "]" * n


@pytest.mark.parametrize("doc", [
    nested(200), nested(201),
    '{"rows": [1, ' + nested(198) + "]}", '{"rows": [1, ' + nested(199) + "]}",
    '{"a": ' + nested(199) + "}", '{"a": ' + nested(200) + "}", '{"a": {"b": ' + nested(198) + "}}",
    '{"a": {"b": ' + nested(199) + "}}",
    "[" + ", ".join(["{}"] * 50) + ", " + nested(199) + "]", "[" + nested(200) + "]",
    '{"rows": [' + nested(199, '"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["') + "]}",  # brackets in a string
    '{"rows": [' + nested(198, "NaN") + "]}", '{"rows": [' + nested(199, "NaN") + "]}",  # the json.loads way
])
def test_too_deep_exactly_where_the_whole_walk_says(monkeypatch, doc):
    monkeypatch.setattr(jsonchunks, "PIECE", 3)
    if jsonchunks.too_deep(json.loads(doc)):
        with pytest.raises(jsonchunks.TooDeep):
            jsonchunks.loads(doc.encode())
    else:
        assert jsonchunks.loads(doc.encode()) == json.loads(doc)


def test_the_limit_is_two_hundred_levels():
    assert not jsonchunks.too_deep(json.loads(nested(200))) and jsonchunks.too_deep(json.loads(nested(201)))


# --- big lists of objects: decoded between cut points (jsonchunks._by_cuts) -------------------------

def _row(rnd, i: int) -> dict:
    """A row as servers send them, with what can fool a cut: the cut's own text in a string, nested
    objects that open with the same key as the rows, brackets and braces in strings."""
    row = {"id": f"r{i}", "title": rnd.choice(["plain", '}, {"id": "fake"}', "x\\\"}, {\"id\":", "[[{{", "é ü"]),
           "n": rnd.choice([0, -1, 2.5, None, True, 10**20])}
    if rnd.random() < 0.5:
        row["children"] = [{"id": f"c{i}.{k}", "deep": [[{"id": k}]]} for k in range(rnd.randint(0, 3))]
    return row


@pytest.mark.parametrize("seed", range(40))
def test_big_lists_cut_into_pieces_give_json_loads_result(monkeypatch, seed):
    import random

    rnd = random.Random(seed)
    monkeypatch.setattr(jsonchunks, "STEP", rnd.choice([40, 100, 300]))
    monkeypatch.setattr(jsonchunks, "MAX_MISSES", rnd.choice([0, 2, 8, 1000]))
    rows = [_row(rnd, i) for i in range(rnd.randint(1, 120))]
    doc = rows if rnd.random() < 0.3 else {"code": 0, "msg": "[{ not the list", "rows": rows, "list": {"n": [1]}}
    text = json.dumps(doc, indent=rnd.choice([None, 2]), ensure_ascii=rnd.random() < 0.5)
    assert repr(jsonchunks.loads(text.encode())) == repr(json.loads(text))


def test_a_big_list_of_objects_is_never_cut_by_msgspec_in_one_call(monkeypatch):
    """That one call over a 30 MB body was the longest GIL hold of a 100k-row load (~70 ms)."""
    monkeypatch.setattr(jsonchunks, "STEP", 200)
    calls = []
    for name in ("_fast", "_pieces", "_members"):  # every msgspec call, with the size of what it reads
        decode = getattr(jsonchunks, name).decode
        monkeypatch.setattr(jsonchunks, name, type("D", (), {"decode": staticmethod(
            lambda b, decode=decode: calls.append(len(b)) or decode(b))}))
    doc = {"code": 0, "rows": [{"id": i, "actions": [{"k": 1}, {"k": 2}]} for i in range(500)], "list": {"n": 500}}
    body = json.dumps(doc).encode()
    assert jsonchunks.loads(body) == doc
    assert len(calls) > 50 and max(calls) < 1_000 < len(body) // 20  # many small calls, none over the body


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_too_deep_inside_a_big_list_cut_into_pieces(monkeypatch, where):
    monkeypatch.setattr(jsonchunks, "STEP", 100)
    rows = [{"id": i, "v": [1]} for i in range(60)]
    at = {"first": 0, "middle": 30, "last": 59}[where]
    for depth, deep in ((197, False), (198, True)):  # rows sit at depth 3: {"id", "v": 197 lists} is 200 deep
        rows[at] = {"id": at, "v": json.loads(nested(depth))}
        body = json.dumps({"rows": rows}).encode()
        assert jsonchunks.too_deep(json.loads(body)) is deep
        if deep:
            with pytest.raises(jsonchunks.TooDeep):
                jsonchunks.loads(body)
        else:
            assert jsonchunks.loads(body) == json.loads(body)


def test_the_big_lists_key_given_again_later(monkeypatch):
    """A duplicate key after the big list: as json.loads when it is not a list (the last wins);
    when it is, both lists' elements (documented in the module)."""
    monkeypatch.setattr(jsonchunks, "STEP", 60)
    rows = ", ".join(f'{{"id": {i}}}' for i in range(40))
    for again in ("5", '"x"', "null", "{}"):
        doc = f'{{"rows": [{rows}], "rows": {again}}}'
        assert jsonchunks.loads(doc.encode()) == json.loads(doc)
    doc = f'{{"rows": [{rows}], "rows": [{{"id": 99}}]}}'
    assert jsonchunks.loads(doc.encode())["rows"][-1] == {"id": 99}


def test_a_body_made_so_that_every_cut_misses_still_decodes_right(monkeypatch):
    """A hostile server's rows whose strings are full of the cut's own text: the cuts miss, the
    decoder gives up on them after MAX_MISSES and takes msgspec's way; same result, bounded waste."""
    monkeypatch.setattr(jsonchunks, "STEP", 50)
    fake = '}, {"id": ' * 20
    rows = [{"id": i, "t": fake} for i in range(200)]
    body = json.dumps({"rows": rows}).encode()
    tries = []
    decode = jsonchunks._fast.decode
    monkeypatch.setattr(jsonchunks, "_fast", type("D", (), {"decode": staticmethod(
        lambda b: tries.append(len(b)) or decode(b))}))
    assert jsonchunks.loads(body) == {"rows": rows}
    assert sum(tries) < 3 * len(body)  # the missed pieces cost a bounded amount
