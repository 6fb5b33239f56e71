"""kyaraben resource specs: validators, forms, follow feeds, quota pre-check, wiring."""

from __future__ import annotations

import pytest

from testdeck.errors import ApiError
from testdeck.resources import Accepted, Ctx, unwrap
from testdeck.services.kyaraben import sim, views
from testdeck.services.kyaraben.views import campaigns, common, files, quota, vms
from testdeck.services.kyaraben.client import Avm, Kyaraben


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.setattr(common, "FOLLOW_INTERVAL", 0)


def ticking(kb, client: Kyaraben, method: str, step: float) -> None:
    """Advance the simulator's clock by `step` before each call of `method` (a poll)."""
    real = getattr(client, method)

    async def call(*args, **kwargs):
        kb.clock.advance(step)
        return await real(*args, **kwargs)

    setattr(client, method, call)


async def collect(feed) -> list[list[str]]:
    return [batch async for batch in feed]


# --- validators ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, value, error", [
    ("width", 240, None), ("width", "1280", None), ("width", None, None), ("width", "", None),
    ("width", 239, "width must be at least 240 (the server's minimum)"),
    ("width", 0, "width must be a positive integer"), ("width", -800, "width must be a positive integer"),
    ("width", "-5", "width must be a positive integer"),
    ("width", "wide", "width must be a whole number"), ("width", 12.5, "width must be a whole number"),
    ("width", True, "width must be a whole number"), ("width", 10_001, "width must be at most 10000"),
    ("height", 240, None), ("height", 100, "height must be at least 240 (the server's minimum)"),
    ("dpi", 100, None), ("dpi", 99, "dpi must be at least 100 (the server's minimum)"),
])
def test_dimension(name, value, error):
    assert common.dimension(name)(value) == error


def test_the_hardware_fields_name_both_their_limits():
    """The help said `at least 240`; the 10,000 bound showed only as an error."""
    helps = {f.name: f.help for f in common.hwconfig_fields()}
    assert helps["width"] == "pixels, 240 to 10,000" and helps["dpi"] == "dots per inch, 100 to 10,000"


def test_small_validators(tmp_path):
    assert common.positive_int(5) is None and common.positive_int("7") is None
    assert common.positive_int(0) == "must be a positive integer"
    assert common.positive_int("x") == "must be a whole number"
    assert common.not_blank("a") is None and common.not_blank("  ") == "must not be blank"
    assert common.not_blank(None) == "must not be blank"
    assert common.at_least_one(["a"]) is None and common.at_least_one([]) == "choose at least one"
    apk = tmp_path / "app.apk"
    apk.write_bytes(b"PK")
    png = tmp_path / "p.PNG"
    png.write_bytes(b"x")
    assert common.apk_file(str(apk)) is None
    assert common.apk_file(str(png)) == "an APK file must end with .apk"
    assert common.apk_file(str(tmp_path / "gone.apk")).startswith("no such file")
    assert common.apk_file(str(tmp_path)) == f"{tmp_path} is a folder: give a file's path"  # a directory
    assert common.apk_file("") == "choose a file"
    assert common.camera_file(str(png)) is None
    assert common.camera_file(str(apk)).startswith("a camera file (image or movie) must end with")
    assert common.dsl_file(str(apk)) is None


# every custom validate function of every form, with a value it must accept and one it must refuse
VALIDATED = {
    ("avms", "new", "width"): (800, 100), ("avms", "new", "height"): (600, 0), ("avms", "new", "dpi"): (160, 50),
    ("avms", "rename", "avm_name"): ("totoro", " "),
    ("avms", "monkey", "packages"): (["com.a"], []), ("avms", "monkey", "event_count"): (100, 0),
    ("projects", "new", "project_name"): ("peace", ""), ("projects", "rename", "project_name"): ("q", "  "),
    ("apks", "upload", "path"): ("GOOD.apk", "BAD.txt"), ("camera", "upload", "path"): ("GOOD.png", "BAD.txt"),
    ("testsources", "upload", "path"): ("GOOD.aic", "MISSING"),
    ("testsources", "replace", "path"): ("GOOD.aic", "MISSING"),
    ("campaigns", "new", "images"): (["kitkat-tablet"], []),
    ("campaigns", "new", "campaign_name"): ("x" * 50, "x" * 51),
    ("avms", "follow command", "command_id"): ("a" * 32, " "),
    ("campaigns", "new", "width"): (800, 239), ("campaigns", "new", "height"): (600, -1),
    ("campaigns", "new", "dpi"): (160, "x"),
}


