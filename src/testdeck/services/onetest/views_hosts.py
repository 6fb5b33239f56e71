"""Static agents and docker hosts in the global, team-space and project scopes (one picker: `P`)."""

from __future__ import annotations

from typing import Any

from testdeck.columns import ERROR, OK, RUNNING, WARNING, Col, age, plain
from testdeck.forms import Field, Form
from testdeck.resources import Action, Ctx, Opt, Query, Resource, Scope, nothing_changed
from testdeck.services.onetest.api_hosts import NOUNS, Where, parse_where
from testdeck.services.onetest.views_scopes import by_name, default_host_scope, host_scope_options, remember

STATE_MEANING = {"AVAILABLE": OK, "BUSY": RUNNING, "LOST": ERROR}
DOCKER_MEANING = {"CONNECTED": OK, "SUCCESS": OK, "DISCONNECTED": ERROR, "FAILURE": ERROR, "UNKNOWN": WARNING}
DERIVED = {"caps", "status", "reason", "version"}  # fields the console adds: never sent back


# the CLI's --space ID / --project ID (Resource.options of the resources that take a Where)
WHERE_OPTIONS = (Opt("space"), Opt("project"))


def where_of(cx: Ctx) -> Where:
    """The CLI's --space ID / --project ID win over the screen's scope."""
    values = cx.values or {}
    for kind in ("space", "project"):
        if values.get(kind):
            return Where(kind, str(values[kind]))
    return parse_where(cx.scope)


def _flag(cx: Ctx, name: str) -> bool:
    value = (cx.values or {}).get(name)
    return name in str(cx.query or "").split(",") or value is True or str(value).lower() in ("1", "true", "yes")


def _body(cx: Ctx, fields: list[Field]) -> dict[str, Any]:
    """For an update: the record as the server sent it, with the form's values over it."""
    base = {k: v for k, v in (cx.row.raw if cx.row is not None else {}).items() if k not in DERIVED}
    names = {f.name for f in fields}
    base.update({k: v for k, v in cx.values.items() if k in names})
    return base


def defined_elsewhere(kind: str, verb: str):
    """Why a project cannot define, update or delete a host (the adapter refuses it too): said at the key,
    before any form or question, and never counted against the server's health."""
    def why(cx: Ctx) -> str | None:
        if where_of(cx).kind == "project":
            return (f"a project cannot {verb} a {NOUNS[kind]}: do it globally or in a team space (P), "
                    "or here associate (a) / dissociate (u)")
        return None
    return why


def contact(value: Any) -> str:
    """The agent's last contact as an age; never contacted (null, absent, 0): `never`, not 57 years."""
    return age(value) if value not in (None, "", 0) else "never"


def _port(value: Any) -> str | None:
    return None if str(value).isdigit() and 0 < int(value) < 65536 else "a port number, 1-65535"


def _pem(value: str) -> str | None:
    """A PEM block cut short (its first line only: a one-line field kept nothing more) is not sent."""
    lines = value.strip().splitlines()
    if lines and lines[0].startswith("-----BEGIN ") and (len(lines) < 3 or not lines[-1].startswith("-----END ")):
        return "a PEM block cut short: give it whole, -----BEGIN … to -----END … (every line)"
    return None


def project_of(cx: Ctx) -> str:
    """The project `a`/`u` act for: the one shown (a project scope, the CLI's --project), else the
    profile's (in a project's list, `u` dissociated the host from the profile's project, not that one)."""
    where = where_of(cx)
    return where.id if where.kind == "project" and where.id else cx.client.project()


def _host_actions(kind: str, fields: list[Field], form: Form, edit_form: Form) -> list[Action]:
    noun = "agent" if kind == "agents" else "docker host"

    async def associate(cx: Ctx) -> str:
        project = project_of(cx)
        await cx.client.associate(kind, cx.key, project)
        return f"The {noun} is now associated with project {project}."

    def leaves(rows: list, cx: Ctx) -> str:
        return f"It dissociates it from project {project_of(cx)}: that project can no longer use it."

    async def create(cx: Ctx):
        return await cx.client.create_host(kind, where_of(cx), {k: v for k, v in cx.values.items() if v != ""})

    async def update(cx: Ctx):
        if not cx.changed:  # as every edit: a PUT of the same record would say `done` for nothing
            raise nothing_changed(cx, "PUT", f"/rest/{kind}")
        return await cx.client.update_host(kind, where_of(cx), cx.key, _body(cx, fields))

    return [
        Action("n", "new", create, form=form, mutates=True, row=False, unavailable=defined_elsewhere(kind, "define")),
        Action("e", "edit", update, form=edit_form, mutates=True, unavailable=defined_elsewhere(kind, "update")),
        Action("ctrl+d", "delete", lambda cx: cx.client.delete_host(kind, where_of(cx), cx.key),
               mutates=True, confirm=True, unavailable=defined_elsewhere(kind, "delete")),
        Action("a", "associate", by_name(associate), mutates=True, show=str),
        Action("u", "dissociate", by_name(lambda cx: cx.client.dissociate(kind, cx.key, project_of(cx))),
               mutates=True, confirm=leaves),
    ]


# --- static agents -----------------------------------------------------------------------------

