"""kyaraben resources for the generic screen and the CLI.

VMs and projects are global to the user; APKs, camera files, test sources and
campaigns live inside a project (the `project` scope). Commands (install,
monkey, testrun) are followed in the log tail until READY or ERROR.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testdeck import clock
from testdeck.errors import ApiError
from testdeck.records import Record
from testdeck.resources import Action, Col, Ctx, Field, Form, LogFeed, Resource, Scope, Service, age, duration
from testdeck.services.kyaraben import sim
from testdeck.services.kyaraben.client import (
    FINAL_COMMAND,
    HWCONFIG_KEYS,
    Campaign,
    Kyaraben,
    Project,
    TestSource,
)

FOLLOW_INTERVAL = 1.0  # seconds between polls of a command / compile / campaign
FOLLOW_MISSING_POLLS = 10  # an unknown command id answers an empty list: give up after that many
TOTP_PERIOD = 30
HW_MIN = {"width": 240, "height": 240, "dpi": 100}  # the server's schema minimums
HW_MAX = 10_000  # sanity bound for screens, not a server rule
FINAL_APK = ("READY", "ERROR", "DELETED")
MOVIE_EXT = sim.MOVIE_EXT
IMAGE_EXT = sim.IMAGE_EXT


# --- validators (each returns an error message or None) --------------------------------------------

def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+").isdigit():
        return int(value.strip())
    if isinstance(value, str) and value.strip().startswith("-") and value.strip()[1:].isdigit():
        return int(value.strip())
    return None


def dimension(name: str):
    """width/height/dpi: a positive integer, at least the server's minimum."""
    low = HW_MIN[name]

    def check(value: Any) -> str | None:
        if value in (None, ""):
            return None  # optional: the server default applies
        n = _as_int(value)
        if n is None:
            return f"{name} must be a whole number"
        if n <= 0:
            return f"{name} must be a positive integer"
        if n < low:
            return f"{name} must be at least {low} (the server's minimum)"
        if n > HW_MAX:
            return f"{name} must be at most {HW_MAX}"
        return None

    return check


def positive_int(value: Any) -> str | None:
    n = _as_int(value)
    if n is None:
        return "must be a whole number"
    return None if n > 0 else "must be a positive integer"


def not_blank(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must not be blank"


def _local_file(value: Any, suffixes: tuple[str, ...] | None, what: str) -> str | None:
    if value in (None, ""):
        return "choose a file"
    path = Path(str(value)).expanduser()
    if not path.is_file():
        return f"no such file: {path}"
    if suffixes and not path.name.lower().endswith(suffixes):
        return f"{what} must end with {', '.join(suffixes)}"
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror}"
    return None


def apk_file(value: Any) -> str | None:
    return _local_file(value, (".apk",), "an APK file")


def camera_file(value: Any) -> str | None:
    return _local_file(value, IMAGE_EXT + MOVIE_EXT, "a camera file (image or movie)")


def dsl_file(value: Any) -> str | None:
    return _local_file(value, None, "a test source")


def at_least_one(value: Any) -> str | None:
    return None if value else "choose at least one"


# --- choices -----------------------------------------------------------------------------------------------

async def project_options(cx: Ctx) -> list[tuple[str, str]]:
    return [(p.project_id, p.project_name or p.project_id) for p in await cx.client.get_projects()
            if p.status not in ("DELETING", "DELETED")]


async def image_choices(cx: Ctx) -> list[tuple[str, str]]:
    return [(i.image, f"{i.image} (Android {i.android_version})") for i in await cx.client.get_images()]


async def _row_avm(cx: Ctx):
    if cx.row is not None and cx.row.get("project_id"):
        return cx.row
    return await cx.client.get_avm(cx.key)


async def vm_apk_choices(cx: Ctx) -> list[tuple[str, str]]:
    """READY APKs of the selected VM's project."""
    vm = await _row_avm(cx)
    return [(a.apk_id, f"{a.filename} ({a.package})") for a in await cx.client.get_apks(vm.get("project_id"))
            if a.status == "READY"]


