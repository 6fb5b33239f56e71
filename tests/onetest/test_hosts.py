"""OneTest adapter: static agents and docker hosts in the global, team-space and project scopes."""

from __future__ import annotations

import pytest

from testdeck.errors import ApiError, ReadOnlyError
from testdeck.resources import Ctx
from testdeck.services.onetest import sim
from testdeck.services.onetest.api_hosts import Where, parse_where
from testdeck.services.onetest.sim.hosts import FIRST_POLL
from testdeck.services.onetest.views import SERVICE

GLOBAL = Where("global")
SPACE = Where("space", sim.DEMO_SPACE_ID)
PROJECT = Where("project", sim.DEMO_PROJECT_ID)


def hosts(rows) -> list[str]:
    return [r.hostName for r in rows]


def test_scopes_are_written_as_text():
    assert parse_where("global") == GLOBAL and parse_where(None) == GLOBAL
    assert parse_where(f"space:{sim.DEMO_SPACE_ID}") == SPACE
    assert parse_where("project:3600") == PROJECT and parse_where("3600") == PROJECT  # `--project ID`
    assert str(SPACE) == f"space:{sim.DEMO_SPACE_ID}"


async def test_agent_lists_in_three_scopes_with_all_normalize_and_filter(ots, make_client):
    url, _, _ = ots
    async with make_client(url) as client:
        mine = await client.get_agents()
        everyone = await client.get_agents(all=True, normalize=True)
        linux = await client.get_agents(all=True, filter="os=linux")
        space_mine = await client.get_space_agents()
        space_all = await client.get_space_agents(all=True)
        project = await client.get_project_agents(filter="os=linux")
        other = await client.list_hosts("agents", Where("space", sim.PERF_SPACE_ID))
    assert hosts(mine) == ["agent-win01.demo.lan", "agent-lnx07.demo.lan"]
    assert hosts(everyone)[-1] == "perf-agent-03.demo.lan"  # normalized to lower case
    assert hosts(linux) == ["agent-lnx07.demo.lan", "Perf-Agent-03.demo.lan"]
    assert hosts(space_mine) == ["team-agent-01.demo.lan"] and len(space_all) == 2
    # a project lists every associated agent, the ones matching the filter first, each with its match
    assert hosts(project) == ["agent-lnx07.demo.lan", "team-agent-01.demo.lan", "agent-win01.demo.lan"]
    assert [a.raw["matchSpecifics"]["match"] for a in project] == [True, True, False]
    assert hosts(other) == ["perf-lab-agent.demo.lan"]
    lost = everyone[-1]
    assert lost.state == "LOST" and lost.ram == "" and lost.ipAddress == "" and lost.caps == "os=linux"
    assert mine[1].caps == "os=linux browser=chrome"


async def test_agents_change_state_and_contact_with_the_clock(ots, make_client):
    url, _, clock = ots
    async with make_client(url) as client:
        busy = await client.get_host("agents", GLOBAL, 102)
        clock.advance(60)
        free = await client.get_host("agents", GLOBAL, 102)
    assert busy.state == "BUSY" and busy.engineListSize == 2
    assert free.state == "AVAILABLE" and free.contactTime > busy.contactTime


async def test_global_agent_create_update_get_delete(ots, make_client):
    url, _, clock = ots
    async with make_client(url) as client:
        created = await client.create_host("agents", GLOBAL, {"hostName": "new-agent.demo.lan",
                                                              "operatingSystem": "Linux"})
        first = await client.get_host("agents", GLOBAL, created.id)
        clock.advance(FIRST_POLL)
        updated = await client.update_host("agents", GLOBAL, created.id, {"hostName": "renamed.demo.lan",
                                                                          "pollInterval": 10000})
        polled = await client.get_host("agents", GLOBAL, created.id)
        await client.delete_host("agents", GLOBAL, created.id)
        with pytest.raises(ApiError) as gone:
            await client.get_host("agents", GLOBAL, created.id)
        with pytest.raises(ApiError) as update_missing:
            await client.update_host("agents", GLOBAL, 999, {"hostName": "x"})
        with pytest.raises(ApiError) as no_host:
            await client.create_host("agents", GLOBAL, {"ipAddress": "10.0.0.1"})
    assert created.id > 1000 and first.state == "LOST"  # defined, not yet contacted
    assert updated.hostName == "renamed.demo.lan" and polled.state == "AVAILABLE" and polled.pollInterval == 10000
    assert gone.value.status == 404 and update_missing.value.status == 404
    assert "not been previously defined" in update_missing.value.message
    assert no_host.value.status == 400


