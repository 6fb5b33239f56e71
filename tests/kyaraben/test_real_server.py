"""The simulator answers what the real kyaraben answers (../shared/real-servers/kyaraben.md, call by call),
and the adapter turns those answers into something a user can act on.

Each test names the real server's answer it asserts; on the simulator before
issue #12 every one of them failed.
"""

from __future__ import annotations

import re

import httpx
import pytest

from testdeck.errors import ApiError
from testdeck.services.kyaraben import sim

NOT_YOURS = "(not found, or not visible to user marco)"
JSON = "application/json; charset=utf-8"


@pytest.fixture
async def raw(kb):
    async with httpx.AsyncClient(base_url=kb.url, headers={"X-Auth-UserId": sim.DEMO_USER}) as client:
        yield client


async def failure(call) -> ApiError:
    with pytest.raises(ApiError) as exc:
        await call
    return exc.value


# --- VMs: quota -------------------------------------------------------------------------------------------

async def test_quota_counts_every_vm_not_deleted_and_async_max_is_1(kb, api):
    # seeded: 1 READY, 1 QUEUED, 1 ERROR: the real server counts all three
    q = await api.get_quota()
    assert (q.vm_live_current, q.vm_live_max, q.vm_async_max) == (3, 3, 1)
    assert q.live_full
    await api.delete_avm(kb.vm_named("first vm"))  # DELETING still counts
    assert (await api.get_quota()).vm_live_current == 3
    kb.clock.advance(sim.world.VM_DELETING_S)
    assert (await api.get_quota()).vm_live_current == 2  # gone once DELETED


async def test_over_quota_is_400_too_many_vms_with_what_counts(kb, api, raw):
    pid = kb.seed["project_a"]
    r = await raw.post("/android", json={"project_id": pid, "image": "kitkat-tablet"})
    assert (r.status_code, r.text) == (400, "Too many vms, max allowed is 3")
    assert r.headers["content-type"].startswith("text/plain")
    err = await failure(api.create_avm(pid, "kitkat-tablet"))
    assert err.message.startswith("Too many vms, max allowed is 3 (every VM not yet DELETED counts, ERROR and "
                                  "DELETING ones too")


# --- VMs: create -------------------------------------------------------------------------------------------

async def test_switch_values_other_than_0_and_1_are_accepted(kb, api):
    await api.delete_avm(kb.vm_named("nightly"))
    kb.clock.advance(sim.world.VM_DELETING_S)
    avm_id = await api.create_avm(kb.seed["project_a"], "kitkat-tablet", hwconfig={"enable_gps": 5})
    assert (await api.get_avm(avm_id)).hwconfig["enable_gps"] == 5


async def test_unknown_image_is_404_image_not_found_with_a_hint_not_visibility(kb, api):
    await api.delete_avm(kb.vm_named("nightly"))
    kb.clock.advance(sim.world.VM_DELETING_S)
    err = await failure(api.create_avm(kb.seed["project_a"], "no-such-image"))
    assert err.status == 404
    assert err.message == "Image no-such-image not found (no such image on this server: see the images list)"
    assert "visible" not in err.message
    assert len(await api.get_avms()) == 2  # nothing created


async def test_a_vm_created_without_a_name_gets_a_three_word_name(kb, api):
    await api.delete_avm(kb.vm_named("nightly"))
    kb.clock.advance(sim.world.VM_DELETING_S)
    avm_id = await api.create_avm(kb.seed["project_a"], "kitkat-phone")
    assert re.fullmatch(r"[a-z]+-[a-z]+-[a-z]+", (await api.get_avm(avm_id)).avm_name)


async def test_uptime_of_a_vm_never_started_is_zero(kb, api):
    vm = await api.get_avm(kb.vm_named("phone-ci"))  # QUEUED
    assert vm.uptime == 0.0
    assert (await api.get_avm(kb.vm_named("nightly"))).uptime == 0.0  # ERROR, never READY


# --- VMs: delete -----------------------------------------------------------------------------------------

async def test_deleting_a_queued_vm_is_a_bare_404_and_the_adapter_explains(kb, api, raw):
    avm_id = kb.vm_named("phone-ci")  # QUEUED: no stack yet
    r = await raw.delete(f"/android/{avm_id}")
    assert (r.status_code, r.text) == (404, "404: Not Found")
    err = await failure(api.delete_avm(avm_id))
    assert err.status == 404
    assert err.message.startswith("VM phone-ci exists (QUEUED) but the server cannot delete it yet")
    assert "Wait until it has started, or ask an administrator" in err.message
    assert "visible" not in err.message
    assert (await api.get_avm(avm_id)).status == "QUEUED"  # still there
    kb.clock.advance(sim.world.VM_QUEUED_S)  # CREATING: it has a stack now
    assert await api.delete_avm(avm_id) is None


