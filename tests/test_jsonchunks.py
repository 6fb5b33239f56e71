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
