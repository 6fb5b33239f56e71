"""The simulated kyaraben's state: its tables, lazy state machines, renderers and seed.

State machines advance lazily from `config.clock()` at request time (see the
`*_S` timings, in simulated seconds; `config.speed` scales them). Where the
real server has no worker running (it only changes rows when one does), the
simulator's worker is these timings.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from testdeck.services.kyaraben.client import CAMPAIGN_NAME_MAX, HW_DEFAULTS, IMAGE_EXT, MOVIE_EXT  # noqa: F401  (routes import them from here)
from testdeck.sim.base import Ids, SimConfig

DEMO_USER = "marco"
DEMO_TOKEN = "kyr-demo-6d1f0c2b9a4e47e5"
OTHER_USER = "alice"  # owns resources the demo user must never see

VM_LIVE_MAX = 3
VM_ASYNC_MAX = 1  # the real server's default (quota.vm_async_max)

IMAGES = [("kitkat-tablet", 4), ("kitkat-phone", 4), ("lollipop-tablet", 5), ("lollipop-phone", 5)]
HW_SWITCHES = [k for k in HW_DEFAULTS if k.startswith("enable_")]

# timings, simulated seconds since the thing started
VM_QUEUED_S = 10.0  # QUEUED (no stack yet) until then: long enough to meet in the demo
VM_READY_S = 16.0  # CREATING until then, READY (or ERROR) after
CAMPAIGN_QUEUED_S = 2.0  # a campaign is QUEUED until then
CAMPAIGN_VM_S = 6.0  # a campaign's VM boots, then its installs and runs follow
VM_DELETING_S = 3.0  # DELETING for that long, then gone
PROJECT_QUEUED_S = 1.0
PROJECT_CREATING_S = 2.0
PROJECT_DELETING_S = 2.0
FILE_DELETING_S = 2.0  # deleted APKs, camera files and campaigns: DELETING, then gone
UPLOAD_S = 1.0
MOVIE_CONVERT_S = 4.0
COMPILE_QUEUED_S = 1.0
COMPILE_DSL_S = 3.0
COMPILE_JAVA_S = 8.0
CMD_QUEUED_S = 1.0
CMD_S = {"install": 2.0, "monkey": 5.0, "testrun": 6.0}
CAMPAIGN_CMD_S = 3.0


# petname.Generate(3, "-") in the real server: adverb-adjective-animal
ADVERBS = ["early", "gladly", "mainly", "only", "freely", "highly", "deeply", "really", "simply", "wholly"]
ADJECTIVES = ["handy", "exotic", "brave", "quiet", "lovely", "sunny", "tidy", "witty", "calm", "eager"]
ANIMALS = ["snipe", "pup", "cobra", "otter", "lynx", "heron", "gecko", "bison", "koala", "moth"]

SEED_PACKAGES = ["com.example.android.apis", "com.android.gesture.builder"]
SEED_TESTRUN = {"com.example.android.apis/.app.LocalSampleInstrumentation": "com.example.android.apis"}

class Reject(Exception):
    """An error answer: text/plain."""

    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status, self.text = status, text


def iso(at: float) -> str:
    return _dt.datetime.fromtimestamp(at, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def package_from_filename(filename: str) -> str:
    """What the real server reads from AndroidManifest.xml; the simulator guesses from the name."""
    stem = re.sub(r"\.apk$", "", filename, flags=re.I)
    stem = re.sub(r"[_-]\d+$", "", stem)
    stem = re.sub(r"[^A-Za-z0-9_.]", "_", stem).strip("._") or "app"
    return stem if "." in stem else f"com.example.{stem.lower()}"


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


class World:
    """Every table of one simulated server, and what a row looks like at the clock's time."""

    def __init__(self, config: SimConfig):
        self.config = config
        self.ids = Ids(config.seed)
        self.projects: dict[str, dict[str, Any]] = {}
        self.avms: dict[str, dict[str, Any]] = {}
        self.apks: dict[str, dict[str, Any]] = {}
        self.camera: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, dict[str, Any]] = {}
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.commands: dict[str, dict[str, Any]] = {}
        self.seed_ids: dict[str, str] = {}

    def now(self) -> float:
        return self.config.clock()

    def elapsed(self, since: float) -> float:
        return self.config.elapsed(since)

    def at(self, since: float, seconds: float) -> float:
        """Clock reading at which `seconds` of simulated time have passed since `since`."""
        return since + seconds / (self.config.speed or 1.0)

    def petname(self) -> str:
        rng = self.ids.rng
        return "-".join((rng.choice(ADVERBS), rng.choice(ADJECTIVES), rng.choice(ANIMALS)))

    # --- state machines (lazy) -------------------------------------------------
    def vm_state(self, vm: dict[str, Any]) -> tuple[str, float]:
        """(status, clock reading of that status)."""
        if vm["deleted_at"] is not None:
            if self.elapsed(vm["deleted_at"]) < VM_DELETING_S:
                return "DELETING", vm["deleted_at"]
            return "DELETED", self.at(vm["deleted_at"], VM_DELETING_S)
        e = self.elapsed(vm["born"])
        if e < VM_QUEUED_S:
            return "QUEUED", vm["born"]
        if vm["fail_early"]:  # failed before its stack existed
            return "ERROR", self.at(vm["born"], VM_QUEUED_S)
        if e < VM_READY_S:
            return "CREATING", self.at(vm["born"], VM_QUEUED_S)
        return ("ERROR" if vm["fail"] else "READY"), self.at(vm["born"], VM_READY_S)

    def has_stack(self, vm: dict[str, Any]) -> bool:
        """The real server names the VM's stack when it starts CREATING; DELETE needs it."""
        return not vm["fail_early"] and self.elapsed(vm["born"]) >= VM_QUEUED_S

    def uptime(self, vm: dict[str, Any]) -> float:
        """Billed time: from READY until now or the deletion; 0.0 for a VM never started."""
        if vm["fail"] or vm["fail_early"] or self.elapsed(vm["born"]) < VM_READY_S:
            return 0.0
        end = vm["deleted_at"] if vm["deleted_at"] is not None else self.now()
        return round(max(0.0, (end - self.at(vm["born"], VM_READY_S)) * self.config.speed), 6)

    def project_state(self, p: dict[str, Any]) -> tuple[str, float]:
        if p["deleted_at"] is not None:
            if self.elapsed(p["deleted_at"]) < PROJECT_DELETING_S:
                return "DELETING", p["deleted_at"]
            return "DELETED", self.at(p["deleted_at"], PROJECT_DELETING_S)
        e = self.elapsed(p["born"])
        if e < PROJECT_QUEUED_S:
            return "QUEUED", p["born"]
        if e < PROJECT_CREATING_S:
            return "CREATING", self.at(p["born"], PROJECT_QUEUED_S)
        return "READY", self.at(p["born"], PROJECT_CREATING_S)

    def deleting(self, item: dict[str, Any]) -> str | None:
        """DELETING or DELETED for an APK, camera file or campaign being deleted, else None."""
        if item.get("deleted_at") is None:
            return None
        return "DELETING" if self.elapsed(item["deleted_at"]) < FILE_DELETING_S else "DELETED"

    def apk_state(self, a: dict[str, Any]) -> tuple[str, str]:
        gone = self.deleting(a)
        if gone:
            return gone, ""
        e = self.elapsed(a["born"])
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

    def apk_package(self, a: dict[str, Any]) -> str:
        """A compiled APK's package is read from it once built: empty until READY."""
        if a["testsource_id"] and self.apk_state(a)[0] != "READY":
            return ""
        return a["package"]

    def camera_status(self, c: dict[str, Any]) -> str:
        gone = self.deleting(c)
        if gone:
            return gone
        e = self.elapsed(c["born"])
        name = c["filename"].lower()
        if e < UPLOAD_S:
            return "UPLOADING"
        if name.endswith(MOVIE_EXT) and e < UPLOAD_S + MOVIE_CONVERT_S:
            return "UPLOADING"  # converting
        return "READY" if name.endswith(MOVIE_EXT + IMAGE_EXT) else "ERROR"

    def command_view(self, c: dict[str, Any]) -> dict[str, Any]:
        e = self.elapsed(c["born"])
        lines: list[str] = c["stdout"]
        if c["stuck"] or e < CMD_QUEUED_S:  # stuck: sent to a VM that was not READY; no worker takes it
            return {"returncode": "", "status": "QUEUED", "stderr": "", "stdout": ""}
        run = e - CMD_QUEUED_S
        if run < c["duration"]:
            shown = int(len(lines) * run / c["duration"])
            return {"returncode": "", "status": "RUNNING", "stderr": "", "stdout": "\n".join(lines[:shown])}
        return {"returncode": c["returncode"], "status": "READY" if c["ok"] else "ERROR",
                "stderr": c["stderr"], "stdout": "\n".join(lines)}

    def command_done(self, c: dict[str, Any]) -> bool:
        return not c["stuck"] and self.elapsed(c["born"]) >= CMD_QUEUED_S + c["duration"]

    # --- visibility -----------------------------------------------------------------
    def project_of(self, user: str, project_id: str) -> dict[str, Any]:
        p = self.projects.get(project_id)
        if p is not None and self.project_state(p)[0] == "DELETED":
            self.forget_project(p)
            p = None
        if p is None or p["owner"] != user:
            raise Reject(404, f"Project '{project_id}' not found")
        return p

    def vm_of(self, user: str, avm_id: str) -> dict[str, Any]:
        vm = self.avms.get(avm_id)
        if vm is not None and self.vm_state(vm)[0] == "DELETED":
            del self.avms[avm_id]
            vm = None
        if vm is None or vm["owner"] != user:
            raise Reject(404, f"AVM '{avm_id}' not found")
        return vm

    def in_project(self, table: dict[str, dict[str, Any]], what: str, p: dict[str, Any],
                   item_id: str) -> dict[str, Any]:
        item = table.get(item_id)
        if item is not None and self.deleting(item) == "DELETED":
            del table[item_id]
            item = None
        if item is None or item["project_id"] != p["project_id"]:
            raise Reject(404, f"{what} '{item_id}' not found")
        return item

    def rows_in(self, table: dict[str, dict[str, Any]], p: dict[str, Any]) -> list[dict[str, Any]]:
        """A project's rows of a table, oldest first; rows whose deletion ended are dropped."""
        for key in [k for k, v in table.items() if self.deleting(v) == "DELETED"]:
            del table[key]
        return sorted((v for v in table.values() if v["project_id"] == p["project_id"]), key=lambda v: v["born"])

    def forget_project(self, p: dict[str, Any]) -> None:
        pid = p["project_id"]
        self.projects.pop(pid, None)
        for table in (self.apks, self.camera, self.sources, self.campaigns):
            for key in [k for k, v in table.items() if v["project_id"] == pid]:
                del table[key]

    def live_vms(self, user: str) -> list[dict[str, Any]]:
        """The user's VMs not DELETED: every one of them counts in the live quota, ERROR and DELETING too."""
        out = []
        for vm in list(self.avms.values()):
            if self.vm_state(vm)[0] == "DELETED":
                del self.avms[vm["avm_id"]]
            elif vm["owner"] == user:
                out.append(vm)
        return out

    def installed(self, vm: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
        packages = list(vm["packages"])
        testrun = dict(vm["testrun"])
        for c in self.commands.values():
            if c["avm_id"] == vm["avm_id"] and c["kind"] == "install" and c["ok"] and self.command_done(c):
                pkg = c["package"]
                if pkg not in packages:
                    packages.append(pkg)
                if pkg.endswith(".test"):
                    testrun[f"{pkg}/android.test.InstrumentationTestRunner"] = pkg[: -len(".test")]
        return packages, testrun

    # --- renderers ----------------------------------------------------------------
    def avm_json(self, vm: dict[str, Any], full: bool) -> dict[str, Any]:
        status, since = self.vm_state(vm)
        out = {"avm_id": vm["avm_id"], "avm_name": vm["avm_name"], "avm_owner": vm["owner"],
               "campaign_id": "", "image": vm["image"], "project_id": vm["project_id"], "status": status,
               "ts_created": iso(vm["born"]), "uptime": self.uptime(vm)}
        if full:
            reason = (vm["fail"] or vm["fail_early"]) if status == "ERROR" else ""
            out.update(hwconfig=dict(vm["hwconfig"]), status_reason=reason, status_ts=iso(since))
        return out

    def apk_json(self, a: dict[str, Any], full: bool) -> dict[str, Any]:
        status, reason = self.apk_state(a)
        out = {"apk_id": a["apk_id"], "filename": a["filename"], "package": self.apk_package(a),
               "project_id": a["project_id"], "status": status}
        if full:
            out["status_reason"] = reason
        else:
            out["testsource_id"] = a["testsource_id"]
        return out

    def source_json(self, s: dict[str, Any]) -> dict[str, Any]:
        apk = self.apks.get(s["apk_id"]) if s["apk_id"] else None
        apk_status, reason = self.apk_state(apk) if apk else ("", "")
        return {"apk_id": s["apk_id"] if apk else "", "apk_status": apk_status,
                "apk_status_reason": reason, "filename": s["filename"], "project_id": s["project_id"],
                "status": "READY", "testsource_id": s["testsource_id"]}

    def campaign_json(self, c: dict[str, Any]) -> dict[str, Any]:
        e = self.elapsed(c["born"])
        total = ready = active = 0
        failed = False
        tests_out = []
        for t in c["tests"]:
            steps = [("install", p) for p in t["apk_packages"]] + [("run", p) for p in t["packages"]]
            end_all = CAMPAIGN_VM_S + CAMPAIGN_CMD_S * len(steps)
            if e < end_all:
                active += 1
            runs = []
            for k, (kind, pkg) in enumerate(steps):
                start = CAMPAIGN_VM_S + CAMPAIGN_CMD_S * k
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
                status = "QUEUED" if e < CAMPAIGN_VM_S else ("RUNNING" if e < end_all else "READY")
                runs.append({"hwconfig": dict(t["hwconfig"]), "image": t["image"], "package": "",
                             "status": status, "stdout": ""})
            tests_out.extend(runs)
        if not c["tests"]:  # the real server's join answers one test made of nulls
            tests_out.append({"hwconfig": None, "image": None, "package": None, "status": None, "stdout": None})
        gone = self.deleting(c)
        if gone:
            status, active = gone, 0
        elif e < CAMPAIGN_QUEUED_S:
            status = "QUEUED"
        elif active:
            status = "RUNNING"
        else:
            status = "ERROR" if failed else "READY"
        progress = round(ready / total, 4) if total else (1.0 if not active else 0.0)
        return {"campaign_id": c["campaign_id"], "campaign_name": c["campaign_name"], "campaign_status": status,
                "progress": progress, "project_id": c["project_id"], "tests": tests_out, "_active": active}

    # --- creation (seed and API share it) ---------------------------------------------
    def new_project(self, owner: str, name: str, born: float) -> dict[str, Any]:
        pid = self.ids.hex32()
        self.projects[pid] = {"project_id": pid, "project_name": name, "owner": owner, "born": born,
                              "deleted_at": None}
        return self.projects[pid]

    def new_vm(self, owner: str, project_id: str, image: str, born: float, name: str | None = None,
               hwconfig: dict[str, Any] | None = None, fail: str = "", packages: list[str] | None = None,
               testrun: dict[str, str] | None = None, fail_early: str = "") -> dict[str, Any]:
        vid = self.ids.hex32()
        self.avms[vid] = {"avm_id": vid, "avm_name": name or self.petname(), "owner": owner,
                          "project_id": project_id, "image": image, "born": born, "deleted_at": None,
                          "fail": fail, "fail_early": fail_early, "hwconfig": {**HW_DEFAULTS, **(hwconfig or {})},
                          "packages": list(SEED_PACKAGES if packages is None else packages),
                          "testrun": dict(SEED_TESTRUN if testrun is None else testrun)}
        return self.avms[vid]

    def new_apk(self, project_id: str, filename: str, born: float, *, package: str | None = None,
                testsource_id: str = "", fail: str = "") -> dict[str, Any]:
        aid = self.ids.hex32()
        self.apks[aid] = {"apk_id": aid, "filename": filename,
                          "package": package or package_from_filename(filename), "project_id": project_id,
                          "born": born, "testsource_id": testsource_id, "fail": fail, "deleted_at": None}
        return self.apks[aid]

    def new_camera(self, project_id: str, filename: str, born: float) -> dict[str, Any]:
        cid = self.ids.hex32()
        self.camera[cid] = {"camera_id": cid, "filename": filename, "project_id": project_id, "born": born,
                            "deleted_at": None}
        return self.camera[cid]

    def new_source(self, project_id: str, filename: str, text: str, born: float) -> dict[str, Any]:
        sid = self.ids.hex32()
        self.sources[sid] = {"testsource_id": sid, "filename": filename, "project_id": project_id, "born": born,
                             "text": text, "apk_id": ""}
        return self.sources[sid]

    def compile_source(self, s: dict[str, Any], born: float) -> dict[str, Any]:
        fail = ""
        for n, line in enumerate(s["text"].splitlines(), 1):
            if "FAIL" in line:
                fail = f"DSL compilation failed: line {n}: unknown step {line.strip()!r}"
                break
        stem = re.sub(r"[^a-z0-9]", "", s["filename"].rsplit(".", 1)[0].lower()) or "dsl"
        apk = self.new_apk(s["project_id"], f"{stem}-test.apk", born, package=f"com.zenika.aic.dsl.{stem}.test",
                           testsource_id=s["testsource_id"], fail=fail)
        s["apk_id"] = apk["apk_id"]
        return apk

    def new_campaign(self, owner_project: dict[str, Any], name: str, tests: list[dict[str, Any]],
                     born: float) -> dict[str, Any]:
        cid = self.ids.hex32()
        self.campaigns[cid] = {"campaign_id": cid, "campaign_name": name,
                               "project_id": owner_project["project_id"], "born": born, "tests": tests,
                               "deleted_at": None}
        return self.campaigns[cid]

    def new_command(self, vm: dict[str, Any], kind: str, lines: list[str], ok: bool, returncode: str,
                    stderr: str = "", package: str = "", stuck: bool = False) -> str:
        cid = self.ids.hex32()
        self.commands[cid] = {"command_id": cid, "avm_id": vm["avm_id"], "kind": kind, "born": self.now(),
                              "duration": CMD_S[kind], "stdout": lines, "ok": ok, "returncode": returncode,
                              "stderr": stderr, "package": package, "stuck": stuck}
        return cid
