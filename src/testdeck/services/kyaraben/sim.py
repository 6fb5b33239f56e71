"""kyaraben simulator: every endpoint of kyaraben.txt, per-user visibility, lazy state machines.

What it reproduces of the real server:
- `X-Auth-UserId` is required (401 JSON `{"error": "Missing authentication header"}`);
  an `Authorization` header, when present, must be `Bearer DEMO_TOKEN`.
- Another user's resources answer 404, exactly like missing ones.
- Only POST /android has a schema; failures answer 400 text/plain
  `Malformed request: <jsonschema message>` followed by a dump of the failing schema.
- Most errors are text/plain (`Project '<id>' not found`, `Too many vms, max
  allowed is 3`); a body missing a key the server reads gives a 500 HTML page.
- 202 deletes answer with the text `202: Accepted`.
- An unknown command id answers 200 `{"results": []}`.

State machines advance lazily from `config.clock()` at request time (see the
`*_S` timings, in simulated seconds; `config.speed` scales them).

Quota refusal uses 403 Forbidden: it is a permanent refusal of that request
until the user frees a VM (not a rate limit, so not 429).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import html
import json
import pprint
import re
import traceback
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from testdeck.sim.base import Ids, SimConfig, faults

DEMO_USER = "marco"
DEMO_TOKEN = "kyr-demo-6d1f0c2b9a4e47e5"
OTHER_USER = "alice"  # owns resources the demo user must never see

VM_LIVE_MAX = 3
VM_ASYNC_MAX = 3

IMAGES = [("kitkat-tablet", 4), ("kitkat-phone", 4), ("lollipop-tablet", 5), ("lollipop-phone", 5)]
HW_DEFAULTS = {"width": 800, "height": 600, "dpi": 160, "enable_sensors": 1, "enable_battery": 1,
               "enable_gps": 1, "enable_camera": 1, "enable_record": 0, "enable_gsm": 1, "enable_nfc": 0}
HW_SWITCHES = [k for k in HW_DEFAULTS if k.startswith("enable_")]

# timings, simulated seconds since the thing started
VM_QUEUED_S = 2.0  # QUEUED until then
VM_READY_S = 6.0  # CREATING until then, READY (or ERROR) after
VM_DELETING_S = 3.0  # DELETING for that long, then gone
PROJECT_CREATING_S = 1.0
PROJECT_DELETING_S = 2.0
UPLOAD_S = 1.0
MOVIE_CONVERT_S = 4.0
COMPILE_QUEUED_S = 1.0
COMPILE_DSL_S = 3.0
COMPILE_JAVA_S = 8.0
CMD_QUEUED_S = 1.0
CMD_S = {"install": 2.0, "monkey": 5.0, "testrun": 6.0}
CAMPAIGN_CMD_S = 3.0

MOVIE_EXT = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".3gp")
IMAGE_EXT = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")

AVM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["project_id", "image"],
    "properties": {
        "project_id": {"type": "string"},
        "image": {"type": "string"},
        "avm_name": {"type": "string"},
        "hwconfig": {
            "type": "object",
            "properties": {
                "width": {"type": "integer", "minimum": 240},
                "height": {"type": "integer", "minimum": 240},
                "dpi": {"type": "integer", "minimum": 100},
                **{k: {"type": "integer", "minimum": 0, "maximum": 1} for k in HW_SWITCHES},
            },
        },
    },
}

SEED_PACKAGES = ["com.example.android.apis", "com.android.gesture.builder"]
SEED_TESTRUN = {"com.example.android.apis/.app.LocalSampleInstrumentation": "com.example.android.apis"}

DSL_OK = '''Feature: "Best feature ever"
   Scenario: "Best scenario ever"
      Set sensor TYPE_LIGHT at 42
      Take a screenshot
   End

   Scenario: "Worst scenario ever"
      Set battery level at 1
   End
End
'''
DSL_TWO = '''Feature: "Login"
   Scenario: "Happy path"
      Set gps at 45.07, 7.68
      Take a screenshot
   End
End
'''
DSL_FAIL = '''Feature: "Broken"
   Scenario: "Does not compile"
      FAIL on purpose
   End
End
'''


class Reject(Exception):
    """An error answer: text/plain unless told otherwise."""

    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status, self.text = status, text


def iso(at: float) -> str:
    return _dt.datetime.fromtimestamp(at, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _path(parts: list[Any]) -> str:
    return "".join(f"[{p!r}]" for p in parts)


def _indent(obj: Any) -> str:
    return "\n".join("    " + line for line in pprint.pformat(obj, width=72).splitlines())


def validate_schema(instance: Any, schema: dict[str, Any], where: list[Any] | None = None,
                    schema_where: list[Any] | None = None) -> None:
    """A tiny jsonschema (type/required/minimum/maximum) with jsonschema's message format."""
    where = where or []
    schema_where = schema_where or []

    def fail(message: str, keyword: str) -> None:
        text = (f"Malformed request: {message}\n\n"
                f"Failed validating {keyword!r} in schema{_path(schema_where)}:\n{_indent(schema)}\n\n"
                f"On instance{_path(where)}:\n{_indent(instance)}")
        raise Reject(400, text)

    kind = schema.get("type")
    if kind == "object" and not isinstance(instance, dict):
        fail(f"{instance!r} is not of type 'object'", "type")
    if kind == "string" and not isinstance(instance, str):
        fail(f"{instance!r} is not of type 'string'", "type")
    if kind == "integer" and (isinstance(instance, bool) or not isinstance(instance, int)):
        fail(f"{instance!r} is not of type 'integer'", "type")
    if "minimum" in schema and instance < schema["minimum"]:
        fail(f"{instance!r} is less than the minimum of {schema['minimum']}", "minimum")
    if "maximum" in schema and instance > schema["maximum"]:
        fail(f"{instance!r} is greater than the maximum of {schema['maximum']}", "maximum")
    for name in schema.get("required", []):
        if name not in instance:
            fail(f"{name!r} is a required property", "required")
    for name, sub in schema.get("properties", {}).items():
        if isinstance(instance, dict) and name in instance:
            validate_schema(instance[name], sub, where + [name], schema_where + ["properties", name])