AGENT_FIELDS = [
    Field("hostName", "host name", required=True),
    Field("ipAddress", "IP address"),
    Field("operatingSystem", "operating system"),
    Field("architecture"),
    Field("ram", help="bytes"),
    Field("pollInterval", "poll interval (ms)", type="int", min=1000, default=5000),
]


async def agent_detail(cx: Ctx) -> dict[str, Any]:
    """The agent as the server sent it, nothing added (its capabilities and last contact are columns)."""
    return (await cx.client.get_host("agents", where_of(cx), cx.key)).raw


async def list_agents(cx: Ctx):
    return await cx.client.list_hosts("agents", where_of(cx), all=_flag(cx, "all"), normalize=_flag(cx, "normalize"),
                                      filter=(cx.values or {}).get("filter"))


agents = Resource(
    name="agents",
    title="Static agents",
    key="id",
    label="hostName",
    columns=[
        Col("id", width=5),
        Col("hostName", "host"),
        Col("state", width=9, status=STATE_MEANING),
        Col("contactTime", "contact", fmt=contact, width=8),
        Col("operatingSystem", "os", priority=1),
        Col("engineListSize", "engines", width=7, priority=2),
        Col("version", width=8, priority=2),
        Col("caps", "capabilities", priority=3),
        Col("owner", priority=3),
    ],
    list=by_name(list_agents),
    options=(*WHERE_OPTIONS, Opt("all"), Opt("normalize"), Opt("filter")),
    detail=by_name(agent_detail),
    scope=Scope("scope", host_scope_options, default=default_host_scope, remember=remember),
    queries=[Query("m", "mine", None), Query("A", "all users", "all"), Query("N", "normalized", "all,normalize")],
    actions=_host_actions("agents", AGENT_FIELDS, Form("New static agent", AGENT_FIELDS),
                          Form("Edit static agent", AGENT_FIELDS)),
    aliases=("agent", "staticagents"),
)


# --- docker hosts ------------------------------------------------------------------------------------

DOCKER_FIELDS = [
    Field("name", help="resource name shown in the UI"),
    Field("hostName", "host name", required=True),
    Field("port", required=True, default="2376", validate=_port),
    Field("secure", "TLS", type="bool", default=True),
    Field("username"),
    Field("caCert", "CA certificate", type="text", help="PEM"),
    Field("clientCert", "client certificate", type="text", help="PEM"),
    Field("clientKey", "client key", type="secret", multiline=True, validate=_pem,
          help="PEM, pasted whole; never shown again"),
]


def docker_body(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "")}


def _docker_screen() -> type:
    from testdeck.services.onetest.screens import DockerHostForm  # Textual only when the form opens

    return DockerHostForm


def _docker_form(title: str) -> Form:
    return Form(title, DOCKER_FIELDS, screen=_docker_screen)


async def list_dockerhosts(cx: Ctx):
    return await cx.client.with_status(await cx.client.list_hosts("dockerhosts", where_of(cx)))


async def docker_status(cx: Ctx):
    row = cx.row if cx.row is not None else await cx.client.get_host("dockerhosts", where_of(cx), cx.key)
    space = (row.get("teamSpaceList") or "").split(",")[0].strip() or None
    return await cx.client.get_dockerhost_status(cx.key, space)


def _docker_info(status: Any) -> list[tuple[str, str]]:
    """The Docker facts the server gave, as text (true/false as yes/no), empty ones left out."""
    info = status.info if isinstance(status.info, dict) else {}
    return [(str(k), plain(v)) for k, v in info.items() if plain(v) != ""]


def show_status(status: Any) -> str:
    lines = [f"Status: {status.status or '(none)'}"]
    if status.reason:
        lines.append(f"Reason: {status.reason}")
    info = _docker_info(status)
    if info:
        lines += ["", "Docker:"] + [f"  {k}: {v}" for k, v in info]
    return "\n".join(lines)


def status_line(status: Any) -> str:
    """The same on one line (the docker host form's connection test): parts joined by ' · ', none empty."""
    parts = [f"Status: {status.status or '(none)'}"]
    if status.reason:
        parts.append(f"Reason: {' '.join(str(status.reason).split())}")
    info = _docker_info(status)
    if info:
        parts.append("Docker: " + ", ".join(f"{k} {v}" for k, v in info))
    return " · ".join(parts)


dockerhosts = Resource(
    name="dockerhosts",
    title="Docker hosts",
    key="id",
    label="name",
    columns=[
        Col("id", width=5),
        Col("name"),
        Col("hostName", "host"),
        Col("port", width=5),
        Col("status", width=12, status=DOCKER_MEANING),
        Col("version", width=8, priority=1),
        Col("reason", priority=2),
        Col("owner", priority=3),
    ],
    list=by_name(list_dockerhosts),
    options=WHERE_OPTIONS,
    detail=by_name(lambda cx: cx.client.get_host("dockerhosts", where_of(cx), cx.key)),
    scope=Scope("scope", host_scope_options, default=default_host_scope, remember=remember),
    actions=[
        *_host_actions("dockerhosts", DOCKER_FIELDS, _docker_form("New docker host (ctrl+o: test connection)"),
                       _docker_form("Edit docker host (ctrl+o: test connection)")),
        Action("t", "status", docker_status, show=show_status),
        Action("T", "test connection", lambda cx: cx.client.test_dockerhost_connection(docker_body(cx.row.raw)),
               show=show_status),
    ],
    aliases=("dockerhost", "docker"),
)
