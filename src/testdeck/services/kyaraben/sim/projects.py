"""/projects and their campaigns.

Real-server behaviour kept: a new project is QUEUED until a worker creates it;
a missing project_name is 400 `project_name is required`; deleting a project
that is already DELETING is 202 again. Campaigns: a name over 50 characters is
400; a test without `apks` (or a body without `tests`) is a 500 (a missing key);
`tests[].hwconfig` is stored exactly as sent; a deleted campaign stays visible
as DELETING for a while.
"""

from __future__ import annotations

from starlette.routing import Route

from testdeck.services.kyaraben.sim.plumbing import Json, accepted, body_of, no_content, route
from testdeck.services.kyaraben.sim.world import CAMPAIGN_NAME_MAX, Reject, World, iso


def routes(w: World) -> list[Route]:
    def project_name(data: dict) -> str:
        if "project_name" not in data:
            raise Reject(400, "project_name is required")
        return str(data["project_name"])

    async def list_projects(request, user):
        rows = []
        for p in sorted(w.projects.values(), key=lambda p: p["born"]):
            status = w.project_state(p)[0]
            if status == "DELETED":
                w.forget_project(p)
            elif p["owner"] == user:
                rows.append({"project_id": p["project_id"], "project_name": p["project_name"], "status": status})
        return Json({"projects": rows})

    async def get_project(request, user, project_id):
        p = w.project_of(user, project_id)
        status, since = w.project_state(p)
        vms = [v for v in w.live_vms(user) if v["project_id"] == project_id]
        return Json({"project": {
            "project_id": project_id, "project_name": p["project_name"], "status": status,
            "status_ts": iso(since), "status_reason": "",
            "sum_avms_uptime": round(sum(w.uptime(v) for v in vms), 6), "count_avms": len(vms)}})

    async def create_project(request, user):
        p = w.new_project(user, project_name(await body_of(request)), w.now())
        return Json({"project_id": p["project_id"]}, 201)

    async def rename_project(request, user, project_id):
        p = w.project_of(user, project_id)
        p["project_name"] = project_name(await body_of(request))
        return no_content()

    async def delete_project(request, user, project_id):
        p = w.project_of(user, project_id)
        busy_vms = [v for v in w.live_vms(user) if v["project_id"] == project_id and v["deleted_at"] is None]
        busy_campaigns = [c for c in w.campaigns.values() if c["project_id"] == project_id
                          and w.campaign_json(c)["campaign_status"] in ("QUEUED", "RUNNING")]
        if busy_vms or busy_campaigns:
            raise Reject(409, "cannot delete project with active vms or campaigns")
        if p["deleted_at"] is None:
            p["deleted_at"] = w.now()
        return accepted()

    # --- campaigns -------------------------------------------------------------------------------------
    async def list_campaigns(request, user, project_id):
        rows = []
        for c in w.rows_in(w.campaigns, w.project_of(user, project_id)):
            rows.append({"campaign_id": c["campaign_id"], "campaign_name": c["campaign_name"],
                         "project_id": c["project_id"], "status": w.campaign_json(c)["campaign_status"]})
        return Json({"campaigns": rows})

    async def get_campaign(request, user, project_id, campaign_id):
        c = w.in_project(w.campaigns, "Campaign", w.project_of(user, project_id), campaign_id)
        view = w.campaign_json(c)
        view.pop("_active")
        return Json({"campaign": view})

    async def create_campaign(request, user, project_id):
        p = w.project_of(user, project_id)
        data = await body_of(request)
        given = data["tests"]
        name = str(data.get("campaign_name") or w.petname())
        if len(name) > CAMPAIGN_NAME_MAX:
            raise Reject(400, f"campaign_name too long (max {CAMPAIGN_NAME_MAX})")
        tests = []
        for t in given:
            apk_ids = list(t["apks"])
            found = [w.in_project(w.apks, "APK", p, a) for a in apk_ids]
            packages = t.get("packages") or []
            if isinstance(packages, str):
                packages = [packages]
            tests.append({"image": str(t["image"]), "hwconfig": dict(t.get("hwconfig") or {}),
                          "apks": apk_ids, "apk_packages": [w.apk_package(a) or a["package"] for a in found],
                          "packages": [str(x) for x in packages]})
        c = w.new_campaign(p, name, tests, w.now())
        return Json({"campaign_id": c["campaign_id"]}, 202)

    async def delete_campaign(request, user, project_id, campaign_id):
        c = w.in_project(w.campaigns, "Campaign", w.project_of(user, project_id), campaign_id)
        if c["deleted_at"] is None:
            c["deleted_at"] = w.now()
        return no_content()

    P = "/projects/{project_id}"
    return [
        route("/projects", list_projects, "GET"),
        route("/projects", create_project, "POST"),
        route(P, get_project, "GET"),
        route(P, rename_project, "PUT"),
        route(P, delete_project, "DELETE"),
        route(P + "/campaigns", list_campaigns, "GET"),
        route(P + "/campaigns", create_campaign, "POST"),
        route(P + "/campaigns/{campaign_id}", get_campaign, "GET"),
        route(P + "/campaigns/{campaign_id}", delete_campaign, "DELETE"),
    ]
