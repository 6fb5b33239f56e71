"""Static agents and remote docker hosts, each in three scopes: global, team space, project.

Global and space records are defined there (one pool each); a project sees
the ones associated with it (POST/DELETE /rest/projects/{projid}/<kind>/{id}).
Agents change state with the clock (a busy one alternates, a new one is LOST
until its first poll); docker hosts have a last known status and a
connection test that fails for hosts that cannot answer.
"""

from __future__ import annotations

import base64
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from testdeck.services.onetest.sim.common import (
    DEMO_PROJECT_ID,
    DEMO_SPACE_ID,
    PERF_SPACE_ID,
    USER,
    State,
    body,
    err,
    flag,
    int_id,
)

DEMO_CA = "-----BEGIN CERTIFICATE-----\nMIIBdemo\n-----END CERTIFICATE-----\n"
FIRST_POLL = 10.0  # simulated seconds before a new agent first contacts the server
BUSY_WINDOW = 60.0  # the busy demo agent alternates BUSY/AVAILABLE every this many simulated seconds
LOST_FOR = 3 * 86400.0
DOCKER_INFO = {"server": "Docker Engine - Community", "version": "24.0.7", "apiVersion": "1.43",
               "goVersion": "go1.20.10", "gitCommit": "311b9ff", "buildDate": "2023-10-26T09:08:02Z",
               "osArch": "linux/amd64", "experimental": False}
AGENT_FIELDS = ("hostName", "ipAddress", "type", "version", "operatingSystem", "architecture", "ram", "licenseType",
                "pollInterval", "engineListSize", "capabilities")
DOCKER_FIELDS = ("name", "hostName", "ipAddress", "port", "type", "username", "secure", "caCert", "clientCert",
                 "clientKey")


def capability(key: str, value: str, cid: int) -> dict[str, Any]:
    return {"id": cid, "name": key, "key": key, "category": "SYSTEM", "lastModified": 1_700_000_000_000,
            "value": [{"id": cid * 10, "capability": [{"id": cid * 100, "key": key, "value": value}]}]}


def _agent(aid: int, host: str, ip: str | None, os_: str, arch: str, ram: str | None, owner: str, state: str,
           space: str | None, projects: set[str], caps: dict[str, str]) -> dict[str, Any]:
    return {"id": aid, "hostName": host, "ipAddress": ip, "owner": owner, "type": "STATIC", "version": "11.0.2",
            "operatingSystem": os_, "architecture": arch, "ram": ram, "licenseType": "FLOATING" if ram else None,
            "pollInterval": 5000, "engineListSize": 0,
            "capabilities": [capability(k, v, aid * 10 + i) for i, (k, v) in enumerate(caps.items())],
            "state": state, "_space": space, "_projects": projects, "_created": None}


def seed_agents() -> dict[int, dict[str, Any]]:
    rows = [
        _agent(101, "agent-win01.demo.lan", "10.0.4.21", "Windows Server 2022", "x86_64", "17179869184", USER,
               "AVAILABLE", None, {DEMO_PROJECT_ID}, {"os": "windows", "browser": "edge"}),
        _agent(102, "agent-lnx07.demo.lan", "10.0.4.37", "Linux", "aarch64", "8589934592", USER, "BUSY", None,
               {DEMO_PROJECT_ID}, {"os": "linux", "browser": "chrome"}),
        _agent(103, "Perf-Agent-03.demo.lan", None, "Linux", "x86_64", None, "alice", "LOST", None, set(),
               {"os": "linux"}),
        _agent(201, "team-agent-01.demo.lan", "10.0.5.11", "Linux", "x86_64", "8589934592", USER, "AVAILABLE",
               DEMO_SPACE_ID, {DEMO_PROJECT_ID}, {"os": "linux"}),
        _agent(202, "team-agent-02.demo.lan", "10.0.5.12", "macOS 14", "arm64", "17179869184", "bob", "AVAILABLE",
               DEMO_SPACE_ID, set(), {"os": "macos", "browser": "safari"}),
        _agent(301, "perf-lab-agent.demo.lan", "10.0.9.3", "Linux", "x86_64", "34359738368", USER, "AVAILABLE",
               PERF_SPACE_ID, set(), {"os": "linux"}),
    ]
    return {a["id"]: a for a in rows}