def test_every_custom_validator_accepts_and_refuses(tmp_path):
    for name in ("GOOD.apk", "GOOD.png", "GOOD.aic", "BAD.txt"):
        (tmp_path / name).write_bytes(b"PK data")

    found = {}
    for res in views.SERVICE.resources:
        for action in res.actions:
            for f in (action.form.fields if action.form else []):
                if f.validate is not None:
                    found[(res.name, action.label, f.name)] = f
    assert set(found) == set(VALIDATED)  # a new validator needs a line here
    for key, (good, bad) in VALIDATED.items():
        f = found[key]
        good_v = str(tmp_path / good) if key[2] == "path" else good
        bad_v = str(tmp_path / bad) if key[2] == "path" else bad
        assert f.validate(good_v) is None, key
        assert isinstance(f.validate(bad_v), str) and f.validate(bad_v), key


def test_forms_declare_required_fields_and_server_minimums():
    new = vms.avms.action("new").form
    fields = {f.name: f for f in new.fields}
    assert fields["project"].required and fields["project"].type == "choice"
    assert fields["image"].required and fields["image"].type == "choice"
    assert (fields["width"].type, fields["width"].min, fields["width"].default) == ("int", 240, 800)
    assert (fields["height"].min, fields["height"].default) == (240, 600)
    assert (fields["dpi"].min, fields["dpi"].default) == (100, 160)
    switches = {k: fields[k] for k in fields if k.startswith("enable_")}
    assert set(switches) == {k for k in sim.HW_DEFAULTS if k.startswith("enable_")}
    assert all(f.type == "bool" for f in switches.values())
    assert {k: f.default for k, f in switches.items()} == {k: bool(v) for k, v in sim.HW_DEFAULTS.items()
                                                            if k.startswith("enable_")}
    upload = files.apks.action("upload")
    assert upload.upload and upload.form.fields[0].type == "file" and upload.mutates


def test_hwconfig_from_form_values():
    values = {"width": "1280", "height": 800, "dpi": None, "enable_gps": False, "enable_nfc": True,
              "enable_record": "yes", "other": 1}
    assert common.hwconfig_from(values) == {"width": 1280, "height": 800, "enable_gps": 0, "enable_nfc": 1,
                                           "enable_record": 1}


def test_build_tests_one_per_image():
    tests = campaigns.build_tests({"images": ["kitkat-tablet", ("lollipop-phone", "lollipop-phone (Android 5)")],
                               "apks": ["a" * 32], "packages": "com.a, com.b", "width": 1024})
    assert [t["image"] for t in tests] == ["kitkat-tablet", "lollipop-phone"]
    assert tests[0] == {"image": "kitkat-tablet", "hwconfig": {"width": 1024}, "apks": ["a" * 32],
                        "packages": ["com.a", "com.b"]}


# --- actions against the simulator ------------------------------------------------------------------------------

async def make_room(kb, api) -> None:
    """Delete the seeded ERROR VM: the demo user starts with the quota full (ERROR counts)."""
    await api.delete_avm(kb.vm_named("nightly"))
    kb.clock.advance(sim.world.VM_DELETING_S)


