"""A project's files: APKs, camera files, test sources (all inside the `project` scope)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from testdeck.columns import Col
from testdeck.feeds import pause, steady
from testdeck.forms import Field, Form
from testdeck.resources import Action, Ctx, LogFeed, Resource
from testdeck.services.kyaraben.client import TestSource
from testdeck.services.kyaraben.views import common
from testdeck.services.kyaraben.views.common import (
    PROJECT_SCOPE,
    STATUS,
    apk_file,
    camera_file,
    dsl_file,
    settled,
    with_reasons,
)

FINAL_APK = ("READY", "ERROR", "DELETING", "DELETED")


async def follow_compile(cx: Ctx, apk_id: Any) -> LogFeed:
    """Watch the test source's apk_status: QUEUED, COMPILING DSL, COMPILING JAVA, then READY or ERROR."""
    yield [f"compiling test source {cx.key} to APK {apk_id}"]
    last = None
    while True:
        meta: TestSource = await steady(lambda: cx.client.get_testsource_metadata(cx.scope, cx.key))
        status = meta.apk_status or "QUEUED"
        if status != last:
            line = f"-- {status}"
            if status == "ERROR" and meta.apk_status_reason:
                line += f": {meta.apk_status_reason}"
            if status == "READY":
                line += f" (apk {meta.apk_id or apk_id})"
            yield [line]
            last = status
        if status in FINAL_APK:
            return
        await pause(common.FOLLOW_INTERVAL)


async def _camera_file(cx: Ctx, camera_id: str) -> Any:
    """A camera file as listed (the API has no call for one), None when it is not listed."""
    return next((c for c in await cx.client.get_camera_files(cx.scope) if c.camera_id == camera_id), None)


# how to read one file again after an action: (what it is, read(cx, id), its name field). The server
# takes a file in, and deletes one, in the background: the action says `accepted` while it is under way
READ_AGAIN = {
    "upload_apk": ("APK", lambda cx, i: cx.client.get_apk(cx.scope, i), "filename"),
    "delete_apk": ("APK", lambda cx, i: cx.client.get_apk(cx.scope, i), "filename"),
    "upload_camera_file": ("camera file", _camera_file, "filename"),
    "delete_camera_file": ("camera file", _camera_file, "filename"),
    "upload_testsource": ("test source", lambda cx, i: cx.client.get_testsource_metadata(cx.scope, i), "filename"),
    "delete_testsource": ("test source", lambda cx, i: cx.client.get_testsource_metadata(cx.scope, i), "filename"),
}


async def _apks_with_reasons(cx: Ctx) -> list[Any]:
    return await with_reasons(cx.client, await cx.client.get_apks(cx.scope), lambda a: cx.client.get_apk(cx.scope, a.apk_id))


def _upload(method: str):
    """An upload action's call: the scope, the chosen local file, progress reported to the form; then
    the file's state (an APK QUEUED, a movie UPLOADING while converted: accepted, not done)."""
    async def call(cx: Ctx) -> Any:
        new_id = await getattr(cx.client, method)(cx.scope, Path(cx.values["path"]).expanduser(),
                                                  progress=cx.progress)
        what, read, name = READ_AGAIN[method]
        return await settled(what, lambda: read(cx, new_id), new_id, name=name)
    return call


def _delete(method: str):
    """A delete's call: done when the file is gone; accepted while the server still lists it DELETING
    (the real server answers 204 and keeps APKs, camera files and campaigns DELETING for a while)."""
    async def call(cx: Ctx) -> Any:
        await getattr(cx.client, method)(cx.scope, cx.key)
        what, read, name = READ_AGAIN[method]
        return await settled(what, lambda: read(cx, cx.key), name=name, removes=True)
    return call


apks = Resource(
    name="apks",
    title="APKs",
    key="apk_id",
    label="filename",
    aliases=("apk",),
    scope=PROJECT_SCOPE,
    # an ERROR's reason in the status cell (`ERROR: DSL compilation failed…`), read from its detail
    columns=[Col("filename"), Col("status", width=14, status=STATUS, reason="status_reason"), Col("package"),
             Col("apk_id", "id", width=32, priority=1), Col("testsource_id", "test source", width=32, priority=2)],
    list=_apks_with_reasons,
    detail=lambda cx: cx.client.get_apk(cx.scope, cx.key),
    actions=[
        Action("n", "upload", _upload("upload_apk"), mutates=True, row=False, upload=True,
               form=Form("Upload an APK", [Field("path", "APK file", type="file", required=True,
                                                 validate=apk_file)])),
        Action("ctrl+d", "delete", _delete("delete_apk"), mutates=True, confirm=True, bulk=True),
    ],
)

camera = Resource(
    name="camera",
    title="Camera files",
    key="camera_id",
    label="filename",
    aliases=("camera_files",),
    scope=PROJECT_SCOPE,
    columns=[Col("filename"), Col("status", width=9, status=STATUS), Col("camera_id", "id", width=32, priority=1)],
    list=lambda cx: cx.client.get_camera_files(cx.scope),
    actions=[
        Action("n", "upload", _upload("upload_camera_file"), mutates=True, row=False, upload=True,
               form=Form("Upload an image or movie", [
                   Field("path", "file", type="file", required=True, validate=camera_file,
                         help="image or movie; converted by the server if needed")])),
        Action("ctrl+d", "delete", _delete("delete_camera_file"), mutates=True, confirm=True, bulk=True),
    ],
)

testsources = Resource(
    name="testsources",
    title="Test sources",
    key="testsource_id",
    label="filename",
    aliases=("testsource", "dsl"),
    scope=PROJECT_SCOPE,
    columns=[Col("filename"), Col("status", width=9, status=STATUS),
             Col("apk_status", "apk", width=14, status=STATUS, reason="apk_status_reason"),
             Col("testsource_id", "id", width=32, priority=1), Col("apk_id", "apk id", width=32, priority=2)],
    list=lambda cx: cx.client.get_testsources(cx.scope),
    detail=lambda cx: cx.client.get_testsource(cx.scope, cx.key),  # the DSL text
    actions=[
        Action("m", "metadata", lambda cx: cx.client.get_testsource_metadata(cx.scope, cx.key),
               show=lambda t: "\n".join(f"{k}: {v}" for k, v in t.raw.items())),
        Action("n", "upload", _upload("upload_testsource"), mutates=True, row=False, upload=True,
               form=Form("Upload a test source", [
                   Field("path", "DSL file", type="file", required=True, validate=dsl_file,
                         help="a utf-8 text file")])),
        Action("e", "replace", lambda cx: cx.client.replace_testsource(
            cx.scope, cx.key, Path(cx.values["path"]).expanduser(), progress=cx.progress),
            mutates=True, upload=True, form=Form("Replace the test source (file name too)", [
                Field("path", "DSL file", type="file", required=True, validate=dsl_file)])),
        Action("c", "compile", lambda cx: cx.client.compile_testsource(cx.scope, cx.key), mutates=True,
               follow=follow_compile),
        Action("ctrl+d", "delete", _delete("delete_testsource"), mutates=True, confirm=True, bulk=True),
    ],
)