async def vm_package_choices(cx: Ctx) -> list[str]:
    return await cx.client.get_avm_packages(cx.key)


async def vm_testrun_choices(cx: Ctx) -> list[tuple[str, str]]:
    return [(k, f"{k} -> {v}") for k, v in (await cx.client.get_testrun_packages(cx.key)).items()]


async def scope_apk_choices(cx: Ctx) -> list[tuple[str, str]]:
    return [(a.apk_id, f"{a.filename} ({a.package})") for a in await cx.client.get_apks(cx.scope)
            if a.status == "READY"]


async def scope_package_choices(cx: Ctx) -> list[str]:
    seen: list[str] = []
    for a in await cx.client.get_apks(cx.scope):
        if a.package and a.package not in seen:
            seen.append(a.package)
    return seen


# --- hwconfig ------------------------------------------------------------------------------------------------

def hwconfig_fields() -> list[Field]:
    d = sim.HW_DEFAULTS
    fields = [Field(k, type="int", default=d[k], min=HW_MIN[k], max=HW_MAX, validate=dimension(k),
                    help=f"{'pixels' if k != 'dpi' else 'dots per inch'}, at least {HW_MIN[k]}")
              for k in ("width", "height", "dpi")]
    fields += [Field(k, k.removeprefix("enable_"), type="bool", default=bool(d[k]), help="sent as 0/1")
               for k in HWCONFIG_KEYS if k.startswith("enable_")]
    return fields


def hwconfig_from(values: dict[str, Any]) -> dict[str, int]:
    """The form's values as the server's hwconfig: ints, switches as 0/1; unset keys left to the server."""
    out: dict[str, int] = {}
    for key in HWCONFIG_KEYS:
        value = values.get(key)
        if value in (None, ""):
            continue
        if key.startswith("enable_"):
            out[key] = 1 if value in (True, 1, "1", "true", "yes", "on") else 0
        else:
            n = _as_int(value)
            if n is not None:
                out[key] = n
    return out


def _choice(value: Any) -> Any:
    return value[0] if isinstance(value, tuple) else value


def _list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(_choice(v)) for v in value]


# --- actions: VMs -------------------------------------------------------------------------------------------------

def _refuse(cx: Ctx, method: str, path: str, message: str) -> ApiError:
    """A refusal decided here, before sending: shown like any server error."""
    return ApiError("kyaraben", cx.client.profile.name, method, path, None, message)


async def create_avm(cx: Ctx) -> str:
    quota = await cx.client.get_quota()
    if quota.live_full:
        raise _refuse(cx, "POST", "/android",
                      f"quota reached: {quota.vm_live_current} of {quota.vm_live_max} live VMs in use; "
                      "delete a VM before creating another")
    v = cx.values
    return await cx.client.create_avm(_choice(v["project"]), _choice(v["image"]), (v.get("avm_name") or "").strip()
                                      or None, hwconfig_from(v))


async def follow_command(cx: Ctx, command_id: Any) -> LogFeed:
    """Poll GET /android/ID/command/CID; yield new stdout/stderr lines, end with status and return code."""
    avm_id = cx.key or (cx.row.get("avm_id") if cx.row is not None else None)
    yield [f"command {command_id} on VM {avm_id}"]
    out_seen = err_seen = 0
    last_status = ""
    missing = 0
    while True:
        results = await cx.client.get_command(avm_id, str(command_id))
        if not results:
            missing += 1
            if missing >= FOLLOW_MISSING_POLLS:
                yield [f"no such command {command_id} (the server returns no result for it)"]
                return
            await asyncio.sleep(FOLLOW_INTERVAL)
            continue
        r = results[-1]
        lines: list[str] = []
        if r.status != last_status and r.status not in FINAL_COMMAND:
            lines.append(f"-- {r.status}")
        last_status = r.status
        finished = r.finished
        out = r.stdout.splitlines()
        # while running only complete lines are sure; the last one may still grow
        upto = len(out) if finished or r.stdout.endswith("\n") else max(out_seen, len(out) - 1)
        lines += out[out_seen:upto]
        out_seen = max(out_seen, upto)
        err = r.stderr.splitlines()
        err_upto = len(err) if finished or r.stderr.endswith("\n") else max(err_seen, len(err) - 1)
        lines += [f"stderr: {line}" for line in err[err_seen:err_upto]]
        err_seen = max(err_seen, err_upto)
        if finished:
            lines.append(f"-- {r.status}, return code {r.returncode or '?'}")
        if lines:
            yield lines
        if finished:
            return
        await asyncio.sleep(FOLLOW_INTERVAL)