async def test_create_avm_action_sends_the_form(kb, api):
    await make_room(kb, api)
    values = {"project": kb.seed["project_b"], "image": "kitkat-phone", "avm_name": " phone ",
              "width": 480, "height": 800, "dpi": 240, "enable_sensors": True, "enable_battery": False,
              "enable_gps": True, "enable_camera": False, "enable_record": False, "enable_gsm": True,
              "enable_nfc": True}
    accepted = await vms.avms.action("new").call(Ctx(api, values=values))
    assert isinstance(accepted, Accepted) and accepted.state.startswith("VM 'phone' is QUEUED; ")  # not done
    vm = await api.get_avm(accepted.result)
    assert (vm.avm_name, vm.image, vm.project_id) == ("phone", "kitkat-phone", kb.seed["project_b"])
    assert vm.hwconfig == {"width": 480, "height": 800, "dpi": 240, "enable_sensors": 1, "enable_battery": 0,
                           "enable_gps": 1, "enable_camera": 0, "enable_record": 0, "enable_gsm": 1,
                           "enable_nfc": 1}


async def test_create_avm_action_checks_the_quota_before_sending(kb, api):
    before = len(kb.state.avms)  # 3/3: READY, QUEUED, ERROR
    with pytest.raises(ApiError) as exc:
        await vms.avms.action("new").call(Ctx(api, values={"project": kb.seed["project_a"],
                                                            "image": "kitkat-tablet"}))
    assert exc.value.status is None
    assert exc.value.message.startswith("quota reached: 3 of 3 VMs (1 ERROR, 1 READY, 1 QUEUED). Every VM not yet "
                                        "DELETED counts, ERROR and DELETING ones too")
    assert "a QUEUED VM cannot be deleted until it starts" in exc.value.message
    assert len(kb.state.avms) == before


async def test_choices(kb, api):
    row = Avm.from_api({"avm_id": kb.vm_named("first vm"), "project_id": kb.seed["project_a"]})
    cx = Ctx(api, row=row, key=row.avm_id)
    assert await common.project_options(cx) == [(kb.seed["project_a"], "demo-app"),
                                               (kb.seed["project_b"], "regression")]
    assert ("kitkat-tablet", "kitkat-tablet (Android 4)") in await common.image_choices(cx)
    apks = dict(await vms.vm_apk_choices(cx))
    assert apks[kb.seed["apk_2048"]] == "com.uberspot.a2048_23.apk (com.uberspot.a2048)"
    assert all(a in kb.state.apks for a in apks)
    assert len(apks) == 4  # READY only: the ERROR-compiled one is left out
    assert await vms.vm_package_choices(cx) == ["com.example.android.apis", "com.android.gesture.builder"]
    assert [k for k, _ in await vms.vm_testrun_choices(cx)] == [
        "com.example.android.apis/.app.LocalSampleInstrumentation"]
    # without a row (describe ID), the VM is fetched
    assert dict(await vms.vm_apk_choices(Ctx(api, key=row.avm_id))) == apks
    scoped = Ctx(api, scope=kb.seed["project_a"])
    assert "com.uberspot.a2048" in await campaigns.scope_package_choices(scoped)
    assert len(await campaigns.scope_apk_choices(scoped)) == 4


async def test_follow_install_yields_new_lines_then_status(kb, api, fast):
    avm_id = kb.vm_named("first vm")
    action = vms.avms.action("install APK")
    cx = Ctx(api, key=avm_id, values={"apk_id": kb.seed["apk_2048"]})
    command_id = await action.call(cx)
    ticking(kb, api, "get_command", 0.5)
    batches = await collect(action.follow(cx, command_id))
    lines = [line for batch in batches for line in batch]
    assert lines[0] == f"command {command_id} on VM {avm_id}"
    assert lines[1:3] == ["-- QUEUED", "-- RUNNING"]
    assert lines[3:] == [f"pkg: /data/local/tmp/{kb.seed['apk_2048']}.apk", "Success",
                         lines[5], "-- READY, return code 0"]
    assert lines[5].startswith("stderr: ") and "KB/s" in lines[5]


async def test_follow_monkey_stdout_arrives_once_in_order(kb, api, fast):
    avm_id = kb.vm_named("first vm")
    action = vms.avms.action("monkey")
    cx = Ctx(api, key=avm_id, values={"packages": ["com.example.android.apis"], "event_count": "40"})
    command_id = await action.call(cx)
    ticking(kb, api, "get_command", 0.4)
    batches = await collect(action.follow(cx, command_id))
    assert len(batches) > 4  # it grew over several polls
    lines = [line for batch in batches for line in batch]
    [final] = await api.get_command(avm_id, command_id)
    body = [line for line in lines[1:] if not line.startswith("-- ")]
    assert body == final.stdout.splitlines()  # every line once, in order
    assert lines[-1] == "-- READY, return code 0"