async def test_an_error_vm_that_failed_before_its_stack_cannot_be_deleted(kb, api):
    w = kb.state.world
    vm = w.new_vm(sim.DEMO_USER, kb.seed["project_a"], "kitkat-phone", kb.clock() - 60, "stackless",
                  fail_early="could not publish the creation task")
    err = await failure(api.delete_avm(vm["avm_id"]))
    assert err.status == 404 and "exists (ERROR)" in err.message
    # one that failed after its stack existed can be deleted
    assert await api.delete_avm(kb.vm_named("nightly")) is None


# --- VMs: actions on a VM that is not READY ------------------------------------------------------------------

async def test_packages_test_list_and_install_on_a_vm_not_ready_are_bare_500s(kb, api, raw):
    avm_id = kb.vm_named("phone-ci")
    for method, url in (("GET", f"/android/{avm_id}/apk"), ("GET", f"/android/{avm_id}/testrun"),
                        ("POST", f"/android/{avm_id}/apk/{kb.seed['apk_2048']}")):
        r = await raw.request(method, url)
        assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
        assert "<title>500 Internal Server Error</title>" in r.text and "Server got itself in trouble" in r.text
        assert "Traceback" not in r.text and ".py" not in r.text  # no traceback, no local path
    err = await failure(api.get_avm_packages(avm_id))
    assert err.message.startswith("500 Internal Server Error (the server failed without saying why")
    assert "ask an administrator" in err.message


async def test_monkey_and_testrun_on_a_vm_not_ready_are_accepted_and_stay_queued(kb, api):
    avm_id = kb.vm_named("phone-ci")
    cids = [await api.run_monkey(avm_id, ["com.example.android.apis"], 10),
            await api.run_testrun(avm_id, "com.example.android.apis")]
    kb.clock.advance(3600)  # the VM is READY long since; the commands were never taken
    assert (await api.get_avm(avm_id)).status == "READY"
    for cid in cids:
        [r] = await api.get_command(avm_id, cid)
        assert (r.status, r.returncode, r.stdout) == ("QUEUED", "", "")


async def test_install_of_an_apk_not_ready_is_accepted(kb, api, tmp_path):
    pid = kb.seed["project_a"]
    path = tmp_path / "fresh.apk"
    path.write_bytes(b"PK\x03\x04fresh")
    apk_id = await api.upload_apk(pid, path)
    assert (await api.get_apk(pid, apk_id)).status == "UPLOADING"
    assert re.fullmatch(r"[0-9a-f]{32}", await api.install_apk(kb.vm_named("first vm"), apk_id))


# --- projects ----------------------------------------------------------------------------------------------

async def test_project_name_missing_is_400_project_name_is_required(kb, api):
    for call in (api.request("POST", "/projects", json_body={}),
                 api.request("PUT", f"/projects/{kb.seed['project_a']}", json_body={})):
        err = await failure(call)
        assert (err.status, err.message) == (400, "project_name is required")


async def test_a_body_that_is_not_json_is_400_a_json_body_is_expected(api):
    err = await failure(api.request("POST", "/projects", content=b"{nope",
                                    headers={"Content-Type": "application/json"}))
    assert (err.status, err.message) == (400, "a json body is expected")


async def test_a_new_project_starts_queued(kb, api):
    pid = await api.create_project("fresh")
    assert (await api.get_project(pid)).status == "QUEUED"
    kb.clock.advance(1)
    assert (await api.get_project(pid)).status == "CREATING"
    kb.clock.advance(1)
    assert (await api.get_project(pid)).status == "READY"


async def test_deleting_a_project_already_deleting_is_202_again(kb, api):
    pid = await api.create_project("short-lived")
    await api.delete_project(pid)
    assert (await api.get_project(pid)).status == "DELETING"
    assert await api.delete_project(pid) is None


# --- files -------------------------------------------------------------------------------------------------

async def test_an_apk_that_is_not_a_zip_is_refused_at_once(kb, api, tmp_path):
    path = tmp_path / "notes.apk"
    path.write_bytes(b"hello")
    before = len(kb.state.apks)
    err = await failure(api.upload_apk(kb.seed["project_a"], path))
    assert (err.status, err.message) == (400, "File is not a valid apk")
    assert len(kb.state.apks) == before


async def test_a_camera_file_without_an_extension_is_refused(kb, api, tmp_path):
    path = tmp_path / "noext"
    path.write_bytes(b"\x89PNG")
    err = await failure(api.upload_camera_file(kb.seed["project_a"], path))
    assert (err.status, err.message) == (400, "file extension not supported: noext")


