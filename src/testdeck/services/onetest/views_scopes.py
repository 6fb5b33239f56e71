"""Where OneTest resources live: a project, a team space, or global; the picker's options and memory."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import msgspec

from testdeck.config import update_config
from testdeck.resources import Ctx
from testdeck.services.onetest.api_hosts import Where, parse_where


async def project_options(cx: Ctx) -> list[tuple[str, str]]:
    """Every project the user is a member of (GET /rest/projects), labelled with its team space."""
    spaces, projects = await asyncio.gather(cx.client.get_spaces(), cx.client.get_projects())
    names = {s.id: s.label for s in spaces}
    return [(p.id, f"{p.label} ({names[p.get('spaceId')]})" if p.get("spaceId") in names else p.label)
            for p in projects]


async def space_and_project_options(cx: Ctx) -> list[tuple[str, str]]:
    spaces = await cx.client.get_spaces()
    per_space = await asyncio.gather(*(cx.client.get_projects(s.id) for s in spaces))
    out = []
    for space, projects in zip(spaces, per_space):
        out.append((f"space:{space.id}", f"space {space.label}"))
        out += [(f"project:{p.id}", f"project {p.label}") for p in projects]
    return out


async def host_scope_options(cx: Ctx) -> list[tuple[str, str]]:
    return [("global", "global"), *await space_and_project_options(cx)]


def default_host_scope(fields: dict[str, Any]) -> str:
    """Agents and docker hosts open on the global pool: where they are defined."""
    return "global"


def default_virtualization_scope(fields: dict[str, Any]) -> str | None:
    if fields.get("project_id"):
        return f"project:{fields['project_id']}"
    return f"space:{fields['space_id']}" if fields.get("space_id") else None


def remember(config: Any, profile: Any, chosen: str) -> None:
    """A project or team space picked for a profile that has none becomes its project_id/space_id.

    A profile's own project_id/space_id stays its default: other picks last for the session."""
    where = parse_where(chosen)
    if where.kind == "global":
        return
    name = f"{where.kind}_id"
    if profile.fields.get(name) not in (None, ""):
        return
    profile.fields[name] = where.id

    def change(fresh: Any) -> None:  # a fresh read under the lock: what others wrote meanwhile stays
        if profile.name in fresh.profiles:
            fresh.profiles[profile.name].fields.setdefault(name, where.id)

    update_config(config.path, change)


async def resolve_names(cx: Ctx) -> Ctx:
    """The context with project and team space names (`--project "Demo project"`) turned into ids."""
    values = dict(cx.values or {})
    for kind in ("project", "space"):
        if values.get(kind):
            values[kind] = await _id_for(cx, kind, values[kind])
    scope = cx.scope
    if scope:
        where = parse_where(scope)
        if where.kind != "global":
            ident = await _id_for(cx, where.kind, where.id)
            scope = str(Where(where.kind, ident)) if ":" in scope else ident
    return msgspec.structs.replace(cx, scope=scope, values=values)


async def _id_for(cx: Ctx, kind: str, value: Any) -> str:
    return await (cx.client.project_id_for(value) if kind == "project" else cx.client.space_id_for(value))


def by_name(call):
    """Wrap a list, detail or find call so a scope may be given by name as well as by id."""
    @functools.wraps(call)
    async def wrapped(cx: Ctx, *args: Any):
        return await call(await resolve_names(cx), *args)
    return wrapped