async def test_follow_failed_testrun_ends_with_error_and_code(kb, api, fast):
    action = vms.avms.action("testrun")
    cx = Ctx(api, key=kb.vm_named("first vm"), values={"package": "com.nope"})
    command_id = await action.call(cx)
    ticking(kb, api, "get_command", 1)
    lines = [line for batch in await collect(action.follow(cx, command_id)) for line in batch]
    assert lines[-1] == "-- ERROR, return code 1"
    assert any("INSTRUMENTATION_FAILED: com.nope" in line for line in lines)


async def test_follow_unknown_command_gives_up_with_an_error(kb, api, fast):
    """An error, not a last line: `testdeck logs avms VM --command X -f` exited 0 on it."""
    cx = Ctx(api, key=kb.vm_named("first vm"))
    with pytest.raises(ApiError, match="no such command"):
        await collect(vms.follow_command(cx, "0" * 32))
    assert api.health.last_error is None  # the server answered: it has no such command


async def test_compile_action_watches_apk_status(kb, api, fast):
    pid = kb.seed["project_a"]
    sid = next(s for s in await api.get_testsources(pid) if s.filename == "test2.aic").testsource_id
    action = files.testsources.action("compile")
    cx = Ctx(api, scope=pid, key=sid)
    apk_id = await action.call(cx)
    ticking(kb, api, "get_testsource_metadata", 0.5)
    lines = [line for batch in await collect(action.follow(cx, apk_id)) for line in batch]
    assert lines == [f"compiling test source {sid} to APK {apk_id}", "-- QUEUED", "-- COMPILING DSL",
                     "-- COMPILING JAVA", f"-- READY (apk {apk_id})"]


async def test_campaign_log_and_progress_view(kb, api, fast):
    pid, cid = kb.seed["project_a"], kb.campaign_named("brave-small-otter")
    cx = Ctx(api, scope=pid, key=cid)
    ticking(kb, api, "get_campaign", 1)
    lines = [line for batch in await collect(campaigns.campaigns.log(cx)) for line in batch]
    assert lines[0].startswith("-- RUNNING")
    assert "#4 com.missing.app: ERROR" in lines
    assert lines[-1] == "-- campaign ERROR, progress 86%"
    assert campaigns.campaigns.action("progress").screen is campaigns.campaign_screen  # the live view (test_ui)
    text = campaigns.show_campaign(await api.get_campaign(pid, kb.campaign_named("lovely-big-cobra")))
    assert "#" * 30 + " 100.0%" in text and "#1 READY" in text and "OK (2 tests)" in text


async def test_show_functions(kb, api):
    avm_id = kb.vm_named("first vm")
    props = await vms.avms.action("properties").call(Ctx(api, key=avm_id))
    assert vms.avms.action("properties").screen is vms.properties_screen  # searchable (test_ui)
    assert "wifi.interface = eth1" in vms.property_lines(props)
    assert vms.property_lines({}) == ["(no properties: the VM is not READY)"]
    pk = vms.avms.action("packages")
    assert pk.screen is vms.packages_screen
    assert vms.show_packages(await pk.call(Ctx(api, key=avm_id))).splitlines()[0] == "com.example.android.apis"
    totp_action = vms.avms.action("TOTP")
    assert totp_action.screen is vms.totp_screen and totp_action.show is None
    totp = await totp_action.call(Ctx(api, key=avm_id))
    assert len(totp.totp) == 6 and totp.totp in vms.show_totp(totp)
    assert 0 <= totp.seconds_left() <= 30
    assert vms.Totp(totp="1", generated_at=1_000_000_005.0).seconds_left(1_000_000_010.0) == 10


