"""Every service's declarations fit the generic screen: keys, columns, forms."""

from __future__ import annotations

import pytest

from testdeck.screens.resource import RESERVED_KEYS
from testdeck.services import NAMES, ORDER, all_services, get_service


def test_all_five_services_are_registered():
    assert [s.name for s in all_services()] == list(ORDER)


@pytest.mark.parametrize("service", ORDER)
def test_the_name_index_lists_every_resource_name_and_alias(service):
    declared = {n for r in get_service(service).resources for n in (r.name, *r.aliases)}
    assert NAMES[service] == declared  # `--open NAME` skips services by this index


@pytest.mark.parametrize("service", ORDER)
def test_action_keys_do_not_shadow_generic_keys_or_each_other(service):
    for res in get_service(service).resources:
        keys = [a.key for a in res.actions]
        assert not set(keys) & RESERVED_KEYS, f"{service}/{res.name} shadows {set(keys) & RESERVED_KEYS}"
        assert len(keys) == len(set(keys)), f"{service}/{res.name} binds a key twice: {keys}"
        labels = [a.label for a in res.actions]
        assert len(labels) == len(set(labels))


@pytest.mark.parametrize("service", ORDER)
def test_resources_are_complete(service):
    svc = get_service(service)
    assert svc.create_sim is not None and svc.resources
    names = [r.name for r in svc.resources]
    assert len(names) == len(set(names))
    for res in svc.resources:
        assert res.columns and res.key
        assert any(c.key == res.key for c in res.columns) or res.detail is not None
        for action in res.actions:
            if action.form is not None:
                fields = [f.name for f in action.form.fields]
                assert len(fields) == len(set(fields)), f"{res.name}/{action.label} repeats a field"


def test_confirm_note_from_text_from_the_rows_or_none():
    from testdeck.records import Record
    from testdeck.resources import Action, Ctx

    async def call(cx):
        return None

    rows = [Record.from_api({"id": "a"}), None, Record.from_api({"id": "b"})]
    assert Action("x", "delete", call, confirm=True).confirm_note(rows) == ""
    assert Action("x", "delete", call, confirm="Its files go too.").confirm_note(rows) == "Its files go too."
    counted = Action("x", "delete", call, confirm=lambda rs: f"{len(rs)} go, with their files.")
    assert counted.confirm_note(rows) == "2 go, with their files."  # the rows, without the missing one
    valued = Action("x", "set", call, confirm=lambda rs, cx: f"{len(rs)} get {cx.values['name']} in {cx.scope}")
    ctx = Ctx(None, scope="project:3600", values={"name": "logLevel"})
    assert valued.confirm_note(rows, ctx) == "2 get logLevel in project:3600"  # and the action's Ctx
    broken = Action("x", "delete", call, confirm=lambda rs: rs[5])
    assert broken.confirm_note(rows) == "" and broken.confirm  # the generic question still asks
