"""kyaraben adapter: Android VMs, projects, APKs, camera files, test sources, campaigns.

Auth: the profile's `user_id` goes in `X-Auth-UserId` on every request; a
profile secret, when set, goes as `Authorization: Bearer <secret>` (for a
kyaraben behind an authenticating proxy). The server answers 404 both for
what does not exist and for what belongs to another user; every 404 naming a
resource says so. `hint` adds what the user can do to the server's words
(a bare 500, the quota refusal, a schema error's field).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from testdeck.errors import ApiError, ReadOnlyError
from testdeck.http import ApiClient, path
from testdeck.records import Record

HWCONFIG_KEYS = ("width", "height", "dpi", "enable_sensors", "enable_battery", "enable_gps", "enable_camera",
                 "enable_record", "enable_gsm", "enable_nfc")
# the server's facts (its document's examples and what it answered): the hwconfig a VM gets by
# default, the camera files it converts or takes, the longest campaign name it accepts
HW_DEFAULTS = {"width": 800, "height": 600, "dpi": 160, "enable_sensors": 1, "enable_battery": 1,
               "enable_gps": 1, "enable_camera": 1, "enable_record": 0, "enable_gsm": 1, "enable_nfc": 0}
MOVIE_EXT = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".3gp")
IMAGE_EXT = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")
CAMPAIGN_NAME_MAX = 50  # longer: 400 `campaign_name too long (max 50)`
FINAL_COMMAND = ("READY", "ERROR")


class Avm(Record):
    avm_id: str = ""
    avm_name: str = ""
    avm_owner: str = ""
    campaign_id: str = ""
    image: str = ""
    project_id: str = ""
    status: str = ""
    status_reason: str = ""
    status_ts: str = ""
    ts_created: str = ""
    uptime: float = 0.0
    hwconfig: dict = msgspec.field(default_factory=dict)


class CommandResult(Record):
    returncode: str = ""
    status: str = ""
    stderr: str = ""
    stdout: str = ""

    @property
    def finished(self) -> bool:
        return self.status in FINAL_COMMAND


class Image(Record):
    image: str = ""
    android_version: int = 0


class Project(Record):
    project_id: str = ""
    project_name: str = ""
    status: str = ""
    status_reason: str = ""
    status_ts: str = ""
    count_avms: int = 0
    sum_avms_uptime: float = 0.0


class Apk(Record):
    apk_id: str = ""
    filename: str = ""
    package: str = ""
    project_id: str = ""
    status: str = ""
    status_reason: str = ""
    testsource_id: str = ""


class CameraFile(Record):
    camera_id: str = ""
    filename: str = ""
    project_id: str = ""
    status: str = ""


class TestSource(Record):
    __test__ = False  # not a pytest class

    testsource_id: str = ""
    filename: str = ""
    project_id: str = ""
    status: str = ""
    apk_id: str = ""
    apk_status: str = ""
    apk_status_reason: str = ""


class CampaignTest(Record):
    image: str = ""
    package: str = ""
    status: str = ""
    stdout: str = ""
    hwconfig: dict = msgspec.field(default_factory=dict)


class Campaign(Record):
    campaign_id: str = ""
    campaign_name: str = ""
    project_id: str = ""
    status: str = ""  # in lists
    campaign_status: str = ""  # in details
    progress: float = 0.0
    tests: list = msgspec.field(default_factory=list)

    @property
    def state(self) -> str:
        return self.campaign_status or self.status

    @property
    def test_records(self) -> list[CampaignTest]:
        return CampaignTest.many(self.tests)


class Quota(Record):
    vm_async_current: int = 0
    vm_async_max: int = 0
    vm_live_current: int = 0
    vm_live_max: int = 0

    @property
    def live_full(self) -> bool:
        return self.vm_live_max > 0 and self.vm_live_current >= self.vm_live_max


BARE_404 = "404: Not Found"  # aiohttp's text when a handler raises a 404 without words
OWNED_404 = re.compile(r"^(Project|AVM|APK|Camera file|Testsource|Test source|Campaign) '.*' not found$")
IMAGE_404 = re.compile(r"^Image .* not found$")


def hint(err: ApiError, user_id: str) -> str:
    """What to add to the server's words so the user knows what happened and what to do."""
    message = err.message.strip()
    if err.status == 404 and OWNED_404.match(message):
        return f" (not found, or not visible to user {user_id or '?'})"
    if err.status == 404 and IMAGE_404.match(message):
        return " (no such image on this server: see the images list)"
    if err.status == 401 and not user_id:
        return " (the profile has no user_id)"
    if err.status == 400 and message.startswith("Too many vms"):
        return " (every VM not yet DELETED counts, ERROR and DELETING ones too: see the quota)"
    if err.status == 400:
        where = re.search(r"^On instance((?:\[[^\]]*\])+):", err.detail, re.M)
        if where:
            dotted = ".".join(re.findall(r"\['?([^'\]]*)'?\]", where.group(1)))
            return f" (at {dotted})"
    if err.status == 500:
        # the real server's bare 500s: a write missing a field a handler reads, and a VM's
        # packages, test runs or installs while the VM is not READY (reads included)
        causes = [c for c, applies in (("a request lacks a field it needs", err.method != "GET"),
                                       ("the VM is not READY", "/android/" in err.path)) if applies]
        if not causes:
            return " (the server failed without saying why: ask an administrator for the server log)"
        return (f" (the server failed without saying why; kyaraben does this when {' or '.join(causes)}: "
                f"check and retry, or ask an administrator for the server log)")
    return ""