async def test_status_and_quota_rows(kb, api):
    assert await views.SERVICE.status(api) == "VMs 3/3 live FULL, 1/1 async"
    rows = await quota.quota.list(Ctx(api))
    assert [(r.kind, r.current, r.max, r.free) for r in rows] == [("live", 3, 3, 0), ("async", 1, 1, 0)]
    assert rows[0].counts == "your VMs not DELETED, in any state: 1 ERROR, 1 READY, 1 QUEUED"
    await make_room(kb, api)
    assert await views.SERVICE.status(api) == "VMs 2/3 live, 1/1 async"


async def test_every_resource_lists_and_columns_resolve(kb, api):
    pid = kb.seed["project_a"]
    expected = {"avms": 3, "projects": 2, "apks": 5, "camera": 2, "testsources": 3, "campaigns": 2,
                "images": 4, "quota": 2}
    for res in views.SERVICE.resources:
        cx = Ctx(api, scope=pid if res.scope else None)
        rows = await res.list(cx)
        assert len(rows) == expected[res.name], res.name
        for row in rows:
            assert res.row_key(row) not in ("", "None"), res.name
            for col in res.columns:
                assert col.key in row.raw or col.key in row.__struct_fields__, (res.name, col.key)
                col.cell(row)
        if res.detail:
            detail = await res.detail(Ctx(api, scope=cx.scope, key=res.row_key(rows[0]), row=rows[0]))
            assert detail
    assert {r.name for r in views.SERVICE.resources if r.scope} == {"apks", "camera", "testsources", "campaigns"}


async def test_upload_action_reports_progress(kb, api, tmp_path):
    path = tmp_path / "big_1.apk"
    path.write_bytes(b"PK" + b"x" * 200_000)
    seen = []
    action = files.apks.action("upload")
    apk_id = unwrap(await action.call(Ctx(api, scope=kb.seed["project_a"], values={"path": str(path)},
                                          progress=lambda s, t: seen.append((s, t)))))
    assert apk_id in kb.state.apks and seen[-1][0] == seen[-1][1]


async def test_campaign_create_action(kb, api):
    pid = kb.seed["project_a"]
    values = {"campaign_name": "", "images": ["kitkat-tablet", "kitkat-phone"], "apks": [kb.seed["apk_apis"]],
              "packages": ["com.example.android.apis"], "width": 800, "height": 600, "dpi": 160}
    cid = unwrap(await campaigns.campaigns.action("new").call(Ctx(api, scope=pid, values=values)))
    c = await api.get_campaign(pid, cid)
    assert [t.image for t in c.test_records] == ["kitkat-tablet", "kitkat-phone"]
    with pytest.raises(ApiError, match="choose at least one image"):
        await campaigns.campaigns.action("new").call(Ctx(api, scope=pid, values={"images": []}))


def test_service_wiring():
    s = views.SERVICE
    assert s.client is Kyaraben and s.create_sim is sim.create_app
    assert s.demo_fields == {"user_id": "marco"} and s.demo_secret == sim.DEMO_TOKEN
    assert s.resource("vms") is vms.avms and s.resource("campaign") is campaigns.campaigns
    for res in s.resources:
        keys = [a.key for a in res.actions]
        assert len(keys) == len(set(keys)), res.name
        for a in res.actions:
            if a.label == "delete":
                assert a.confirm and a.mutates and a.key == "ctrl+d" and a.bulk
    # one scope shared by every project-scoped resource: the project chosen once carries across them
    scoped = [r for r in s.resources if r.scope]
    assert {r.name for r in scoped} == {"apks", "camera", "testsources", "campaigns"}
    assert {id(r.scope) for r in scoped} == {id(common.PROJECT_SCOPE)} and common.PROJECT_SCOPE.name == "project"
    assert vms.avms.label == "avm_name" and vms.avms.drill == "log" and s.resource("projects").drill == "apks"