def package_from_filename(filename: str) -> str:
    """What the real server reads from AndroidManifest.xml; the simulator guesses from the name."""
    stem = re.sub(r"\.apk$", "", filename, flags=re.I)
    stem = re.sub(r"[_-]\d+$", "", stem)
    stem = re.sub(r"[^A-Za-z0-9_.]", "_", stem).strip("._") or "app"
    return stem if "." in stem else f"com.example.{stem.lower()}"


def create_app(config: SimConfig | None = None) -> Any:
    config = config or SimConfig()
    ids = Ids(config.seed)
    t0 = config.clock()

    projects: dict[str, dict[str, Any]] = {}
    avms: dict[str, dict[str, Any]] = {}
    apks: dict[str, dict[str, Any]] = {}
    camera: dict[str, dict[str, Any]] = {}
    sources: dict[str, dict[str, Any]] = {}
    campaigns: dict[str, dict[str, Any]] = {}
    commands: dict[str, dict[str, Any]] = {}

    def at(since: float, seconds: float) -> float:
        """Clock reading at which `seconds` of simulated time have passed since `since`."""
        return since + seconds / (config.speed or 1.0)

    # --- state machines (lazy) -------------------------------------------------
    def vm_state(vm: dict[str, Any]) -> tuple[str, float]:
        """(status, clock reading of that status)."""
        if vm["deleted_at"] is not None:
            if config.elapsed(vm["deleted_at"]) < VM_DELETING_S:
                return "DELETING", vm["deleted_at"]
            return "DELETED", at(vm["deleted_at"], VM_DELETING_S)
        e = config.elapsed(vm["born"])
        if e < VM_QUEUED_S:
            return "QUEUED", vm["born"]
        if e < VM_READY_S:
            return "CREATING", at(vm["born"], VM_QUEUED_S)
        return ("ERROR" if vm["fail"] else "READY"), at(vm["born"], VM_READY_S)

    def project_state(p: dict[str, Any]) -> tuple[str, float]:
        if p["deleted_at"] is not None:
            if config.elapsed(p["deleted_at"]) < PROJECT_DELETING_S:
                return "DELETING", p["deleted_at"]
            return "DELETED", at(p["deleted_at"], PROJECT_DELETING_S)
        if config.elapsed(p["born"]) < PROJECT_CREATING_S:
            return "CREATING", p["born"]
        return "READY", at(p["born"], PROJECT_CREATING_S)

    def apk_state(a: dict[str, Any]) -> tuple[str, str]:
        e = config.elapsed(a["born"])
        if a["testsource_id"]:  # compiled from a DSL source
            if e < COMPILE_QUEUED_S:
                return "QUEUED", ""
            if e < COMPILE_DSL_S:
                return "COMPILING DSL", ""
            if a["fail"]:
                return "ERROR", a["fail"]
            if e < COMPILE_JAVA_S:
                return "COMPILING JAVA", ""
            return "READY", ""
        if e < UPLOAD_S:
            return "UPLOADING", ""
        return ("ERROR", a["fail"]) if a["fail"] else ("READY", "")

    def camera_status(c: dict[str, Any]) -> str:
        e = config.elapsed(c["born"])
        name = c["filename"].lower()
        if e < UPLOAD_S:
            return "UPLOADING"
        if name.endswith(MOVIE_EXT) and e < UPLOAD_S + MOVIE_CONVERT_S:
            return "UPLOADING"  # converting
        return "READY" if name.endswith(MOVIE_EXT + IMAGE_EXT) else "ERROR"

    def command_view(c: dict[str, Any]) -> dict[str, Any]:
        e = config.elapsed(c["born"])
        lines: list[str] = c["stdout"]
        if e < CMD_QUEUED_S:
            return {"returncode": "", "status": "QUEUED", "stderr": "", "stdout": ""}
        run = e - CMD_QUEUED_S
        if run < c["duration"]:
            shown = int(len(lines) * run / c["duration"])
            return {"returncode": "", "status": "RUNNING", "stderr": "", "stdout": "\n".join(lines[:shown])}
        return {"returncode": c["returncode"], "status": "READY" if c["ok"] else "ERROR",
                "stderr": c["stderr"], "stdout": "\n".join(lines)}

    def command_done(c: dict[str, Any]) -> bool:
        return config.elapsed(c["born"]) >= CMD_QUEUED_S + c["duration"]

    # --- visibility -----------------------------------------------------------------
    def project_of(user: str, project_id: str) -> dict[str, Any]:
        p = projects.get(project_id)
        if p is not None and project_state(p)[0] == "DELETED":
            forget_project(p)
            p = None
        if p is None or p["owner"] != user:
            raise Reject(404, f"Project '{project_id}' not found")
        return p

    def vm_of(user: str, avm_id: str) -> dict[str, Any]:
        vm = avms.get(avm_id)
        if vm is not None and vm_state(vm)[0] == "DELETED":
            del avms[avm_id]
            vm = None
        if vm is None or vm["owner"] != user:
            raise Reject(404, f"AVM '{avm_id}' not found")
        return vm

    def in_project(table: dict[str, dict[str, Any]], what: str, p: dict[str, Any], item_id: str) -> dict[str, Any]:
        item = table.get(item_id)
        if item is None or item["project_id"] != p["project_id"]:
            raise Reject(404, f"{what} '{item_id}' not found")
        return item

    def forget_project(p: dict[str, Any]) -> None:
        pid = p["project_id"]
        projects.pop(pid, None)
        for table in (apks, camera, sources, campaigns):
            for key in [k for k, v in table.items() if v["project_id"] == pid]:
                del table[key]

    def live_vms(user: str) -> list[dict[str, Any]]:
        out = []
        for vm in list(avms.values()):
            status = vm_state(vm)[0]
            if status == "DELETED":
                del avms[vm["avm_id"]]
            elif vm["owner"] == user:
                out.append(vm)
        return out

    # --- renderers ----------------------------------------------------------------
    def avm_json(vm: dict[str, Any], full: bool) -> dict[str, Any]:
        status, since = vm_state(vm)
        out = {"avm_id": vm["avm_id"], "avm_name": vm["avm_name"], "avm_owner": vm["owner"],
               "campaign_id": "", "image": vm["image"], "project_id": vm["project_id"], "status": status,
               "ts_created": iso(vm["born"]), "uptime": round(max(0.0, config.elapsed(vm["born"])), 6)}
        if full:
            out.update(hwconfig=dict(vm["hwconfig"]), status_reason=vm["fail"] if status == "ERROR" else "",
                       status_ts=iso(since))
        return out

    def apk_json(a: dict[str, Any], full: bool) -> dict[str, Any]:
        status, reason = apk_state(a)
        out = {"apk_id": a["apk_id"], "filename": a["filename"], "package": a["package"],
               "project_id": a["project_id"], "status": status}
        if full:
            out["status_reason"] = reason
        else:
            out["testsource_id"] = a["testsource_id"]
        return out

    def source_json(s: dict[str, Any]) -> dict[str, Any]:
        apk = apks.get(s["apk_id"]) if s["apk_id"] else None
        apk_status, reason = apk_state(apk) if apk else ("", "")
        return {"apk_id": apk["apk_id"] if apk and apk_status == "READY" else "", "apk_status": apk_status,
                "apk_status_reason": reason, "filename": s["filename"], "project_id": s["project_id"],
                "status": "UPLOADING" if config.elapsed(s["born"]) < UPLOAD_S else "READY",
                "testsource_id": s["testsource_id"]}

    def campaign_json(c: dict[str, Any]) -> dict[str, Any]:
        e = config.elapsed(c["born"])
        total = ready = active = 0
        failed = False
        tests_out = []
        for t in c["tests"]:
            steps = [("install", p) for p in t["apk_packages"]] + [("run", p) for p in t["packages"]]
            end_all = VM_READY_S + CAMPAIGN_CMD_S * len(steps)
            if e < end_all:
                active += 1
            runs = []
            for k, (kind, pkg) in enumerate(steps):
                start = VM_READY_S + CAMPAIGN_CMD_S * k
                ok = kind == "install" or pkg.split("/")[0] in t["apk_packages"]
                total += 1
                done = e >= start + CAMPAIGN_CMD_S
                if done and ok:
                    ready += 1
                if done and not ok:
                    failed = True
                if kind == "run":
                    lines = testrun_lines(pkg) if ok else [f"INSTRUMENTATION_FAILED: {pkg}",
                                                           "INSTRUMENTATION_CODE: 0"]
                    if e < start:
                        status, shown = "QUEUED", 0
                    elif not done:
                        status, shown = "RUNNING", int(len(lines) * (e - start) / CAMPAIGN_CMD_S)
                    else:
                        status, shown = ("READY" if ok else "ERROR"), len(lines)
                    runs.append({"hwconfig": dict(t["hwconfig"]), "image": t["image"], "package": pkg,
                                 "status": status, "stdout": "\n".join(lines[:shown])})
            if not t["packages"]:
                status = "QUEUED" if e < VM_READY_S else ("RUNNING" if e < end_all else "READY")
                runs.append({"hwconfig": dict(t["hwconfig"]), "image": t["image"], "package": "",
                             "status": status, "stdout": ""})
            tests_out.extend(runs)
        if e < VM_QUEUED_S:
            status = "QUEUED"
        elif active:
            status = "RUNNING"
        else:
            status = "ERROR" if failed else "READY"
        progress = round(ready / total, 4) if total else (1.0 if not active else 0.0)
        return {"campaign_id": c["campaign_id"], "campaign_name": c["campaign_name"], "campaign_status": status,
                "progress": progress, "project_id": c["project_id"], "tests": tests_out, "_active": active}

    def testrun_lines(pkg: str) -> list[str]:
        cls = pkg.split("/")[0]
        return ["INSTRUMENTATION_STATUS: numtests=2", "INSTRUMENTATION_STATUS: stream=",
                f"INSTRUMENTATION_STATUS: class={cls}.ParserTest", "INSTRUMENTATION_STATUS: test=testParse",
                "INSTRUMENTATION_STATUS_CODE: 1", "INSTRUMENTATION_STATUS: test=testParse",
                "INSTRUMENTATION_STATUS_CODE: 0", "INSTRUMENTATION_STATUS: test=testEmpty",
                "INSTRUMENTATION_STATUS_CODE: 1", "INSTRUMENTATION_STATUS: test=testEmpty",
                "INSTRUMENTATION_STATUS_CODE: 0", "INSTRUMENTATION_RESULT: stream=",
                f"Test results for InstrumentationTestRunner={cls}", "Time: 0.512", "", "OK (2 tests)",
                "INSTRUMENTATION_CODE: -1"]

    def installed(vm: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
        packages = list(vm["packages"])
        testrun = dict(vm["testrun"])
        for c in commands.values():
            if c["avm_id"] == vm["avm_id"] and c["kind"] == "install" and c["ok"] and command_done(c):
                pkg = c["package"]
                if pkg not in packages:
                    packages.append(pkg)
                if pkg.endswith(".test"):
                    testrun[f"{pkg}/android.test.InstrumentationTestRunner"] = pkg[: -len(".test")]
        return packages, testrun

    # --- creation helpers (seed and API share them) ---------------------------------
    def new_project(owner: str, name: str, born: float) -> dict[str, Any]:
        pid = ids.hex32()
        projects[pid] = {"project_id": pid, "project_name": name, "owner": owner, "born": born,
                         "deleted_at": None}
        return projects[pid]

    def new_vm(owner: str, project_id: str, image: str, born: float, name: str | None = None,
               hwconfig: dict[str, Any] | None = None, fail: str = "", packages: list[str] | None = None,
               testrun: dict[str, str] | None = None) -> dict[str, Any]:
        vid = ids.hex32()
        if not fail and image not in dict(IMAGES):
            fail = (f"Heat stack creation failed: image '{image}' not found in Glance "
                    "(task rescheduled)")
        avms[vid] = {"avm_id": vid, "avm_name": name or vid[:8], "owner": owner, "project_id": project_id,
                     "image": image, "born": born, "deleted_at": None, "fail": fail,
                     "hwconfig": {**HW_DEFAULTS, **(hwconfig or {})},
                     "packages": list(SEED_PACKAGES if packages is None else packages),
                     "testrun": dict(SEED_TESTRUN if testrun is None else testrun)}
        return avms[vid]

    def new_apk(project_id: str, filename: str, born: float, *, package: str | None = None,
                testsource_id: str = "", fail: str = "") -> dict[str, Any]:
        aid = ids.hex32()
        apks[aid] = {"apk_id": aid, "filename": filename, "package": package or package_from_filename(filename),
                     "project_id": project_id, "born": born, "testsource_id": testsource_id, "fail": fail}
        return apks[aid]

    def new_camera(project_id: str, filename: str, born: float) -> dict[str, Any]:
        cid = ids.hex32()
        camera[cid] = {"camera_id": cid, "filename": filename, "project_id": project_id, "born": born}
        return camera[cid]

    def new_source(project_id: str, filename: str, text: str, born: float) -> dict[str, Any]:
        sid = ids.hex32()
        sources[sid] = {"testsource_id": sid, "filename": filename, "project_id": project_id, "born": born,
                        "text": text, "apk_id": ""}
        return sources[sid]

    def compile_source(s: dict[str, Any], born: float) -> dict[str, Any]:
        fail = ""
        for n, line in enumerate(s["text"].splitlines(), 1):
            if "FAIL" in line:
                fail = f"DSL compilation failed: line {n}: unknown step {line.strip()!r}"
                break
        stem = re.sub(r"[^a-z0-9]", "", s["filename"].rsplit(".", 1)[0].lower()) or "dsl"
        apk = new_apk(s["project_id"], f"{stem}-test.apk", born, package=f"com.zenika.aic.dsl.{stem}.test",
                      testsource_id=s["testsource_id"], fail=fail)
        s["apk_id"] = apk["apk_id"]
        return apk

    def new_campaign(owner_project: dict[str, Any], name: str, tests: list[dict[str, Any]],
                     born: float) -> dict[str, Any]:
        cid = ids.hex32()
        campaigns[cid] = {"campaign_id": cid, "campaign_name": name, "project_id": owner_project["project_id"],
                          "born": born, "tests": tests}
        return campaigns[cid]

    def new_command(vm: dict[str, Any], kind: str, lines: list[str], ok: bool, returncode: str,
                    stderr: str = "", package: str = "") -> str:
        cid = ids.hex32()
        commands[cid] = {"command_id": cid, "avm_id": vm["avm_id"], "kind": kind, "born": config.clock(),
                         "duration": CMD_S[kind], "stdout": lines, "ok": ok, "returncode": returncode,
                         "stderr": stderr, "package": package}
        return cid

    # --- seed ----------------------------------------------------------------------
    day = 86400.0
    pa = new_project(DEMO_USER, "demo-app", t0 - 3 * day)
    pb = new_project(DEMO_USER, "regression", t0 - day)
    new_vm(DEMO_USER, pa["project_id"], "kitkat-tablet", t0 - 5400, "first vm",
           {"width": 1280, "height": 800, "enable_battery": 0})
    new_vm(DEMO_USER, pa["project_id"], "lollipop-phone", t0 - 1, "phone-ci", packages=[], testrun={})
    new_vm(DEMO_USER, pb["project_id"], "kitkat-phone", t0 - 7200, "nightly",
           fail="Heat stack creation failed: Quota exceeded for instances: Requested 1, but already used 20 "
                "of 20 instances (task rescheduled)", packages=[], testrun={})
    a2048 = new_apk(pa["project_id"], "com.uberspot.a2048_23.apk", t0 - 2 * day)
    apis = new_apk(pa["project_id"], "ApiDemos.apk", t0 - 2 * day, package="com.example.android.apis")
    libs = new_apk(pa["project_id"], "com.zenika.aic.core.libs.test-2.apk", t0 - 2 * day)
    new_camera(pa["project_id"], "ubuntu-logo.png", t0 - day)
    new_camera(pa["project_id"], "walk.mp4", t0 - day)
    s1 = new_source(pa["project_id"], "test1.aic", DSL_OK, t0 - day)
    compile_source(s1, t0 - day + 60)
    new_source(pa["project_id"], "test2.aic", DSL_TWO, t0 - 3600)
    s3 = new_source(pa["project_id"], "broken.aic", DSL_FAIL, t0 - 3600)
    compile_source(s3, t0 - 3500)
    hw = dict(HW_DEFAULTS)
    new_campaign(pa, "lovely-big-cobra", [
        {"image": "lollipop-phone", "hwconfig": hw, "apks": [a2048["apk_id"], libs["apk_id"]],
         "apk_packages": [a2048["package"], libs["package"]], "packages": [libs["package"]]},
    ], t0 - 7200)
    new_campaign(pa, "brave-small-otter", [
        {"image": "kitkat-tablet", "hwconfig": hw, "apks": [apis["apk_id"], libs["apk_id"]],
         "apk_packages": [apis["package"], libs["package"]],
         "packages": [apis["package"], libs["package"]]},
        {"image": "lollipop-phone", "hwconfig": hw, "apks": [a2048["apk_id"]],
         "apk_packages": [a2048["package"]], "packages": [a2048["package"], "com.missing.app"]},
    ], t0 - 8)
    # another user's world: the demo user must get 404 for all of it
    px = new_project(OTHER_USER, "alice-secret", t0 - 2 * day)
    new_vm(OTHER_USER, px["project_id"], "lollipop-tablet", t0 - 3600, "alice-vm")
    xa = new_apk(px["project_id"], "com.alice.secret_3.apk", t0 - day)
    new_camera(px["project_id"], "alice.png", t0 - day)
    new_source(px["project_id"], "alice.aic", DSL_OK, t0 - day)
    new_campaign(px, "alice-campaign", [{"image": "kitkat-phone", "hwconfig": hw, "apks": [xa["apk_id"]],
                                         "apk_packages": [xa["package"]], "packages": []}], t0 - day)
    for n in range(config.size):
        image = IMAGES[n % len(IMAGES)][0]
        new_vm(DEMO_USER, pa["project_id"], image, t0 - 3600 - 37 * n, f"bulk-{n:05d}",
               fail="Heat stack creation failed: No valid host was found" if n % 7 == 6 else "")

    # --- request plumbing --------------------------------------------------------------
    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise Reject(400, f"Malformed request: {exc}") from None
        if not isinstance(data, dict):
            raise Reject(400, "Malformed request: the body must be a JSON object")
        return data

    async def file_of(request: Request) -> tuple[str, bytes]:
        form = await request.form()
        upload = form["file"]  # missing: KeyError, a 500 like the real server
        if not isinstance(upload, UploadFile):
            raise Reject(400, "Malformed request: 'file' must be a file part")
        return upload.filename or "upload", await upload.read()

    def endpoint(fn):
        async def route(request: Request) -> Response:
            user = request.headers.get("x-auth-userid", "").strip()
            if not user:
                return JSONResponse({"error": "Missing authentication header"}, 401)
            auth = request.headers.get("authorization")
            if auth is not None and auth.strip() != f"Bearer {DEMO_TOKEN}":
                return JSONResponse({"error": "Invalid authentication token"}, 401)
            try:
                return await fn(request, user, **request.path_params)
            except Reject as rej:
                return PlainTextResponse(rej.text, rej.status)
            except (KeyError, TypeError, AttributeError, ValueError):
                tb = html.escape(traceback.format_exc(limit=1))
                page = ("<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body>"
                        "<h1>500 Internal Server Error</h1><p>Server got itself in trouble</p>"
                        f"<pre>{tb}</pre></body></html>")
                return HTMLResponse(page, 500)
        return route

    def accepted() -> Response:
        return PlainTextResponse("202: Accepted", 202)

    def no_content() -> Response:
        return Response(status_code=204, media_type="application/octet-stream")

    # --- /android ------------------------------------------------------------------------
    async def list_avms(request, user):
        rows = sorted(live_vms(user), key=lambda v: v["born"])
        return JSONResponse({"avms": [avm_json(v, False) for v in rows]})

    async def get_avm(request, user, avm_id):
        return JSONResponse({"avm": avm_json(vm_of(user, avm_id), True)})

    async def create_avm(request, user):
        data = await body_of(request)
        validate_schema(data, AVM_SCHEMA)
        p = project_of(user, data["project_id"])
        live = [v for v in live_vms(user) if vm_state(v)[0] in ("QUEUED", "CREATING", "READY")]
        if len(live) >= VM_LIVE_MAX:
            raise Reject(403, f"Too many vms, max allowed is {VM_LIVE_MAX}")
        vm = new_vm(user, p["project_id"], data["image"], config.clock(), data.get("avm_name") or None,
                     data.get("hwconfig") or {}, packages=[], testrun={})
        return JSONResponse({"avm_id": vm["avm_id"]}, 201)

    async def rename_avm(request, user, avm_id):
        vm = vm_of(user, avm_id)
        data = await body_of(request)
        vm["avm_name"] = str(data["avm_name"])
        return no_content()

    async def delete_avm(request, user, avm_id):
        vm = vm_of(user, avm_id)
        if vm["deleted_at"] is None:
            vm["deleted_at"] = config.clock()
        return accepted()

    async def avm_packages(request, user, avm_id):
        vm = vm_of(user, avm_id)
        packages = installed(vm)[0] if vm_state(vm)[0] == "READY" else []
        return JSONResponse({"packages": packages})

    async def avm_testrun_packages(request, user, avm_id):
        vm = vm_of(user, avm_id)
        testrun = installed(vm)[1] if vm_state(vm)[0] == "READY" else {}
        return JSONResponse({"packages": testrun})

    async def get_command(request, user, avm_id, command_id):
        vm = vm_of(user, avm_id)
        c = commands.get(command_id)
        if c is None or c["avm_id"] != vm["avm_id"]:
            return JSONResponse({"results": []})
        return JSONResponse({"results": [command_view(c)]})

    async def properties(request, user, avm_id):
        vm = vm_of(user, avm_id)
        if vm_state(vm)[0] != "READY":
            return JSONResponse({"properties": {}})
        hw = vm["hwconfig"]
        mac = ":".join(vm["avm_id"][i:i + 2] for i in range(0, 12, 2))
        props = {
            "aicVM.gles": "1", "aicVM.gles.renderer": "1", "aicVM.inited": "1", "aicd.ac.online": "1",
            "aicd.accelerometer.x": "0.000000", "aicd.accelerometer.y": "9.776219",
            "aicd.accelerometer.z": "0.813417", "aicd.battery.enabled": str(hw.get("enable_battery", 1)),
            "aicd.camera.enabled": str(hw.get("enable_camera", 1)), "aicd.gps.enabled": str(hw.get("enable_gps", 1)),
            "aicd.gsm.enabled": str(hw.get("enable_gsm", 1)), "aicd.nfc.enabled": str(hw.get("enable_nfc", 0)),
            "aicd.screen.width": str(hw.get("width")), "aicd.screen.height": str(hw.get("height")),
            "ro.sf.lcd_density": str(hw.get("dpi")), "ro.build.version.release":
                "4.4.4" if vm["image"].startswith("kitkat") else "5.1.1",
            "ro.product.model": vm["image"], "ro.serialno": vm["avm_id"][:16],
            "sys.settings_system_version": "12", "sys.sysctl.extra_free_kbytes": "5625",
            "sys.sysctl.tcp_def_init_rwnd": "60", "sys.usb.config": "adb", "sys.usb.state": "adb",
            "wifi.interface": "eth1", "wifi.interface.mac": mac, "wlan.driver.status": "ok",
        }
        return JSONResponse({"properties": dict(sorted(props.items()))})

    async def totp(request, user, avm_id):
        vm = vm_of(user, avm_id)
        step = int(config.clock() // 30)
        digest = hashlib.sha1(f"{vm['avm_id']}:{step}".encode()).hexdigest()
        return JSONResponse({"totp": f"{int(digest[:8], 16) % 1_000_000:06d}"})

    def ready_vm(user: str, avm_id: str, message: str) -> dict[str, Any]:
        vm = vm_of(user, avm_id)
        if vm_state(vm)[0] != "READY":
            raise Reject(409, message)
        return vm

    async def install_apk(request, user, avm_id, apk_id):
        vm = ready_vm(user, avm_id, "The VM cannot install packages now.")
        p = project_of(user, vm["project_id"])
        apk = in_project(apks, "APK", p, apk_id)
        status, reason = apk_state(apk)
        if status != "READY":
            raise Reject(409, f"APK '{apk_id}' is not ready ({status})")
        lines = [f"pkg: /data/local/tmp/{apk_id}.apk", "Success"]
        size = 200_000 + int(apk_id[:4], 16) * 10
        cid = new_command(vm, "install", lines, True, "0",
                          stderr=f"3880 KB/s ({size} bytes in {size / 3_973_120:.3f}s)", package=apk["package"])
        return JSONResponse({"command_id": cid}, 202)

    async def monkey(request, user, avm_id):
        vm = ready_vm(user, avm_id, "The VM cannot run commands now.")
        data = await body_of(request)
        packages = data["packages"]
        count = int(data["event_count"])
        if isinstance(packages, str):
            packages = [packages]
        have = installed(vm)[0]
        seed = int(vm["avm_id"][:6], 16) % 100000
        lines = [f":Monkey: seed={seed} count={count}"]
        lines += [f":AllowPackage: {p}" for p in packages]
        lines += [":IncludeCategory: android.intent.category.LAUNCHER",
                  ":IncludeCategory: android.intent.category.MONKEY"]
        missing = [p for p in packages if p not in have]
        if missing or not packages:
            lines += ["** No activities found to run, monkey aborted."]
            cid = new_command(vm, "monkey", lines, False, "252")
        else:
            for n in range(min(count, 40) // 4):
                lines.append(f"    // Allowing start of Intent {{ act=android.intent.action.MAIN "
                             f"cmp={packages[n % len(packages)]}/.MainActivity }} in package "
                             f"{packages[n % len(packages)]}")
                lines.append(f":Sending Touch (ACTION_DOWN): 0:(163.0,{400 + n}.0)")
                lines.append(f":Sending Touch (ACTION_UP): 0:(163.0,{400 + n}.0)")
            lines += [f"Events injected: {count}", ":Sending rotation degrees=0, persist=false",
                      ":Dropped: keys=0 pointers=0 trackballs=0 flips=0 rotations=0",
                      f"## Network stats: elapsed time={count * 7}ms (0ms mobile, 0ms wifi, {count * 7}ms not connected)",
                      "// Monkey finished"]
            cid = new_command(vm, "monkey", lines, True, "0")
        return JSONResponse({"command_id": cid}, 202)

    async def testrun(request, user, avm_id):
        vm = ready_vm(user, avm_id, "The VM cannot run commands now.")
        data = await body_of(request)
        package = str(data["package"])
        targets = installed(vm)[1]
        if package in targets or package in targets.values() or any(k.split("/")[0] == package for k in targets):
            cid = new_command(vm, "testrun", testrun_lines(package), True, "0")
        else:
            lines = ["INSTRUMENTATION_STATUS: id=ActivityManagerService",
                     f"INSTRUMENTATION_STATUS: Error=Unable to find instrumentation info for: "
                     f"ComponentInfo{{{package}}}", "INSTRUMENTATION_STATUS_CODE: -1",
                     f"android.util.AndroidException: INSTRUMENTATION_FAILED: {package}"]
            cid = new_command(vm, "testrun", lines, False, "1")
        return JSONResponse({"command_id": cid}, 202)

    # --- images, user ---------------------------------------------------------------------
    async def images(request, user):
        return JSONResponse({"images": [{"android_version": v, "image": i} for i, v in IMAGES]})

    async def quota(request, user):
        live = [v for v in live_vms(user) if vm_state(v)[0] in ("QUEUED", "CREATING", "READY")]
        active = sum(campaign_json(c)["_active"] for c in campaigns.values()
                     if projects.get(c["project_id"], {}).get("owner") == user)
        return JSONResponse({"quota": {"vm_async_current": min(active, VM_ASYNC_MAX), "vm_async_max": VM_ASYNC_MAX,
                                       "vm_live_current": len(live), "vm_live_max": VM_LIVE_MAX}})

    async def whoami(request, user):
        return JSONResponse({"user": {"userid": user}})

    # --- /projects --------------------------------------------------------------------------
    async def list_projects(request, user):
        rows = []
        for p in sorted(projects.values(), key=lambda p: p["born"]):
            status = project_state(p)[0]
            if status == "DELETED":
                forget_project(p)
            elif p["owner"] == user:
                rows.append({"project_id": p["project_id"], "project_name": p["project_name"], "status": status})
        return JSONResponse({"projects": rows})

    async def get_project(request, user, project_id):
        p = project_of(user, project_id)
        status, since = project_state(p)
        vms = [v for v in live_vms(user) if v["project_id"] == project_id]
        return JSONResponse({"project": {
            "count_avms": len(vms), "project_id": project_id, "project_name": p["project_name"], "status": status,
            "status_reason": "", "status_ts": iso(since),
            "sum_avms_uptime": round(sum(max(0.0, config.elapsed(v["born"])) for v in vms), 6)}})

    async def create_project(request, user):
        data = await body_of(request)
        p = new_project(user, str(data["project_name"]), config.clock())
        return JSONResponse({"project_id": p["project_id"]}, 201)

    async def rename_project(request, user, project_id):
        p = project_of(user, project_id)
        data = await body_of(request)
        p["project_name"] = str(data["project_name"])
        return no_content()

    async def delete_project(request, user, project_id):
        p = project_of(user, project_id)
        busy_vms = [v for v in live_vms(user) if v["project_id"] == project_id and v["deleted_at"] is None]
        busy_campaigns = [c for c in campaigns.values() if c["project_id"] == project_id
                          and campaign_json(c)["campaign_status"] in ("QUEUED", "RUNNING")]
        if busy_vms or busy_campaigns:
            raise Reject(409, "cannot delete project with active vms or campaigns")
        if p["deleted_at"] is None:
            p["deleted_at"] = config.clock()
        return accepted()

    # --- apks -----------------------------------------------------------------------------------
    async def list_apks(request, user, project_id):
        p = project_of(user, project_id)
        rows = [apk_json(a, False) for a in sorted(apks.values(), key=lambda a: a["born"])
                if a["project_id"] == p["project_id"]]
        return JSONResponse({"apks": rows})

    async def get_apk(request, user, project_id, apk_id):
        return JSONResponse({"apk": apk_json(in_project(apks, "APK", project_of(user, project_id), apk_id), True)})

    async def upload_apk(request, user, project_id):
        p = project_of(user, project_id)
        filename, raw = await file_of(request)
        fail = "" if raw.startswith(b"PK") else "Invalid APK: not a zip archive (AndroidManifest.xml not found)"
        apk = new_apk(p["project_id"], filename, config.clock(), fail=fail)
        return JSONResponse({"apk_id": apk["apk_id"]}, 201)

    async def delete_apk(request, user, project_id, apk_id):
        apk = in_project(apks, "APK", project_of(user, project_id), apk_id)
        del apks[apk["apk_id"]]
        return no_content()

    # --- camera ------------------------------------------------------------------------------------
    async def list_camera(request, user, project_id):
        p = project_of(user, project_id)
        rows = [{"camera_id": c["camera_id"], "filename": c["filename"], "project_id": c["project_id"],
                 "status": camera_status(c)}
                for c in sorted(camera.values(), key=lambda c: c["born"]) if c["project_id"] == p["project_id"]]
        return JSONResponse({"camera_files": rows})

    async def upload_camera(request, user, project_id):
        p = project_of(user, project_id)
        filename, _raw = await file_of(request)
        c = new_camera(p["project_id"], filename, config.clock())
        return JSONResponse({"camera_file_id": c["camera_id"]}, 201)

    async def delete_camera(request, user, project_id, camera_file_id):
        c = in_project(camera, "Camera file", project_of(user, project_id), camera_file_id)
        del camera[c["camera_id"]]
        return no_content()

    # --- testsources ----------------------------------------------------------------------------------
    async def list_sources(request, user, project_id):
        p = project_of(user, project_id)
        rows = [source_json(s) for s in sorted(sources.values(), key=lambda s: s["born"])
                if s["project_id"] == p["project_id"]]
        return JSONResponse({"testsources": rows})

    async def get_source(request, user, project_id, testsource_id):
        s = in_project(sources, "Test source", project_of(user, project_id), testsource_id)
        return PlainTextResponse(s["text"])

    async def source_metadata(request, user, project_id, testsource_id):
        s = in_project(sources, "Test source", project_of(user, project_id), testsource_id)
        return JSONResponse({"testsource": source_json(s)})

    async def upload_source(request, user, project_id):
        p = project_of(user, project_id)
        filename, raw = await file_of(request)
        s = new_source(p["project_id"], filename, raw.decode("utf-8", "replace"), config.clock())
        return JSONResponse({"testsource_id": s["testsource_id"]}, 201)

    async def replace_source(request, user, project_id, testsource_id):
        s = in_project(sources, "Test source", project_of(user, project_id), testsource_id)
        filename, raw = await file_of(request)
        s.update(filename=filename, text=raw.decode("utf-8", "replace"), apk_id="", born=config.clock())
        return no_content()

    async def compile_(request, user, project_id, testsource_id):
        s = in_project(sources, "Test source", project_of(user, project_id), testsource_id)
        apk = compile_source(s, config.clock())
        return JSONResponse({"apk_id": apk["apk_id"]}, 202)

    async def delete_source(request, user, project_id, testsource_id):
        s = in_project(sources, "Test source", project_of(user, project_id), testsource_id)
        del sources[s["testsource_id"]]
        return no_content()

    # --- campaigns -------------------------------------------------------------------------------------
    async def list_campaigns(request, user, project_id):
        p = project_of(user, project_id)
        rows = []
        for c in sorted(campaigns.values(), key=lambda c: c["born"]):
            if c["project_id"] == p["project_id"]:
                view = campaign_json(c)
                rows.append({"campaign_id": c["campaign_id"], "campaign_name": c["campaign_name"],
                             "project_id": c["project_id"], "status": view["campaign_status"]})
        return JSONResponse({"campaigns": rows})

    async def get_campaign(request, user, project_id, campaign_id):
        c = in_project(campaigns, "Campaign", project_of(user, project_id), campaign_id)
        view = campaign_json(c)
        view.pop("_active")
        return JSONResponse({"campaign": view})

    async def create_campaign(request, user, project_id):
        p = project_of(user, project_id)
        data = await body_of(request)
        tests = []
        for t in data["tests"]:
            apk_ids = list(t.get("apks") or [])
            found = [in_project(apks, "APK", p, a) for a in apk_ids]
            packages = t.get("packages") or []
            if isinstance(packages, str):
                packages = [packages]
            tests.append({"image": str(t["image"]), "hwconfig": {**HW_DEFAULTS, **(t.get("hwconfig") or {})},
                          "apks": apk_ids, "apk_packages": [a["package"] for a in found],
                          "packages": [str(x) for x in packages]})
        name = data.get("campaign_name") or "-".join(
            (ids.rng.choice(["lovely", "brave", "quiet", "swift", "happy"]),
             ids.rng.choice(["big", "small", "red", "green", "tiny"]),
             ids.rng.choice(["cobra", "otter", "lynx", "heron", "gecko"])))
        c = new_campaign(p, str(name), tests, config.clock())
        return JSONResponse({"campaign_id": c["campaign_id"]}, 202)

    async def delete_campaign(request, user, project_id, campaign_id):
        c = in_project(campaigns, "Campaign", project_of(user, project_id), campaign_id)
        del campaigns[c["campaign_id"]]
        return no_content()

    def r(path: str, fn, *methods: str) -> Route:
        return Route(path, endpoint(fn), methods=list(methods))

    P = "/projects/{project_id}"
    routes = [
        r("/android", list_avms, "GET"),
        r("/android", create_avm, "POST"),
        r("/android/{avm_id}", get_avm, "GET"),
        r("/android/{avm_id}", rename_avm, "PUT"),
        r("/android/{avm_id}", delete_avm, "DELETE"),
        r("/android/{avm_id}/apk", avm_packages, "GET"),
        r("/android/{avm_id}/apk/{apk_id}", install_apk, "POST"),
        r("/android/{avm_id}/command/{command_id}", get_command, "GET"),
        r("/android/{avm_id}/properties", properties, "GET"),
        r("/android/{avm_id}/testrun", avm_testrun_packages, "GET"),
        r("/android/{avm_id}/testrun", testrun, "POST"),
        r("/android/{avm_id}/totp", totp, "GET"),
        r("/android/{avm_id}/monkey", monkey, "POST"),
        r("/images", images, "GET"),
        r("/user/quota", quota, "GET"),
        r("/user/whoami", whoami, "GET"),
        r("/projects", list_projects, "GET"),
        r("/projects", create_project, "POST"),
        r(P, get_project, "GET"),
        r(P, rename_project, "PUT"),
        r(P, delete_project, "DELETE"),
        r(P + "/apk", list_apks, "GET"),
        r(P + "/apk", upload_apk, "POST"),
        r(P + "/apk/{apk_id}", get_apk, "GET"),
        r(P + "/apk/{apk_id}", delete_apk, "DELETE"),
        r(P + "/camera", list_camera, "GET"),
        r(P + "/camera", upload_camera, "POST"),
        r(P + "/camera/{camera_file_id}", delete_camera, "DELETE"),
        r(P + "/testsources", list_sources, "GET"),
        r(P + "/testsources", upload_source, "POST"),
        r(P + "/testsources/{testsource_id}", get_source, "GET"),
        r(P + "/testsources/{testsource_id}", replace_source, "PUT"),
        r(P + "/testsources/{testsource_id}", delete_source, "DELETE"),
        r(P + "/testsources/{testsource_id}/metadata", source_metadata, "GET"),
        r(P + "/testsources/{testsource_id}/apk", compile_, "POST"),
        r(P + "/campaigns", list_campaigns, "GET"),
        r(P + "/campaigns", create_campaign, "POST"),
        r(P + "/campaigns/{campaign_id}", get_campaign, "GET"),
        r(P + "/campaigns/{campaign_id}", delete_campaign, "DELETE"),
    ]
    app = Starlette(routes=routes)
    app.state.config = config
    app.state.projects = projects
    app.state.avms = avms
    app.state.apks = apks
    app.state.camera = camera
    app.state.testsources = sources
    app.state.campaigns = campaigns
    app.state.commands = commands
    app.state.seed = {"project_a": pa["project_id"], "project_b": pb["project_id"],
                      "other_project": px["project_id"], "apk_2048": a2048["apk_id"], "apk_apis": apis["apk_id"],
                      "apk_libs": libs["apk_id"]}
    return faults(app, config)
