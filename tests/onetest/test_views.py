"""OneTest's declarations on their own (validators), without a screen."""

from __future__ import annotations


def test_name_value_lines_need_a_name():
    from testdeck.services.onetest.views_executions_start import pairs

    assert pairs("A=1\nB=") is None
    assert pairs("A=1\nNOEQUALS") == "line 2: write NAME=VALUE"
    assert pairs("A=1\n=emptyname") == "line 2: a NAME before the ="  # was sent as a variable named ""