async def test_space_agents_and_docker_hosts_are_defined_in_their_space(ots, make_client):
    url, app, _ = ots
    async with make_client(url) as client:
        agent = await client.create_host("agents", SPACE, {"hostName": "space-agent.demo.lan"})
        in_space = await client.get_host("agents", SPACE, agent.id)
        with pytest.raises(ApiError) as not_global:
            await client.get_host("agents", GLOBAL, agent.id)
        await client.update_host("agents", SPACE, agent.id, {"hostName": "space-agent-2.demo.lan"})
        renamed = await client.get_host("agents", SPACE, agent.id)
        await client.delete_host("agents", SPACE, agent.id)
        docker = await client.create_host("dockerhosts", SPACE, {"name": "d", "hostName": "d.demo.lan",
                                                                 "port": "2375"})
        await client.update_host("dockerhosts", SPACE, docker.id, {"port": "2377"})
        docker_after = await client.get_host("dockerhosts", SPACE, docker.id)
        await client.delete_host("dockerhosts", SPACE, docker.id)
        with pytest.raises(ApiError) as unknown_space:
            await client.list_hosts("agents", Where("space", "no-such-space"))
    assert in_space.hostName == "space-agent.demo.lan" and renamed.hostName == "space-agent-2.demo.lan"
    assert not_global.value.status == 404 and agent.id not in app.state.agents
    assert docker_after.port == "2377" and docker_after.teamSpaceList == sim.DEMO_SPACE_ID
    assert docker.id not in app.state.dockerhosts
    assert unknown_space.value.status == 404 and unknown_space.value.message == "Team space no-such-space not found"


async def test_associate_and_dissociate_with_the_profiles_project(ots, make_client):
    url, _, _ = ots
    async with make_client(url) as client:
        before = await client.list_hosts("agents", PROJECT)
        associated = await client.associate("agents", 202)
        with_it = await client.list_hosts("agents", PROJECT)
        one = await client.get_host("agents", PROJECT, 202)
        await client.dissociate("agents", 202)
        without = await client.list_hosts("agents", PROJECT)
        with pytest.raises(ApiError) as not_associated:
            await client.get_host("agents", PROJECT, 202)
        await client.associate("dockerhosts", 12)
        docker_project = await client.list_hosts("dockerhosts", PROJECT)
        await client.dissociate("dockerhosts", 12)
        docker_after = await client.list_hosts("dockerhosts", PROJECT)
        with pytest.raises(ApiError) as project_create:
            await client.create_host("agents", PROJECT, {"hostName": "x"})
        with pytest.raises(ApiError) as missing:
            await client.associate("agents", 999)
    assert 202 not in [a.id for a in before] and associated.id == 202
    assert 202 in [a.id for a in with_it] and one.hostName == "team-agent-02.demo.lan"
    assert [a.id for a in without] == [a.id for a in before] and not_associated.value.status == 404
    assert sorted(d.id for d in docker_project) == [11, 12, 21] and sorted(d.id for d in docker_after) == [11, 21]
    assert project_create.value.status is None and "associate" in project_create.value.message
    assert missing.value.status == 404


async def test_docker_hosts_status_and_connection_test(ots, make_client):
    url, _, _ = ots
    async with make_client(url) as client:
        listed = await client.with_status(await client.get_dockerhosts())
        good = await client.get_dockerhost_status(11)
        bad = await client.get_dockerhost_status(12)
        team = await client.get_dockerhost_status(21, sim.DEMO_SPACE_ID)
        ok = await client.test_dockerhost_connection({"hostName": "new.demo.lan", "port": "2375"})
        refused = await client.test_dockerhost_connection({"hostName": "unreachable.demo.lan", "port": "2375"})
        no_ca = await client.test_dockerhost_connection({"hostName": "new.demo.lan", "port": "2376",
                                                         "secure": True})
        with pytest.raises(ApiError) as missing:
            await client.get_dockerhost_status(999)
        project = await client.with_status(await client.list_hosts("dockerhosts", PROJECT))
    assert [(d.name, d.status) for d in listed] == [("build-farm-1", "CONNECTED"), ("legacy-docker", "DISCONNECTED")]
    assert "Connection refused" in listed[1].reason and listed[0].version == "24.0.7"
    assert good.status == "CONNECTED" and good.info["osArch"] == "linux/amd64"
    assert bad.status == "DISCONNECTED" and team.status == "CONNECTED"
    assert ok.status == "SUCCESS" and refused.status == "FAILURE" and "Connection refused" in refused.reason
    assert no_ca.status == "FAILURE" and "CA certificate" in no_ca.reason
    assert missing.value.status == 404
    assert {d.id: d.status for d in project} == {11: "CONNECTED", 21: "CONNECTED"}  # global and space endpoints


async def test_docker_host_private_key_is_write_only(ots, make_client):
    url, app, _ = ots
    async with make_client(url) as client:
        created = await client.create_host("dockerhosts", GLOBAL, {"hostName": "k.demo.lan", "port": "2376",
                                                                   "secure": True, "caCert": "PEM",
                                                                   "clientKey": "PRIVATE-KEY-PEM"})
        read = await client.get_host("dockerhosts", GLOBAL, created.id)
    assert app.state.dockerhosts[created.id]["clientKey"] == "PRIVATE-KEY-PEM"
    assert created.raw["clientKey"] is None and read.raw["clientKey"] is None