def _obj(payload: Any, key: str | None = None) -> Any:
    if not isinstance(payload, dict):
        return {} if key else payload
    return payload.get(key) if key else payload


class Kyaraben(ApiClient):
    service = "kyaraben"

    @property
    def user_id(self) -> str:
        return str(self.profile.fields.get("user_id") or "").strip()

    def default_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.user_id:
            headers["X-Auth-UserId"] = self.user_id
        if self._secret:
            headers["Authorization"] = f"Bearer {self._secret}"
        return headers

    async def request(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            return await super().request(method, url, **kwargs)
        except ReadOnlyError:
            raise
        except ApiError as err:
            err.message += hint(err, self.user_id)
            raise

    async def ping(self) -> str:
        return f"user {await self.whoami()}"

    # --- user, images ------------------------------------------------------------------
    async def whoami(self) -> str:
        user = _obj(await self.request("GET", "/user/whoami"), "user")
        return str(user.get("userid", "")) if isinstance(user, dict) else ""

    async def get_quota(self) -> Quota:
        return Quota.from_api(_obj(await self.request("GET", "/user/quota"), "quota"))

    async def get_images(self) -> list[Image]:
        return Image.many(_obj(await self.request("GET", "/images"), "images"))

    # --- Android VMs --------------------------------------------------------------------------
    async def get_avms(self) -> list[Avm]:
        return Avm.many(_obj(await self.request("GET", "/android"), "avms"))

    async def get_avm(self, avm_id: str) -> Avm:
        return Avm.from_api(_obj(await self.request("GET", path("/android/{}", avm_id)), "avm"))

    async def create_avm(self, project_id: str, image: str, avm_name: str | None = None,
                         hwconfig: dict[str, Any] | None = None) -> str:
        body: dict[str, Any] = {"project_id": project_id, "image": image}
        if avm_name:
            body["avm_name"] = avm_name
        if hwconfig:
            body["hwconfig"] = hwconfig
        return str(_obj(await self.request("POST", "/android", json_body=body), "avm_id") or "")

    async def rename_avm(self, avm_id: str, avm_name: str) -> None:
        await self.request("PUT", path("/android/{}", avm_id), json_body={"avm_name": avm_name}, expect="none")

    async def delete_avm(self, avm_id: str) -> None:
        """Asynchronous: the VM shows DELETING until it is gone.

        A VM with no stack yet (QUEUED, or failed before its stack was made) cannot be
        deleted: the server answers a bare 404 while the VM is still there; say so."""
        try:
            await self.request("DELETE", path("/android/{}", avm_id), expect="none")
        except ApiError as err:
            if err.status != 404 or err.message.strip() != BARE_404:
                raise
            try:
                vm = await self.get_avm(avm_id)
            except ApiError:
                raise err from None
            err.message = (f"VM {vm.avm_name or avm_id} exists ({vm.status}) but the server cannot delete it "
                           "yet: it has no stack (a VM gets one when it starts CREATING). Wait until it has "
                           "started, or ask an administrator to remove it. (server: 404: Not Found)")
            raise

    async def get_avm_packages(self, avm_id: str) -> list[str]:
        packages = _obj(await self.request("GET", path("/android/{}/apk", avm_id)), "packages")
        return [str(p) for p in packages] if isinstance(packages, list) else []

    async def get_command(self, avm_id: str, command_id: str) -> list[CommandResult]:
        """An unknown command id answers an empty list, not a 404."""
        payload = await self.request("GET", path("/android/{}/command/{}", avm_id, command_id))
        return CommandResult.many(_obj(payload, "results"))

    async def get_properties(self, avm_id: str) -> dict[str, str]:
        props = _obj(await self.request("GET", path("/android/{}/properties", avm_id)), "properties")
        return {str(k): "" if v is None else str(v) for k, v in props.items()} if isinstance(props, dict) else {}

    async def get_testrun_packages(self, avm_id: str) -> dict[str, str]:
        """{instrumentation (package/runner): target package} of the test packages installed."""
        packages = _obj(await self.request("GET", path("/android/{}/testrun", avm_id)), "packages")
        return {str(k): str(v) for k, v in packages.items()} if isinstance(packages, dict) else {}

    async def get_totp(self, avm_id: str) -> str:
        return str(_obj(await self.request("GET", path("/android/{}/totp", avm_id)), "totp") or "")

    async def install_apk(self, avm_id: str, apk_id: str) -> str:
        """Returns the command id to follow with get_command."""
        payload = await self.request("POST", path("/android/{}/apk/{}", avm_id, apk_id))
        return str(_obj(payload, "command_id") or "")

    async def run_monkey(self, avm_id: str, packages: list[str], event_count: int) -> str:
        body = {"packages": list(packages), "event_count": int(event_count)}
        return str(_obj(await self.request("POST", path("/android/{}/monkey", avm_id), json_body=body),
                        "command_id") or "")

    async def run_testrun(self, avm_id: str, package: str) -> str:
        payload = await self.request("POST", path("/android/{}/testrun", avm_id), json_body={"package": package})
        return str(_obj(payload, "command_id") or "")

    # --- projects --------------------------------------------------------------------------------
    async def get_projects(self) -> list[Project]:
        return Project.many(_obj(await self.request("GET", "/projects"), "projects"))

    async def get_project(self, project_id: str) -> Project:
        return Project.from_api(_obj(await self.request("GET", path("/projects/{}", project_id)), "project"))

    async def create_project(self, project_name: str) -> str:
        payload = await self.request("POST", "/projects", json_body={"project_name": project_name})
        return str(_obj(payload, "project_id") or "")

    async def rename_project(self, project_id: str, project_name: str) -> None:
        await self.request("PUT", path("/projects/{}", project_id), json_body={"project_name": project_name},
                           expect="none")

    async def delete_project(self, project_id: str) -> None:
        """Refused (409) while the project has active VMs or campaigns."""
        await self.request("DELETE", path("/projects/{}", project_id), expect="none")

    # --- APKs ---------------------------------------------------------------------------------------
    async def get_apks(self, project_id: str) -> list[Apk]:
        return Apk.many(_obj(await self.request("GET", path("/projects/{}/apk", project_id)), "apks"))

    async def get_apk(self, project_id: str, apk_id: str) -> Apk:
        return Apk.from_api(_obj(await self.request("GET", path("/projects/{}/apk/{}", project_id, apk_id)), "apk"))

    async def upload_apk(self, project_id: str, file_path: str | Path,
                         progress: Callable[[int, int], None] | None = None) -> str:
        payload = await self.upload("POST", path("/projects/{}/apk", project_id), file_path, progress=progress)
        return str(_obj(payload, "apk_id") or "")

    async def delete_apk(self, project_id: str, apk_id: str) -> None:
        await self.request("DELETE", path("/projects/{}/apk/{}", project_id, apk_id), expect="none")

    # --- camera files -----------------------------------------------------------------------------------
    async def get_camera_files(self, project_id: str) -> list[CameraFile]:
        payload = await self.request("GET", path("/projects/{}/camera", project_id))
        return CameraFile.many(_obj(payload, "camera_files"))

    async def upload_camera_file(self, project_id: str, file_path: str | Path,
                                 progress: Callable[[int, int], None] | None = None) -> str:
        payload = await self.upload("POST", path("/projects/{}/camera", project_id), file_path, progress=progress)
        return str(_obj(payload, "camera_file_id") or "")

    async def delete_camera_file(self, project_id: str, camera_file_id: str) -> None:
        await self.request("DELETE", path("/projects/{}/camera/{}", project_id, camera_file_id), expect="none")

    # --- test sources ---------------------------------------------------------------------------------------
    async def get_testsources(self, project_id: str) -> list[TestSource]:
        payload = await self.request("GET", path("/projects/{}/testsources", project_id))
        return TestSource.many(_obj(payload, "testsources"))

    async def get_testsource(self, project_id: str, testsource_id: str) -> str:
        """The DSL text."""
        return await self.request("GET", path("/projects/{}/testsources/{}", project_id, testsource_id),
                                  expect="text")

    async def get_testsource_metadata(self, project_id: str, testsource_id: str) -> TestSource:
        payload = await self.request("GET", path("/projects/{}/testsources/{}/metadata", project_id, testsource_id))
        return TestSource.from_api(_obj(payload, "testsource"))

    async def upload_testsource(self, project_id: str, file_path: str | Path,
                                progress: Callable[[int, int], None] | None = None) -> str:
        payload = await self.upload("POST", path("/projects/{}/testsources", project_id), file_path, progress=progress)
        return str(_obj(payload, "testsource_id") or "")

    async def replace_testsource(self, project_id: str, testsource_id: str, file_path: str | Path,
                                 progress: Callable[[int, int], None] | None = None) -> None:
        await self.upload("PUT", path("/projects/{}/testsources/{}", project_id, testsource_id), file_path,
                          progress=progress, expect="none")

    async def compile_testsource(self, project_id: str, testsource_id: str) -> str:
        """Starts compiling to an APK; returns its apk_id (watch the test source's apk_status)."""
        payload = await self.request("POST", path("/projects/{}/testsources/{}/apk", project_id, testsource_id))
        return str(_obj(payload, "apk_id") or "")

    async def delete_testsource(self, project_id: str, testsource_id: str) -> None:
        await self.request("DELETE", path("/projects/{}/testsources/{}", project_id, testsource_id), expect="none")

    # --- campaigns ------------------------------------------------------------------------------------------------
    async def get_campaigns(self, project_id: str) -> list[Campaign]:
        return Campaign.many(_obj(await self.request("GET", path("/projects/{}/campaigns", project_id)), "campaigns"))

    async def get_campaign(self, project_id: str, campaign_id: str) -> Campaign:
        payload = await self.request("GET", path("/projects/{}/campaigns/{}", project_id, campaign_id))
        return Campaign.from_api(_obj(payload, "campaign"))

    async def create_campaign(self, project_id: str, tests: list[dict[str, Any]],
                              campaign_name: str | None = None) -> str:
        """tests: [{"image", "hwconfig", "apks": [apk_id...], "packages": [package...]}, ...]"""
        body: dict[str, Any] = {"tests": tests}
        if campaign_name:
            body["campaign_name"] = campaign_name
        payload = await self.request("POST", path("/projects/{}/campaigns", project_id), json_body=body)
        return str(_obj(payload, "campaign_id") or "")

    async def delete_campaign(self, project_id: str, campaign_id: str) -> None:
        await self.request("DELETE", path("/projects/{}/campaigns/{}", project_id, campaign_id), expect="none")
