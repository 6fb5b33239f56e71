"""A project's files: APKs, camera files, test sources.

Real-server behaviour kept: an upload that is not a zip is refused at once
(400 `File is not a valid apk`); a camera file needs an extension; a test
source must be utf-8 and is READY at once; replacing an unknown test source is
a 500; compiling fills the source's apk_id at once and the APK's package stays
empty until it is built; deleted APKs and camera files stay visible as
DELETING for a while, and deleting them again is 204 again.
"""

from __future__ import annotations

import os
import re

from starlette.responses import PlainTextResponse
from starlette.routing import Route

from testdeck.services.kyaraben.sim.plumbing import Json, file_of, no_content, route
from testdeck.services.kyaraben.sim.world import Reject, World

EXT = re.compile(r"^\.[a-zA-Z0-9_-]+$")  # the real camera handler's check


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Reject(400, "not utf8 or binary file") from None


def routes(w: World) -> list[Route]:
    def mark_deleted(item: dict) -> None:
        if item["deleted_at"] is None:
            item["deleted_at"] = w.now()

    # --- APKs -----------------------------------------------------------------------------------
    async def list_apks(request, user, project_id):
        rows = [w.apk_json(a, False) for a in w.rows_in(w.apks, w.project_of(user, project_id))]
        return Json({"apks": rows})

    async def get_apk(request, user, project_id, apk_id):
        return Json({"apk": w.apk_json(w.in_project(w.apks, "APK", w.project_of(user, project_id), apk_id), True)})

    async def upload_apk(request, user, project_id):
        p = w.project_of(user, project_id)
        filename, raw = await file_of(request)
        if not raw.startswith(b"PK"):
            raise Reject(400, "File is not a valid apk")
        apk = w.new_apk(p["project_id"], filename, w.now())
        return Json({"apk_id": apk["apk_id"]}, 201)

    async def delete_apk(request, user, project_id, apk_id):
        mark_deleted(w.in_project(w.apks, "APK", w.project_of(user, project_id), apk_id))
        return no_content()

    # --- camera ------------------------------------------------------------------------------------
    async def list_camera(request, user, project_id):
        rows = [{"camera_id": c["camera_id"], "filename": c["filename"], "project_id": c["project_id"],
                 "status": w.camera_status(c)} for c in w.rows_in(w.camera, w.project_of(user, project_id))]
        return Json({"camera_files": rows})

    async def upload_camera(request, user, project_id):
        p = w.project_of(user, project_id)
        filename, _raw = await file_of(request)
        if not EXT.match(os.path.splitext(filename)[1]):
            raise Reject(400, f"file extension not supported: {filename}")
        c = w.new_camera(p["project_id"], filename, w.now())
        return Json({"camera_file_id": c["camera_id"]}, 201)

    async def delete_camera(request, user, project_id, camera_file_id):
        mark_deleted(w.in_project(w.camera, "Camera file", w.project_of(user, project_id), camera_file_id))
        return no_content()

    # --- test sources ----------------------------------------------------------------------------------
    def source(user: str, project_id: str, testsource_id: str) -> dict:
        return w.in_project(w.sources, "Testsource", w.project_of(user, project_id), testsource_id)

    async def list_sources(request, user, project_id):
        p = w.project_of(user, project_id)
        rows = [w.source_json(s) for s in sorted(w.sources.values(), key=lambda s: s["born"])
                if s["project_id"] == p["project_id"]]
        return Json({"testsources": rows})

    async def get_source(request, user, project_id, testsource_id):
        return PlainTextResponse(source(user, project_id, testsource_id)["text"])

    async def source_metadata(request, user, project_id, testsource_id):
        return Json({"testsource": w.source_json(source(user, project_id, testsource_id))})

    async def upload_source(request, user, project_id):
        p = w.project_of(user, project_id)
        filename, raw = await file_of(request)
        s = w.new_source(p["project_id"], filename, _utf8(raw), w.now())
        return Json({"testsource_id": s["testsource_id"]}, 201)

    async def replace_source(request, user, project_id, testsource_id):
        p = w.project_of(user, project_id)
        s = w.sources.get(testsource_id)
        if s is None or s["project_id"] != p["project_id"]:
            raise KeyError(testsource_id)  # the real handler updates a row it never found: a 500
        filename, raw = await file_of(request)
        s.update(filename=filename, text=_utf8(raw), apk_id="", born=w.now())
        return no_content()

    async def compile_(request, user, project_id, testsource_id):
        apk = w.compile_source(source(user, project_id, testsource_id), w.now())
        return Json({"apk_id": apk["apk_id"]}, 202)

    async def delete_source(request, user, project_id, testsource_id):
        del w.sources[source(user, project_id, testsource_id)["testsource_id"]]
        return no_content()

    P = "/projects/{project_id}"
    return [
        route(P + "/apk", list_apks, "GET"),
        route(P + "/apk", upload_apk, "POST"),
        route(P + "/apk/{apk_id}", get_apk, "GET"),
        route(P + "/apk/{apk_id}", delete_apk, "DELETE"),
        route(P + "/camera", list_camera, "GET"),
        route(P + "/camera", upload_camera, "POST"),
        route(P + "/camera/{camera_file_id}", delete_camera, "DELETE"),
        route(P + "/testsources", list_sources, "GET"),
        route(P + "/testsources", upload_source, "POST"),
        route(P + "/testsources/{testsource_id}", get_source, "GET"),
        route(P + "/testsources/{testsource_id}", replace_source, "PUT"),
        route(P + "/testsources/{testsource_id}", delete_source, "DELETE"),
        route(P + "/testsources/{testsource_id}/metadata", source_metadata, "GET"),
        route(P + "/testsources/{testsource_id}/apk", compile_, "POST"),
    ]