async def test_read_only_allows_a_connection_test_but_no_change(ots, make_client):
    url, app, _ = ots
    async with make_client(url, read_only=True) as client:
        result = await client.test_dockerhost_connection({"hostName": "a.demo.lan", "port": "2375"})
        for call in (lambda: client.create_host("agents", GLOBAL, {"hostName": "x"}),
                     lambda: client.delete_host("dockerhosts", GLOBAL, 11),
                     lambda: client.associate("agents", 202), lambda: client.dissociate("agents", 101)):
            with pytest.raises(ReadOnlyError):
                await call()
    assert result.status == "SUCCESS" and 11 in app.state.dockerhosts


async def test_views_read_the_cli_scope_options_and_queries(ots, make_client):
    url, _, _ = ots
    agents, docker = SERVICE.resource("agents"), SERVICE.resource("dockerhosts")
    async with make_client(url) as client:
        default = await agents.list(Ctx(client, scope=agents.scope.default_for(client.profile.fields)))
        everyone = await agents.list(Ctx(client, scope="global", query="all"))
        by_space = await agents.list(Ctx(client, scope="global", values={"space": sim.DEMO_SPACE_ID}))
        by_project = await agents.list(Ctx(client, scope="global", values={"project": sim.DEMO_PROJECT_ID}))
        filtered = await agents.list(Ctx(client, scope="global", values={"all": True, "filter": "os=windows"}))
        detail = await agents.detail(Ctx(client, scope=f"space:{sim.DEMO_SPACE_ID}", key="201"))
        sent = await client.request("GET", f"/rest/spaces/{sim.DEMO_SPACE_ID}/agents/201")
        dockers = await docker.list(Ctx(client, scope="project:3600"))
    assert len(default) == 2 and len(everyone) == 3
    assert hosts(by_space) == ["team-agent-01.demo.lan"] and len(by_project) == 3
    assert hosts(filtered) == ["agent-win01.demo.lan"] and detail["hostName"] == "team-agent-01.demo.lan"
    assert detail == sent  # `d` is what the server sent: no computed fields mixed in
    contact, caps = (next(c for c in agents.columns if c.key == k) for k in ("contactTime", "caps"))
    assert contact.cell(by_space[0]) == "5s" and caps.cell(by_space[0]) == "os=linux"  # computed: in columns
    assert [d.status for d in dockers] == ["CONNECTED", "CONNECTED"]


async def test_failing_declarations_for_triage(ots, make_client):
    url, _, _ = ots
    found = {}
    async with make_client(url) as client:
        for failing in SERVICE.failing:
            res = SERVICE.resource(failing.resource)
            scope = res.scope.default_for(client.profile.fields)
            rows = await res.list(Ctx(client, scope=scope, query=failing.query))
            found[failing.resource] = [failing.what(r) for r in rows if failing.when(r)]
    assert sorted(found["executions"]) == ["Broken/Missing image.testsuite (LAUNCH_FAILED)",
                                           "Performance/Checkout 500 users.schedule (COMPLETE_WITH_ERROR)",
                                           "WebUI/Login [smoke].testsuite (COMPLETE_WITH_ERROR)"]
    assert found["agents"] == ["agent Perf-Agent-03.demo.lan"]  # another user's agent, LOST


async def test_scopes_by_name_as_well_as_by_id(ots, make_client):
    url, _, _ = ots
    agents, executions = SERVICE.resource("agents"), SERVICE.resource("executions")
    async with make_client(url) as client:
        by_space_name = await agents.list(Ctx(client, scope="global", values={"space": "demo team"}))
        by_project_name = await agents.list(Ctx(client, scope="project:Demo project"))
        runs = await executions.list(Ctx(client, scope="Mobile banking", query="ALL"))
        with pytest.raises(ApiError) as unknown:
            await agents.list(Ctx(client, values={"project": "No such project"}))
    assert hosts(by_space_name) == ["team-agent-01.demo.lan"] and len(by_project_name) == 3
    assert len(runs) == 2
    assert unknown.value.status is None and "no project named 'No such project'" in unknown.value.message


async def test_a_refusal_made_before_sending_leaves_the_server_healthy(ots, make_client):
    url, app, _ = ots
    async with make_client(url) as client:
        await client.list_hosts("dockerhosts", Where("global"))
        assert client.health.ok is True
        with pytest.raises(ApiError, match="a project cannot delete a docker host"):
            await client.delete_host("dockerhosts", Where("project", sim.DEMO_PROJECT_ID), 21)
        assert client.health.ok is True and client.health.last_error is None
    assert 21 in app.state.dockerhosts


def test_connection_status_reads_cleanly():
    from testdeck.services.onetest.models import ConnectionStatus
    from testdeck.services.onetest.views_hosts import show_status, status_line

    ok = ConnectionStatus.from_api({"status": "SUCCESS", "reason": "", "info": {
        "server": "Docker Engine", "version": "24.0.7", "gitCommit": "", "experimental": False}})
    assert status_line(ok) == "Status: SUCCESS · Docker: server Docker Engine, version 24.0.7, experimental no"
    assert "False" not in show_status(ok) and "gitCommit" not in show_status(ok)
    bad = ConnectionStatus.from_api({"status": "FAILURE", "reason": "Connection refused\n(port 2375)", "info": None})
    assert status_line(bad) == "Status: FAILURE · Reason: Connection refused (port 2375)"
