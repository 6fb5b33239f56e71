"""OneTest adapter: virtualization rules, their activity log and intercepts, per space and per project."""

from __future__ import annotations

import pytest

from testdeck.errors import ApiError
from testdeck.resources import Ctx
from testdeck.services.onetest import sim
from testdeck.services.onetest.api_hosts import Where
from testdeck.services.onetest.sim.virtualization import ACTIVITY_EVERY, ACTIVITY_SEED
from testdeck.services.onetest.views import SERVICE

SPACE = Where("space", sim.DEMO_SPACE_ID)
PROJECT = Where("project", sim.DEMO_PROJECT_ID)


async def test_rules_and_their_filters(ots, make_client):
    url, app, _ = ots
    seeded = app.state.rules
    async with make_client(url) as client:
        space = await client.get_rules(SPACE)
        project = await client.get_rules(PROJECT)
        by_execution = await client.get_rules(PROJECT, execution_id=seeded[0]["_execution"])
        by_runtime = await client.get_rules(PROJECT, stubs_runtime_id="rt-accountstub-1")
        space_by_execution = await client.get_rules(SPACE, execution_id=seeded[1]["_execution"])
        perf = await client.get_rules(Where("space", sim.PERF_SPACE_ID))
        one = await client.get_rule(PROJECT, seeded[0]["id"])
        with pytest.raises(ApiError) as other_project:
            await client.get_rule(PROJECT, seeded[3]["id"])
    assert [r.target for r in space] == ["payments.demo.lan:443", "ledger.demo.lan:8443", "legacy.demo.lan:80",
                                         "auth.mobile.demo.lan:443"]
    assert len(project) == 3 and [r.target for r in perf] == ["checkout.demo.lan:443"]
    assert [r.id for r in by_execution] == [seeded[0]["id"]] == [r.id for r in by_runtime]
    assert [r.id for r in space_by_execution] == [seeded[1]["id"]]
    assert one.mode == "routing" and one.recipients == "AccountStub@agent-lnx07" and one.status == "ACTIVE"
    assert other_project.value.status == 404


async def test_activity_is_paged_and_grows(ots, make_client):
    url, app, clock = ots
    rule = app.state.rules[0]["id"]
    async with make_client(url) as client:
        first, total = await client.get_rule_activity(PROJECT, rule, offset=0, limit=10)
        second, _ = await client.get_rule_activity(SPACE, rule, offset=10, limit=10)
        clock.advance(ACTIVITY_EVERY * 2)
        _, grown = await client.get_rule_activity(PROJECT, rule, limit=1)
        inactive, none = await client.get_rule_activity(PROJECT, app.state.rules[2]["id"])
    assert total == ACTIVITY_SEED and len(first) == 10 and len(second) == 10
    assert first[0].date > first[-1].date > second[0].date  # newest first, pages continue
    assert "Routed GET https://payments.demo.lan:443" in first[0].message
    assert grown == ACTIVITY_SEED + 2
    assert inactive == [] and none == 0


async def test_intercepts(ots, make_client):
    url, app, _ = ots
    async with make_client(url) as client:
        space = await client.get_intercepts(SPACE)
        project = await client.get_intercepts(PROJECT)
        one = await client.get_intercept(SPACE, app.state.intercepts[2]["id"])
        with pytest.raises(ApiError) as elsewhere:
            await client.get_intercept(PROJECT, app.state.intercepts[2]["id"])
    assert [i.hostName for i in space] == ["agent-lnx07.demo.lan", "agent-win01.demo.lan", "mobile-proxy.demo.lan"]
    assert len(project) == 2 and one.state == "LOST" and one.type == "HTTP_PROXY"
    assert elsewhere.value.status == 404


async def test_views_default_to_the_profiles_project(ots, make_client):
    url, _, _ = ots
    rules, intercepts = SERVICE.resource("rules"), SERVICE.resource("intercepts")
    async with make_client(url) as client, make_client(url, project_id=None) as spaced:
        scope = rules.scope.default_for(client.profile.fields)
        in_project = await rules.list(Ctx(client, scope=scope))
        in_space = await rules.list(Ctx(spaced, scope=rules.scope.default_for(spaced.profile.fields)))
        from_cli = await intercepts.list(Ctx(client, scope=scope, values={"space": sim.DEMO_SPACE_ID}))
    assert scope == f"project:{sim.DEMO_PROJECT_ID}" and len(in_project) == 3 and len(in_space) == 4
    assert len(from_cli) == 3