def test_status_meanings_and_the_reason_column():
    status = next(c for c in vms.avms.columns if c.key == "status")
    meaning = {st: status.meaning(Avm(raw={"status": st}, status=st)) for st in
               ("READY", "QUEUED", "CREATING", "ERROR", "DELETING", "SOMETHING NEW")}
    assert meaning == {"READY": "ok", "QUEUED": "running", "CREATING": "running", "ERROR": "error",
                       "DELETING": "muted", "SOMETHING NEW": None}
    assert status.reason == "status_reason"  # ERROR's reason in the status cell, seen at 80 columns too
    for res in (campaigns.campaigns, files.apks, views.SERVICE.resource("projects")):
        col = next(c for c in res.columns if c.key == "status")
        assert col.status is common.STATUS, res.name


def test_failing_declarations():
    avm, campaign = views.SERVICE.failing
    bad = Avm.from_api({"avm_id": "a" * 32, "avm_name": "nightly", "status": "ERROR",
                        "status_reason": "No valid host", "status_ts": "2026-01-01T00:00:00Z"})
    good = Avm.from_api({"avm_id": "b" * 32, "status": "READY"})
    assert avm.resource == "avms" and avm.when(bad) and not avm.when(good)
    assert (avm.what(bad), avm.message(bad), avm.since(bad)) == ("VM nightly", "No valid host",
                                                                 "2026-01-01T00:00:00Z")
    assert campaign.resource == "campaigns" and campaign.when(Avm.from_api({"status": "ERROR"}))


async def test_follow_holds_back_a_partial_line_until_it_is_complete(fast):
    from testdeck.config import Profile
    from testdeck.services.kyaraben.client import CommandResult

    answers = iter([
        {"status": "RUNNING", "returncode": "", "stdout": "one\ntw", "stderr": ""},
        {"status": "RUNNING", "returncode": "", "stdout": "one\ntwo\nthr", "stderr": "warn"},
        {"status": "ERROR", "returncode": "3", "stdout": "one\ntwo\nthree", "stderr": "warn\nboom"},
    ])

    class Fake:
        profile = Profile("f", "kyaraben", "http://x")

        async def get_command(self, avm_id, command_id):
            return [CommandResult.from_api(next(answers))]

    batches = await collect(vms.follow_command(Ctx(Fake(), key="vm"), "cmd"))
    assert batches == [["command cmd on VM vm"], ["-- RUNNING", "one"], ["two"],
                       ["three", "stderr: warn", "stderr: boom", "-- ERROR, return code 3"]]


async def test_vm_list_carries_the_error_reason_and_the_vm_log_shows_its_commands(kb, api, fast):
    rows = {v.avm_name: v for v in await vms.avms.list(Ctx(api))}
    assert "Quota exceeded for instances" in rows["nightly"].status_reason  # the list alone has no reason
    assert rows["first vm"].status_reason == ""
    key = kb.vm_named("first vm")
    lines = [line for batch in await collect(vms.avms.log(Ctx(api, key=key))) for line in batch]
    assert lines[0] == f"VM first vm ({key}) READY"
    assert lines[-1].startswith("no command sent to this VM from this console")
    ticking(kb, api, "get_command", 1.0)
    cid = await vms.avms.action("install APK").call(Ctx(api, key=key, values={"apk_id": kb.seed["apk_2048"]}))
    lines = [line for batch in await collect(vms.avms.log(Ctx(api, key=key))) for line in batch]
    assert f"command {cid} on VM {key}" in lines and lines[-1] == "-- READY, return code 0"


async def test_a_reason_or_quota_that_cannot_be_read_leaves_the_profile_healthy(sim_server):
    """The VM list was read, but the detail read for an ERROR VM's reason (or the quota) failed: the
    status bar read `✖ error` with no STALE line, for a table read a second ago."""
    from tests.kyaraben.conftest import Clock, Kb

    url, app, config = sim_server(sim.create_app, clock=Clock())
    box = Kb(url, app, Clock())
    client = box.client()
    try:
        broken = next(v.avm_id for v in await client.get_avms() if v.status == "ERROR")
        config.fail_paths.update({f"GET /android/{broken}", "GET /user/quota"})
        rows = await vms.avms.list(Ctx(client))
        assert any(r.__dict__.get("_reason_unread") for r in rows)
        assert client.health.ok is True
        assert "quota not read" in str(await quota.quota_status(client))
        assert client.health.ok is True
    finally:
        await client.aclose()
