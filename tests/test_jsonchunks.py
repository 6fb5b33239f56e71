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