async def test_a_test_source_that_is_not_utf8_is_refused_and_a_good_one_is_ready_at_once(kb, api, tmp_path):
    pid = kb.seed["project_a"]
    bad = tmp_path / "bin.aic"
    bad.write_bytes(b"\xff\xfe\x00binary")
    err = await failure(api.upload_testsource(pid, bad))
    assert (err.status, err.message) == (400, "not utf8 or binary file")
    good = tmp_path / "ok.aic"
    good.write_text(sim.DSL_TWO)
    sid = await api.upload_testsource(pid, good)
    assert (await api.get_testsource_metadata(pid, sid)).status == "READY"


async def test_replacing_an_unknown_test_source_is_a_500(kb, api, tmp_path):
    src = tmp_path / "x.aic"
    src.write_text(sim.DSL_TWO)
    err = await failure(api.replace_testsource(kb.seed["project_a"], "a" * 32, src))
    assert err.status == 500


async def test_404_texts_name_a_testsource(kb, api):
    pid = kb.seed["project_a"]
    err = await failure(api.get_testsource(pid, "a" * 32))
    assert err.message == f"Testsource '{'a' * 32}' not found {NOT_YOURS}"


async def test_compiling_fills_the_apk_id_at_once_and_the_package_only_when_built(kb, api):
    pid = kb.seed["project_a"]
    sid = next(s.testsource_id for s in await api.get_testsources(pid) if s.filename == "test2.aic")
    apk_id = await api.compile_testsource(pid, sid)
    assert (await api.get_testsource_metadata(pid, sid)).apk_id == apk_id
    apk = await api.get_apk(pid, apk_id)
    assert (apk.status, apk.package) == ("QUEUED", "")
    kb.clock.advance(sim.world.COMPILE_JAVA_S)
    assert (await api.get_apk(pid, apk_id)).package == "com.zenika.aic.dsl.test2.test"


async def test_deleting_a_camera_file_twice_is_204_both_times(kb, api, raw):
    pid = kb.seed["project_a"]
    cam = (await api.get_camera_files(pid))[0].camera_id
    for _ in range(2):
        r = await raw.delete(f"/projects/{pid}/camera/{cam}")
        assert r.status_code == 204
    assert {c.camera_id: c.status for c in await api.get_camera_files(pid)}[cam] == "DELETING"


async def test_deleted_apks_and_campaigns_stay_visible_as_deleting(kb, api):
    pid, apk_id = kb.seed["project_a"], kb.seed["apk_2048"]
    cid = kb.campaign_named("lovely-big-cobra")
    await api.delete_apk(pid, apk_id)
    await api.delete_campaign(pid, cid)
    assert (await api.get_apk(pid, apk_id)).status == "DELETING"
    assert (await api.get_campaign(pid, cid)).campaign_status == "DELETING"
    assert apk_id in [a.apk_id for a in await api.get_apks(pid)]
    assert {c.campaign_id: c.status for c in await api.get_campaigns(pid)}[cid] == "DELETING"
    kb.clock.advance(sim.world.FILE_DELETING_S)
    assert (await failure(api.get_apk(pid, apk_id))).status == 404
    assert cid not in [c.campaign_id for c in await api.get_campaigns(pid)]


# --- campaigns ---------------------------------------------------------------------------------------------

async def test_a_campaign_name_over_50_characters_is_400(kb, api):
    err = await failure(api.create_campaign(kb.seed["project_a"], [{"image": "kitkat-phone", "apks": []}],
                                            "x" * 51))
    assert (err.status, err.message) == (400, "campaign_name too long (max 50)")


async def test_a_campaign_test_without_apks_is_a_500(kb, api):
    err = await failure(api.create_campaign(kb.seed["project_a"], [{"image": "kitkat-phone"}]))
    assert err.status == 500 and "the server failed without saying why" in err.message


async def test_a_campaign_keeps_the_hwconfig_exactly_as_sent(kb, api):
    pid = kb.seed["project_a"]
    cid = await api.create_campaign(pid, [{"image": "kitkat-phone", "apks": [], "hwconfig": {"width": 800}}])
    assert (await api.get_campaign(pid, cid)).test_records[0].hwconfig == {"width": 800}


async def test_a_campaign_without_tests_shows_a_test_made_of_nulls(kb, api):
    pid = kb.seed["project_a"]
    cid = await api.create_campaign(pid, [])
    [test] = (await api.get_campaign(pid, cid)).test_records
    assert (test.image, test.package, test.status, test.hwconfig) == ("", "", "", {})  # tolerated
    assert test.raw["image"] is None


# --- shapes ------------------------------------------------------------------------------------------------

async def test_json_answers_say_charset_utf8(kb, raw):
    for url in ("/android", "/user/quota", "/projects", f"/projects/{kb.seed['project_a']}/apk"):
        assert (await raw.get(url)).headers["content-type"] == JSON