def _docker(did: int, name: str, host: str, port: str, space: str | None, projects: set[str], ok: bool,
            owner: str = USER) -> dict[str, Any]:
    return {"id": did, "name": name, "hostName": host, "ipAddress": None, "port": port, "owner": owner,
            "type": "REMOTE_DOCKER", "username": None, "secure": port == "2376",
            "caCert": DEMO_CA if port == "2376" else None, "clientCert": None,
            "clientKey": None, "info": dict(DOCKER_INFO) if ok else None, "_space": space, "_projects": projects,
            "_created": None}


def seed_dockerhosts() -> dict[int, dict[str, Any]]:
    rows = [
        _docker(11, "build-farm-1", "docker1.demo.lan", "2376", None, {DEMO_PROJECT_ID}, True),
        _docker(12, "legacy-docker", "unreachable-docker.demo.lan", "2375", None, set(), False),
        _docker(21, "team-docker", "docker-team.demo.lan", "2376", DEMO_SPACE_ID, {DEMO_PROJECT_ID}, True),
    ]
    return {d["id"]: d for d in rows}


def test_connection(host: dict[str, Any]) -> dict[str, Any]:
    """The simulated connection test: deterministic from the host's own settings."""
    name = str(host.get("hostName") or "")
    port = str(host.get("port") or "")
    if not name:
        return {"status": "FAILURE", "reason": "hostName is required", "info": None}
    if not port.isdigit() or not 0 < int(port) < 65536:
        return {"status": "FAILURE", "reason": f"invalid port {port!r}", "info": None}
    if "unreachable" in name:
        return {"status": "FAILURE", "reason": f"Connect to {name}:{port} failed: Connection refused", "info": None}
    if host.get("secure") and not host.get("caCert"):
        return {"status": "FAILURE", "reason": "TLS is on but no CA certificate was given", "info": None}
    return {"status": "SUCCESS", "reason": None, "info": dict(DOCKER_INFO)}


def _decode_filter(text: str | None) -> tuple[str, str] | None:
    if not text:
        return None
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise err(400, "filter must be base64 encoded") from None
    key, _, value = raw.partition("=")
    return key.strip(), value.strip()


def _cap_values(agent: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(v.get("key")), str(v.get("value"))) for c in agent.get("capabilities") or []
            for group in c.get("value") or [] for v in group.get("capability") or []]


