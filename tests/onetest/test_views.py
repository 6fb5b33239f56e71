"""OneTest's declarations on their own (validators), without a screen."""

from __future__ import annotations


def test_name_value_lines_need_a_name():
    from testdeck.services.onetest.views_executions_start import pairs

    assert pairs("A=1\nB=") is None
    assert pairs("A=1\nNOEQUALS") == "line 2: write NAME=VALUE"
    assert pairs("A=1\n=emptyname") == "line 2: a NAME before the ="  # was sent as a variable named ""


async def test_a_stop_with_only_ended_runs_names_the_path_it_would_have_sent():
    """`refused before sending` named `/rest/projects/{projectId}/executions/`, the template, not the path."""
    import pytest

    from testdeck.errors import Refused
    from testdeck.records import Record
    from testdeck.resources import Ctx
    from testdeck.services.onetest.views_executions_stop import stop

    from .conftest import client_for

    ended = Record.from_api({"id": "0badc0de-0000-4000-8000-000000000000", "status": "COMPLETE", "asset": "a"})
    cx = Ctx(client_for("http://127.0.0.1:9"), scope="3600", row=ended, key=ended.get("id"),
             values={"ids": ended.get("id")})
    with pytest.raises(Refused) as info:
        await stop(cx)
    assert info.value.path == "/rest/projects/3600/executions/" and "already ended" in info.value.message
