"""Projects: the user's containers of APKs, camera files, test sources and campaigns."""

from __future__ import annotations

from typing import Any

from testdeck.columns import Col
from testdeck.forms import Field, Form
from testdeck.resources import Action, Ctx, Resource
from testdeck.services.kyaraben.views import common
from testdeck.services.kyaraben.views.common import STATUS, not_blank, settled

_name = [Field("project_name", "name", required=True, validate=not_blank)]


async def create_project(cx: Ctx) -> Any:
    """The new project's id, accepted: the server makes it in the background (QUEUED, CREATING, READY)."""
    project_id = await cx.client.create_project(cx.values["project_name"].strip())
    return await settled("project", lambda: cx.client.get_project(project_id), project_id, name="project_name",
                         pending=True)


async def delete_project(cx: Ctx) -> Any:
    """Accepted (202): the project stays DELETING until the server has removed it."""
    await cx.client.delete_project(cx.key)
    return await settled("project", lambda: cx.client.get_project(cx.key), name="project_name", pending=True,
                         removes=True)

projects = Resource(
    name="projects",
    title="Projects",
    key="project_id",
    label="project_name",
    aliases=("project",),
    drill="apks",  # enter: the project's APKs (the chosen project then carries to camera, tests, campaigns)
    columns=[Col("project_name", "name"), Col("status", width=8, status=STATUS),
             Col("project_id", "id", width=32, priority=1)],
    list=lambda cx: cx.client.get_projects(),
    detail=lambda cx: cx.client.get_project(cx.key),
    actions=[
        Action("n", "new", create_project, mutates=True, row=False, form=Form("New project", _name)),
        Action("e", "rename", common.rename(lambda c, key, name: c.rename_project(key, name), "project_name",
                                            "/projects/{}"),
               mutates=True, form=Form("Rename project", _name)),
        Action("ctrl+d", "delete", delete_project, mutates=True, confirm=True, bulk=True),
    ],
)