def routes(st: State) -> list[Route]:
    config = st.config
    st.agents, st.dockerhosts = seed_agents(), seed_dockerhosts()  # type: ignore[attr-defined]
    next_id = {"agents": [1000], "dockerhosts": [100]}

    def agent_view(agent: dict[str, Any], normalize: bool = False) -> dict[str, Any]:
        out = {k: v for k, v in agent.items() if not k.startswith("_")}
        now_ms = int(st.now() * 1000)
        state = agent["state"]
        if agent["_created"] is not None:
            state = "LOST" if config.elapsed(agent["_created"]) < FIRST_POLL else "AVAILABLE"
        elif agent["id"] == 102:  # the busy demo agent takes work and finishes it
            state = "BUSY" if int(config.elapsed(st.start) // BUSY_WINDOW) % 2 == 0 else "AVAILABLE"
        lag = LOST_FOR * 1000 / config.speed if state == "LOST" else agent["pollInterval"] or 0
        out.update(state=state, rtbState=state, engineListSize=2 if state == "BUSY" else 0,
                   contactTime=now_ms - int(lag), rtbContactTime=now_ms - int(lag))
        if state == "LOST" and agent["_created"] is not None:
            out["contactTime"] = out["rtbContactTime"] = None  # never contacted yet
        if normalize:
            out["hostName"] = str(out["hostName"]).lower()
        return out

    def docker_view(host: dict[str, Any], normalize: bool = False) -> dict[str, Any]:
        out = {k: v for k, v in host.items() if not k.startswith("_")}
        out["clientKey"] = None  # a private key is write-only
        out["projectList"] = ",".join(sorted(host["_projects"]))
        out["teamSpaceList"] = host["_space"] or ""
        return out

    views = {"agents": agent_view, "dockerhosts": docker_view}
    fields = {"agents": AGENT_FIELDS, "dockerhosts": DOCKER_FIELDS}
    nouns = {"agents": "static agent", "dockerhosts": "remote docker host"}

    def table(kind: str) -> dict[int, dict[str, Any]]:
        return getattr(st, kind)

    def matches(agent: dict[str, Any], wanted: tuple[str, str] | None) -> bool:
        if wanted is None:
            return True
        key, value = wanted
        return any(k == key and (not value or v == value) for k, v in _cap_values(agent))

    def in_scope(kind: str, request: Request, space: str | None) -> list[dict[str, Any]]:
        everyone = flag(request, "all") or kind == "dockerhosts"
        wanted = _decode_filter(request.query_params.get("filter")) if kind == "agents" else None
        return [r for r in table(kind).values() if r["_space"] == space and (everyone or r["owner"] == USER)
                and matches(r, wanted)]

    def find(kind: str, rid: int, space: str | None | bool = False) -> dict[str, Any]:
        """`space` False: any pool; None: the global pool; an id: that team space's pool."""
        record = table(kind).get(rid)
        if record is None or (space is not False and record["_space"] != space):
            raise err(404, f"The {nouns[kind]} {rid} is not found.")
        return record

    def create(kind: str, data: dict[str, Any], space: str | None) -> dict[str, Any]:
        if not str(data.get("hostName") or "").strip():
            raise err(400, "hostName is required")
        next_id[kind][0] += 1
        record = {k: data.get(k) for k in fields[kind]}
        record.update(id=next_id[kind][0], owner=USER, _space=space, _projects=set(), _created=st.now())
        if kind == "agents":
            record.update(type=record["type"] or "STATIC", pollInterval=record["pollInterval"] or 5000,
                          engineListSize=0, capabilities=record["capabilities"] or [], state="LOST")
        else:
            record.update(type=record["type"] or "REMOTE_DOCKER", secure=bool(record["secure"]))
            record["info"] = test_connection(record)["info"]
        table(kind)[record["id"]] = record
        return record

    def update(kind: str, record: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        for key in fields[kind]:
            if key in data and not (key == "clientKey" and not data[key]):
                record[key] = data[key]
        if kind == "dockerhosts":
            record["info"] = test_connection(record)["info"]
        return record

    def kind_routes(kind: str, id_name: str) -> list[Route]:
        view = views[kind]

        async def list_global(request: Request):
            return JSONResponse([view(r, flag(request, "normalize")) for r in in_scope(kind, request, None)])

        async def put_global(request: Request):
            data = await body(request)
            try:
                rid = int(data.get("id"))
            except (TypeError, ValueError):
                raise err(404, f"The specified {nouns[kind]} has not been previously defined.") from None
            record = table(kind).get(rid)
            if record is None or record["_space"] is not None:
                raise err(404, f"The specified {nouns[kind]} has not been previously defined.")
            return JSONResponse(view(update(kind, record, data)))

        async def post_global(request: Request):
            return JSONResponse(view(create(kind, await body(request), None)), 201)

        async def get_global(request: Request):
            return JSONResponse(view(find(kind, int_id(request, "id", "not found"), None), flag(request, "normalize")))

        async def delete_global(request: Request):
            record = find(kind, int_id(request, "id", "not found"), None)
            del table(kind)[record["id"]]
            return Response(status_code=200)

        async def list_space(request: Request):
            sid = st.space(request)
            return JSONResponse([view(r, flag(request, "normalize")) for r in in_scope(kind, request, sid)])

        async def post_space(request: Request):
            sid = st.space(request)
            return JSONResponse(view(create(kind, await body(request), sid)), 201)

        async def get_space(request: Request):
            sid = st.space(request)
            return JSONResponse(view(find(kind, int_id(request, id_name, "not found"), sid)))

        async def put_space(request: Request):
            sid = st.space(request)
            rid = int_id(request, id_name, "not found")
            record = table(kind).get(rid)
            if record is None or record["_space"] != sid:
                raise err(404, f"The specified {nouns[kind]} has not been previously defined.")
            return JSONResponse(view(update(kind, record, await body(request))))

        async def delete_space(request: Request):
            sid = st.space(request)
            record = find(kind, int_id(request, id_name, "not found"), sid)
            del table(kind)[record["id"]]
            return Response(status_code=200)

        def project_rows(request: Request) -> tuple[str, list[dict[str, Any]]]:
            pid = st.project(request, "projid")
            return pid, [r for r in table(kind).values() if pid in r["_projects"]]

        async def list_project(request: Request):
            _, rows = project_rows(request)
            normalize = flag(request, "normalize")
            if kind == "dockerhosts":
                return JSONResponse([view(r) for r in rows])
            wanted = _decode_filter(request.query_params.get("filter"))
            out = []
            for r in sorted(rows, key=lambda a: (not matches(a, wanted), a["id"])):  # matching ones first
                row = view(r, normalize)
                hit = matches(r, wanted)
                caps = r.get("capabilities") or []
                row["matchSpecifics"] = {"match": hit, "matchedCapability": caps if hit and wanted else [],
                                         "misMatchedCapability": [] if hit else caps}
                out.append(row)
            return JSONResponse(out)

        async def get_project(request: Request):
            pid, _ = project_rows(request)
            record = find(kind, int_id(request, "id", "not found"))
            if pid not in record["_projects"]:
                raise err(404, f"The {nouns[kind]} {record['id']} is not associated with project {pid}.")
            return JSONResponse(view(record, flag(request, "normalize")))

        async def associate(request: Request):
            pid = st.project(request, "projid")
            record = find(kind, int_id(request, "id", "not found"))
            record["_projects"].add(pid)
            return JSONResponse(view(record))

        async def dissociate(request: Request):
            pid = st.project(request, "projid")
            record = find(kind, int_id(request, "id", "not found"))
            record["_projects"].discard(pid)
            return Response(status_code=200)

        ep = st.endpoint
        one = "{id}" if kind == "dockerhosts" else "{agentId}"
        return [
            Route(f"/rest/{kind}", ep(list_global), methods=["GET"]),
            Route(f"/rest/{kind}", ep(put_global), methods=["PUT"]),
            Route(f"/rest/{kind}", ep(post_global), methods=["POST"]),
            Route(f"/rest/{kind}/" + "{id}", ep(get_global), methods=["GET"]),
            Route(f"/rest/{kind}/" + "{id}", ep(delete_global), methods=["DELETE"]),
            Route("/rest/spaces/{spaceId}/" + kind, ep(list_space), methods=["GET"]),
            Route("/rest/spaces/{spaceId}/" + kind, ep(post_space), methods=["POST"]),
            Route("/rest/spaces/{spaceId}/" + f"{kind}/{one}", ep(get_space), methods=["GET"]),
            Route("/rest/spaces/{spaceId}/" + f"{kind}/{one}", ep(put_space), methods=["PUT"]),
            Route("/rest/spaces/{spaceId}/" + f"{kind}/{one}", ep(delete_space), methods=["DELETE"]),
            Route("/rest/projects/{projid}/" + kind, ep(list_project), methods=["GET"]),
            Route("/rest/projects/{projid}/" + kind + "/{id}", ep(get_project), methods=["GET"]),
            Route("/rest/projects/{projid}/" + kind + "/{id}", ep(associate), methods=["POST"]),
            Route("/rest/projects/{projid}/" + kind + "/{id}", ep(dissociate), methods=["DELETE"]),
        ]

    async def docker_status(request: Request):
        space = st.space(request) if "spaceId" in request.path_params else None
        record = find("dockerhosts", int_id(request, "id", "not found"), space)
        result = test_connection(record)
        return JSONResponse({**result, "status": "CONNECTED" if result["status"] == "SUCCESS" else "DISCONNECTED"})

    async def docker_test(request: Request):
        return JSONResponse(test_connection(await body(request)))

    ep = st.endpoint
    return [
        Route("/rest/dockerhosts/testconnection", ep(docker_test), methods=["POST"]),
        Route("/rest/dockerhosts/{id}/status", ep(docker_status), methods=["GET"]),
        Route("/rest/spaces/{spaceId}/dockerhosts/{id}/status", ep(docker_status), methods=["GET"]),
        *kind_routes("agents", "agentId"),
        *kind_routes("dockerhosts", "id"),
    ]