@dataclass
class Totp(Record):
    totp: str = ""
    avm_id: str = ""
    generated_at: float = 0.0

    @property
    def valid_until(self) -> float:
        return (self.generated_at // TOTP_PERIOD + 1) * TOTP_PERIOD

    def seconds_left(self, now: float | None = None) -> int:
        return max(0, int(self.valid_until - (clock.now() if now is None else now)))


async def get_totp(cx: Ctx) -> Totp:
    code = await cx.client.get_totp(cx.key)
    return Totp(raw={"totp": code}, totp=code, avm_id=cx.key or "", generated_at=clock.now())


def show_totp(t: Totp) -> str:
    until = _dt.datetime.fromtimestamp(t.valid_until, _dt.timezone.utc).strftime("%H:%M:%SZ")
    return (f"TOTP for VM {t.avm_id}\n\n    {t.totp}\n\n"
            f"valid {t.seconds_left()} s more (TOTP periods are {TOTP_PERIOD} s; until {until})")


def show_properties(props: dict[str, str]) -> str:
    if not props:
        return "(no properties: the VM is not READY)"
    return "\n".join(f"{k} = {v}" for k, v in sorted(props.items()))


def show_packages(packages: list[str]) -> str:
    return "\n".join(packages) if packages else "(no third-party packages installed)"


def property_lines(props: dict[str, str]) -> list[str]:
    return show_properties(props).splitlines()


# the special screens are imported when first shown (they pull in Textual widgets)

def totp_screen(cx: Ctx, totp: Totp):
    from testdeck.services.kyaraben.screens import TotpScreen

    return TotpScreen(cx, totp)


def properties_screen(cx: Ctx, props: dict[str, str]):
    from testdeck.services.kyaraben.screens import LinesScreen

    return LinesScreen(f"properties · VM {cx.key} · {len(props)} · / to search", property_lines(props))


def packages_screen(cx: Ctx, packages: list[str]):
    from testdeck.services.kyaraben.screens import LinesScreen

    return LinesScreen(f"packages · VM {cx.key} · {len(packages)} · / to search",
                       show_packages(packages).splitlines())


def campaign_screen(cx: Ctx, campaign: Campaign):
    from testdeck.services.kyaraben.screens import CampaignScreen

    return CampaignScreen(cx, campaign)


# --- actions: test sources, campaigns ------------------------------------------------------------------

async def follow_compile(cx: Ctx, apk_id: Any) -> LogFeed:
    """Watch the test source's apk_status: QUEUED, COMPILING DSL, COMPILING JAVA, then READY or ERROR."""
    yield [f"compiling test source {cx.key} to APK {apk_id}"]
    last = None
    while True:
        meta: TestSource = await cx.client.get_testsource_metadata(cx.scope, cx.key)
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
        await asyncio.sleep(FOLLOW_INTERVAL)


def progress_bar(fraction: float, width: int = 30) -> str:
    fraction = min(1.0, max(0.0, fraction or 0.0))
    full = round(fraction * width)
    return "#" * full + "." * (width - full) + f" {fraction * 100:5.1f}%"


def show_campaign(c: Campaign) -> str:
    lines = [f"{c.campaign_name} ({c.campaign_id})", f"status   {c.state}",
             f"progress {progress_bar(c.progress)}", ""]
    for n, t in enumerate(c.test_records, 1):
        hw = t.hwconfig
        screen = f"{hw.get('width', '?')}x{hw.get('height', '?')}@{hw.get('dpi', '?')}" if hw else ""
        lines.append(f"#{n} {t.status:<8} {t.image} {screen} {t.package}")
        lines += [f"      {line}" for line in t.stdout.splitlines()]
    return "\n".join(lines)


async def follow_campaign(cx: Ctx) -> LogFeed:
    """Progress and per-test status changes and new stdout lines until the campaign ends."""
    seen: dict[int, tuple[str, int]] = {}
    last_progress = None
    while True:
        c: Campaign = await cx.client.get_campaign(cx.scope, cx.key)
        lines = []
        if c.progress != last_progress:
            lines.append(f"-- {c.state} {progress_bar(c.progress)}")
            last_progress = c.progress
        for n, t in enumerate(c.test_records):
            status, count = seen.get(n, ("", 0))
            out = t.stdout.splitlines()
            if t.status != status:
                lines.append(f"#{n + 1} {t.package or t.image}: {t.status}")
            lines += [f"#{n + 1} {line}" for line in out[count:]]
            seen[n] = (t.status, max(count, len(out)))
        if lines:
            yield lines
        if c.state not in ("QUEUED", "RUNNING", ""):
            yield [f"-- campaign {c.state}, progress {c.progress * 100:.0f}%"]
            return
        await asyncio.sleep(FOLLOW_INTERVAL)


async def create_campaign(cx: Ctx) -> str:
    tests = build_tests(cx.values)
    if not tests:
        raise _refuse(cx, "POST", f"/projects/{cx.scope}/campaigns", "choose at least one image")
    return await cx.client.create_campaign(cx.scope, tests, (cx.values.get("campaign_name") or "").strip() or None)


def build_tests(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The tests list the campaign form sends: one test per chosen image."""
    hw = hwconfig_from(values)
    return [{"image": image, "hwconfig": dict(hw), "apks": _list(values.get("apks")),
             "packages": _list(values.get("packages"))} for image in _list(values.get("images"))]


# --- project detail, quota ------------------------------------------------------------------------------------

@dataclass
class QuotaRow(Record):
    kind: str = ""
    current: int = 0
    max: int = 0
    free: int = 0


async def quota_rows(cx: Ctx) -> list[QuotaRow]:
    q = await cx.client.get_quota()
    rows = [("live", q.vm_live_current, q.vm_live_max), ("async", q.vm_async_current, q.vm_async_max)]
    return [QuotaRow(raw={"kind": k, "current": c, "max": m}, kind=k, current=c, max=m, free=max(0, m - c))
            for k, c, m in rows]


async def quota_status(client: Kyaraben) -> str:
    q = await client.get_quota()
    return f"VMs {q.vm_live_current}/{q.vm_live_max} live, {q.vm_async_current}/{q.vm_async_max} async"


async def project_detail(cx: Ctx) -> Project:
    return await cx.client.get_project(cx.key)


# --- resources ---------------------------------------------------------------------------------------------------------

PROJECT_SCOPE = Scope(name="project", options=project_options)

avms = Resource(
    name="avms",
    title="Android VMs",
    key="avm_id",
    aliases=("avm", "vms", "android"),
    # what matters first (name, status) on the left: at 80 columns the 32-character ids come last
    columns=[
        Col("avm_name", "name"),
        Col("status", width=8),
        Col("image"),
        Col("uptime", fmt=duration, width=7),
        Col("ts_created", "created", fmt=age, width=7),
        Col("avm_id", "id", width=32),
        Col("project_id", "project", width=32),
    ],
    list=lambda cx: cx.client.get_avms(),
    detail=lambda cx: cx.client.get_avm(cx.key),
    actions=[
        Action("n", "new", create_avm, mutates=True, row=False, form=Form("New Android VM", [
            Field("project", type="choice", required=True, choices=project_options),
            Field("image", type="choice", required=True, choices=image_choices),
            Field("avm_name", "name", help="optional; part of the id when empty"),
            *hwconfig_fields(),
        ])),
        Action("e", "rename", lambda cx: cx.client.rename_avm(cx.key, cx.values["avm_name"].strip()), mutates=True,
               form=Form("Rename VM", [Field("avm_name", "name", required=True, validate=not_blank)])),
        Action("ctrl+d", "delete", lambda cx: cx.client.delete_avm(cx.key), mutates=True, confirm=True),
        Action("i", "install APK", lambda cx: cx.client.install_apk(cx.key, _choice(cx.values["apk_id"])),
               mutates=True, follow=follow_command, form=Form("Install a project APK", [
                   Field("apk_id", "APK", type="choice", required=True, choices=vm_apk_choices),
               ])),
        Action("m", "monkey", lambda cx: cx.client.run_monkey(cx.key, _list(cx.values["packages"]),
                                                              int(cx.values["event_count"])),
               mutates=True, follow=follow_command, form=Form("Run the monkey", [
                   Field("packages", type="multi", required=True, choices=vm_package_choices,
                         validate=at_least_one),
                   Field("event_count", "events", type="int", required=True, default=500, min=1, max=1_000_000,
                         validate=positive_int),
               ])),
        Action("t", "testrun", lambda cx: cx.client.run_testrun(cx.key, _choice(cx.values["package"])),
               mutates=True, follow=follow_command, form=Form("Run an instrumented test package", [
                   Field("package", type="choice", required=True, choices=vm_testrun_choices),
               ])),
        Action("v", "properties", lambda cx: cx.client.get_properties(cx.key), screen=properties_screen),
        Action("a", "packages", lambda cx: cx.client.get_avm_packages(cx.key), screen=packages_screen),
        Action("o", "TOTP", get_totp, screen=totp_screen),
    ],
)

projects = Resource(
    name="projects",
    title="Projects",
    key="project_id",
    aliases=("project",),
    columns=[Col("project_name", "name"), Col("status", width=8), Col("project_id", "id", width=32)],
    list=lambda cx: cx.client.get_projects(),
    detail=project_detail,
    actions=[
        Action("n", "new", lambda cx: cx.client.create_project(cx.values["project_name"].strip()), mutates=True,
               row=False, form=Form("New project", [
                   Field("project_name", "name", required=True, validate=not_blank)])),
        Action("e", "rename", lambda cx: cx.client.rename_project(cx.key, cx.values["project_name"].strip()),
               mutates=True, form=Form("Rename project", [
                   Field("project_name", "name", required=True, validate=not_blank)])),
        Action("ctrl+d", "delete", lambda cx: cx.client.delete_project(cx.key), mutates=True, confirm=True),
    ],
)

apks = Resource(
    name="apks",
    title="APKs",
    key="apk_id",
    aliases=("apk",),
    scope=PROJECT_SCOPE,
    columns=[Col("filename"), Col("status", width=14), Col("package"), Col("apk_id", "id", width=32),
             Col("testsource_id", "test source", width=32)],
    list=lambda cx: cx.client.get_apks(cx.scope),
    detail=lambda cx: cx.client.get_apk(cx.scope, cx.key),
    actions=[
        Action("n", "upload", lambda cx: cx.client.upload_apk(cx.scope, Path(cx.values["path"]).expanduser(),
                                                              progress=cx.progress),
               mutates=True, row=False, upload=True, form=Form("Upload an APK", [
                   Field("path", "APK file", type="file", required=True, validate=apk_file)])),
        Action("ctrl+d", "delete", lambda cx: cx.client.delete_apk(cx.scope, cx.key), mutates=True, confirm=True),
    ],
)

camera = Resource(
    name="camera",
    title="Camera files",
    key="camera_id",
    aliases=("camera_files",),
    scope=PROJECT_SCOPE,
    columns=[Col("filename"), Col("status", width=9), Col("camera_id", "id", width=32)],
    list=lambda cx: cx.client.get_camera_files(cx.scope),
    actions=[
        Action("n", "upload", lambda cx: cx.client.upload_camera_file(
            cx.scope, Path(cx.values["path"]).expanduser(), progress=cx.progress),
            mutates=True, row=False, upload=True, form=Form("Upload an image or movie", [
                Field("path", "file", type="file", required=True, validate=camera_file,
                      help="image or movie; converted by the server if needed")])),
        Action("ctrl+d", "delete", lambda cx: cx.client.delete_camera_file(cx.scope, cx.key), mutates=True,
               confirm=True),
    ],
)

testsources = Resource(
    name="testsources",
    title="Test sources",
    key="testsource_id",
    aliases=("testsource", "dsl"),
    scope=PROJECT_SCOPE,
    columns=[Col("filename"), Col("status", width=9), Col("apk_status", "apk", width=14),
             Col("testsource_id", "id", width=32), Col("apk_id", "apk id", width=32)],
    list=lambda cx: cx.client.get_testsources(cx.scope),
    detail=lambda cx: cx.client.get_testsource(cx.scope, cx.key),  # the DSL text
    actions=[
        Action("m", "metadata", lambda cx: cx.client.get_testsource_metadata(cx.scope, cx.key),
               show=lambda t: "\n".join(f"{k}: {v}" for k, v in t.raw.items())),
        Action("n", "upload", lambda cx: cx.client.upload_testsource(
            cx.scope, Path(cx.values["path"]).expanduser(), progress=cx.progress),
            mutates=True, row=False, upload=True, form=Form("Upload a test source", [
                Field("path", "DSL file", type="file", required=True, validate=dsl_file)])),
        Action("e", "replace", lambda cx: cx.client.replace_testsource(
            cx.scope, cx.key, Path(cx.values["path"]).expanduser(), progress=cx.progress),
            mutates=True, upload=True, form=Form("Replace the test source (file name too)", [
                Field("path", "DSL file", type="file", required=True, validate=dsl_file)])),
        Action("c", "compile", lambda cx: cx.client.compile_testsource(cx.scope, cx.key), mutates=True,
               follow=follow_compile),
        Action("ctrl+d", "delete", lambda cx: cx.client.delete_testsource(cx.scope, cx.key), mutates=True,
               confirm=True),
    ],
)

campaigns = Resource(
    name="campaigns",
    title="Campaigns",
    key="campaign_id",
    aliases=("campaign",),
    scope=PROJECT_SCOPE,
    columns=[Col("campaign_name", "name"), Col("status", width=8), Col("campaign_id", "id", width=32)],
    list=lambda cx: cx.client.get_campaigns(cx.scope),
    detail=lambda cx: cx.client.get_campaign(cx.scope, cx.key),
    log=follow_campaign,
    actions=[
        Action("v", "progress", lambda cx: cx.client.get_campaign(cx.scope, cx.key), screen=campaign_screen),
        Action("n", "new", create_campaign, mutates=True, row=False, form=Form("New campaign", [
            Field("campaign_name", "name", help="optional; generated when empty"),
            Field("images", type="multi", required=True, choices=image_choices, validate=at_least_one,
                  help="one test per image"),
            Field("apks", "APKs to install", type="multi", choices=scope_apk_choices),
            Field("packages", "packages under test", type="multi", choices=scope_package_choices),
            *hwconfig_fields(),
        ])),
        Action("ctrl+d", "delete", lambda cx: cx.client.delete_campaign(cx.scope, cx.key), mutates=True,
               confirm=True),
    ],
)

images = Resource(
    name="images",
    title="Android images",
    key="image",
    columns=[Col("image"), Col("android_version", "android", width=7)],
    list=lambda cx: cx.client.get_images(),
)

quota = Resource(
    name="quota",
    title="Quota",
    key="kind",
    columns=[Col("kind", width=6), Col("current", width=7), Col("max", width=4), Col("free", width=4)],
    list=quota_rows,
)

SERVICE = Service(
    name="kyaraben",
    title="kyaraben",
    client=Kyaraben,
    resources=[avms, projects, apks, camera, testsources, campaigns, images, quota],
    create_sim=sim.create_app,
    demo_fields={"user_id": sim.DEMO_USER},
    demo_secret=sim.DEMO_TOKEN,
    status=quota_status,
)
