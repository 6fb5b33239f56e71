"""The kyaraben adapter against its simulator over real loopback HTTP: projects and what lives in them."""

from __future__ import annotations

import re

import pytest

from testdeck.errors import ApiError
from testdeck.services.kyaraben import sim
from testdeck.services.kyaraben.client import Campaign

from .conftest import APK_BYTES, HEX32, NOT_YOURS, apk_file


# --- projects --------------------------------------------------------------------------------------------------

async def test_projects_list_and_detail(kb, api):
    projects = await api.get_projects()
    assert [p.project_name for p in projects] == ["demo-app", "regression"]
    assert all(p.status == "READY" for p in projects)
    detail = await api.get_project(kb.seed["project_a"])
    assert detail.count_avms == 2
    assert detail.sum_avms_uptime == pytest.approx(5400 - sim.world.VM_READY_S)  # phone-ci never started
    assert detail.status_ts.endswith("Z") and detail.status_reason == ""


async def test_project_create_rename_delete(kb, api):
    pid = await api.create_project("peace")
    assert HEX32.match(pid)
    assert (await api.get_project(pid)).status == "QUEUED"
    kb.clock.advance(2)
    p = await api.get_project(pid)
    assert (p.status, p.project_name, p.count_avms, p.sum_avms_uptime) == ("READY", "peace", 0, 0.0)
    await api.rename_project(pid, "qwerty")
    assert (await api.get_project(pid)).project_name == "qwerty"
    await api.delete_project(pid)
    assert (await api.get_project(pid)).status == "DELETING"
    kb.clock.advance(2)
    with pytest.raises(ApiError) as exc:
        await api.get_project(pid)
    assert exc.value.status == 404 and exc.value.message == f"Project '{pid}' not found {NOT_YOURS}"
    assert pid not in [p.project_id for p in await api.get_projects()]


async def test_project_with_active_vms_or_campaigns_cannot_be_deleted(kb, api):
    pid_b = kb.seed["project_b"]
    with pytest.raises(ApiError) as exc:
        await api.delete_project(pid_b)  # holds the VM in ERROR
    assert exc.value.status == 409
    assert exc.value.message == "cannot delete project with active vms or campaigns"
    await api.delete_avm(kb.vm_named("nightly"))
    await api.delete_project(pid_b)  # a deleting VM is not active
    pid_a = kb.seed["project_a"]
    kb.state.avms[kb.vm_named("phone-ci")]["born"] -= sim.world.VM_QUEUED_S  # it has a stack: deletable
    for vm in ("first vm", "phone-ci"):
        await api.delete_avm(kb.vm_named(vm))
    with pytest.raises(ApiError) as exc:
        await api.delete_project(pid_a)  # the running campaign
    assert exc.value.status == 409


async def test_foreign_project_is_404_everywhere(kb, api):
    pid = kb.seed["other_project"]
    calls = [api.get_project(pid), api.rename_project(pid, "x"), api.delete_project(pid), api.get_apks(pid),
             api.get_camera_files(pid), api.get_testsources(pid), api.get_campaigns(pid),
             api.create_campaign(pid, [{"image": "kitkat-tablet"}])]
    for call in calls:
        with pytest.raises(ApiError) as exc:
            await call
        assert exc.value.status == 404
        assert exc.value.message == f"Project '{pid}' not found {NOT_YOURS}"
    assert [p.project_name for p in await kb.client("alice").get_projects()] == ["alice-secret"]


# --- APKs ---------------------------------------------------------------------------------------------------------

async def test_apks_list_and_detail(kb, api):
    pid = kb.seed["project_a"]
    apks = await api.get_apks(pid)
    by_file = {a.filename: a for a in apks}
    assert by_file["com.uberspot.a2048_23.apk"].package == "com.uberspot.a2048"
    assert by_file["com.uberspot.a2048_23.apk"].testsource_id == ""
    compiled = [a for a in apks if a.testsource_id]
    assert len(compiled) == 2  # test1.aic (READY) and broken.aic (ERROR)
    detail = await api.get_apk(pid, kb.seed["apk_2048"])
    assert (detail.status, detail.status_reason, detail.project_id) == ("READY", "", pid)


async def test_upload_apk_with_progress(kb, api, tmp_path):
    pid = kb.seed["project_a"]
    seen: list[tuple[int, int]] = []
    apk_id = await api.upload_apk(pid, apk_file(tmp_path), progress=lambda sent, total: seen.append((sent, total)))
    assert HEX32.match(apk_id)
    assert len(seen) >= 3  # several chunks
    assert seen[-1][0] == seen[-1][1] > len(APK_BYTES)  # the whole multipart body
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)
    apk = await api.get_apk(pid, apk_id)
    assert (apk.status, apk.filename, apk.package) == ("UPLOADING", "com.acme.shop_12.apk", "com.acme.shop")
    kb.clock.advance(1)
    assert (await api.get_apk(pid, apk_id)).status == "READY"
    assert apk_id in [a.apk_id for a in await api.get_apks(pid)]


async def test_upload_missing_local_file_fails_before_sending(kb, api, tmp_path):
    with pytest.raises(ApiError) as exc:
        await api.upload_apk(kb.seed["project_a"], tmp_path / "nope.apk")
    assert exc.value.status is None and "cannot read" in exc.value.message


async def test_upload_without_file_field_is_500(kb, api):
    with pytest.raises(ApiError) as exc:
        await api.request("POST", f"/projects/{kb.seed['project_a']}/apk", files={"other": ("a.apk", b"PK")})
    assert exc.value.status == 500 and "Server got itself in trouble" in exc.value.detail


async def test_delete_apk(kb, api):
    pid, apk_id = kb.seed["project_a"], kb.seed["apk_2048"]
    assert await api.delete_apk(pid, apk_id) is None
    kb.clock.advance(sim.world.FILE_DELETING_S)
    with pytest.raises(ApiError) as exc:
        await api.get_apk(pid, apk_id)
    assert exc.value.status == 404 and exc.value.message == f"APK '{apk_id}' not found {NOT_YOURS}"
    # and an APK id from another project of the same user is not found in this one
    with pytest.raises(ApiError):
        await api.get_apk(kb.seed["project_b"], kb.seed["apk_apis"])


# --- camera --------------------------------------------------------------------------------------------------------

async def test_camera_list_upload_delete(kb, api, tmp_path):
    pid = kb.seed["project_a"]
    files = await api.get_camera_files(pid)
    assert [(c.filename, c.status) for c in files] == [("ubuntu-logo.png", "READY"), ("walk.mp4", "READY")]
    png = tmp_path / "logo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 1000)
    movie = tmp_path / "clip.mp4"
    movie.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"0" * 1000)
    text = tmp_path / "notes.txt"
    text.write_text("not media")
    sent = []
    ids = [await api.upload_camera_file(pid, p, progress=lambda s, t: sent.append(s)) for p in (png, movie, text)]
    assert all(HEX32.match(i) for i in ids) and sent
    status = lambda: {c.camera_id: c.status for c in files_now}  # noqa: E731
    files_now = await api.get_camera_files(pid)
    assert [status()[i] for i in ids] == ["UPLOADING"] * 3
    kb.clock.advance(1)
    files_now = await api.get_camera_files(pid)
    assert [status()[i] for i in ids] == ["READY", "UPLOADING", "ERROR"]  # the movie is being converted
    kb.clock.advance(4)
    files_now = await api.get_camera_files(pid)
    assert status()[ids[1]] == "READY"
    await api.delete_camera_file(pid, ids[0])
    kb.clock.advance(sim.world.FILE_DELETING_S)
    assert ids[0] not in [c.camera_id for c in await api.get_camera_files(pid)]
    with pytest.raises(ApiError) as exc:
        await api.delete_camera_file(pid, ids[0])
    assert exc.value.status == 404 and exc.value.message.endswith(NOT_YOURS)


# --- test sources ------------------------------------------------------------------------------------------------

def _source(sources, name):
    return next(s for s in sources if s.filename == name)


async def test_testsources_list_text_metadata(kb, api):
    pid = kb.seed["project_a"]
    sources = await api.get_testsources(pid)
    assert [s.filename for s in sources] == ["test1.aic", "test2.aic", "broken.aic"]
    t1, t2, broken = sources
    assert (t1.apk_status, bool(HEX32.match(t1.apk_id))) == ("READY", True)
    assert (t2.apk_status, t2.apk_id) == ("", "")
    assert broken.apk_status == "ERROR" and "line 3" in broken.apk_status_reason and HEX32.match(broken.apk_id)
    assert await api.get_testsource(pid, t1.testsource_id) == sim.DSL_OK
    meta = await api.get_testsource_metadata(pid, t2.testsource_id)
    assert (meta.filename, meta.status, meta.project_id) == ("test2.aic", "READY", pid)


async def test_testsource_upload_replace_compile_delete(kb, api, tmp_path):
    pid = kb.seed["project_a"]
    src = tmp_path / "login.aic"
    src.write_text(sim.DSL_TWO)
    sid = await api.upload_testsource(pid, src)
    assert (await api.get_testsource_metadata(pid, sid)).status == "READY"
    assert await api.get_testsource(pid, sid) == sim.DSL_TWO

    new = tmp_path / "login2.aic"
    new.write_text(sim.DSL_OK)
    assert await api.replace_testsource(pid, sid, new) is None  # PUT multipart, 204
    kb.clock.advance(1)
    assert await api.get_testsource(pid, sid) == sim.DSL_OK
    assert (await api.get_testsource_metadata(pid, sid)).filename == "login2.aic"

    apk_id = await api.compile_testsource(pid, sid)
    assert HEX32.match(apk_id)
    statuses = []
    for step in (0, 1, 2, 5):
        kb.clock.advance(step)
        meta = await api.get_testsource_metadata(pid, sid)
        statuses.append((meta.apk_status, meta.apk_id))
    assert statuses == [("QUEUED", apk_id), ("COMPILING DSL", apk_id), ("COMPILING JAVA", apk_id), ("READY", apk_id)]
    apk = await api.get_apk(pid, apk_id)
    assert apk.status == "READY" and apk.package.endswith(".test")
    assert next(a for a in await api.get_apks(pid) if a.apk_id == apk_id).testsource_id == sid

    await api.delete_testsource(pid, sid)
    with pytest.raises(ApiError) as exc:
        await api.get_testsource(pid, sid)
    assert exc.value.status == 404 and exc.value.message == f"Testsource '{sid}' not found {NOT_YOURS}"


async def test_compiling_a_failing_dsl_ends_in_error(kb, api, tmp_path):
    pid = kb.seed["project_a"]
    src = tmp_path / "bad.aic"
    src.write_text("Feature: x\n   Scenario: y\n      FAIL here\n   End\nEnd\n")
    sid = await api.upload_testsource(pid, src)
    await api.compile_testsource(pid, sid)
    kb.clock.advance(2)
    assert (await api.get_testsource_metadata(pid, sid)).apk_status == "COMPILING DSL"
    kb.clock.advance(1)
    meta = await api.get_testsource_metadata(pid, sid)
    assert meta.apk_status == "ERROR" and HEX32.match(meta.apk_id)
    assert meta.apk_status_reason == "DSL compilation failed: line 3: unknown step 'FAIL here'"


# --- campaigns ------------------------------------------------------------------------------------------------------

async def test_campaigns_list_and_finished_detail(kb, api):
    pid = kb.seed["project_a"]
    rows = await api.get_campaigns(pid)
    assert [(c.campaign_name, c.status) for c in rows] == [("lovely-big-cobra", "READY"),
                                                            ("brave-small-otter", "RUNNING")]
    done = await api.get_campaign(pid, rows[0].campaign_id)
    assert isinstance(done, Campaign)
    assert (done.campaign_status, done.progress, done.state) == ("READY", 1.0, "READY")
    [test] = done.test_records
    assert test.status == "READY" and "OK (2 tests)" in test.stdout
    assert test.hwconfig["width"] == 800 and test.image == "lollipop-phone"


async def test_running_campaign_progresses_to_the_end(kb, api):
    pid, cid = kb.seed["project_a"], kb.campaign_named("brave-small-otter")
    first = await api.get_campaign(pid, cid)
    assert first.campaign_status == "RUNNING" and first.progress == 0.0
    assert [t.status for t in first.test_records] == ["QUEUED"] * 4
    seen = [first.progress]
    for _ in range(12):
        kb.clock.advance(2)
        seen.append((await api.get_campaign(pid, cid)).progress)
    assert seen == sorted(seen) and seen[-1] > seen[1] > 0
    final = await api.get_campaign(pid, cid)
    # 7 commands: 3 installs + 4 test packages, one of which (com.missing.app) fails
    assert final.progress == pytest.approx(6 / 7, abs=1e-3)
    assert final.campaign_status == "ERROR"
    assert [t.status for t in final.test_records] == ["READY", "READY", "READY", "ERROR"]
    assert "INSTRUMENTATION_FAILED: com.missing.app" in final.test_records[3].stdout
    assert (await api.get_quota()).vm_async_current == 0


async def test_create_campaign_and_delete(kb, api):
    pid = kb.seed["project_a"]
    tests = [{"image": "kitkat-tablet", "hwconfig": {"width": 1280, "height": 800},
              "apks": [kb.seed["apk_apis"]], "packages": ["com.example.android.apis"]}]
    cid = await api.create_campaign(pid, tests, "my-campaign")
    c = await api.get_campaign(pid, cid)
    assert (c.campaign_name, c.campaign_status, c.progress) == ("my-campaign", "QUEUED", 0.0)
    assert c.test_records[0].hwconfig == {"width": 1280, "height": 800}  # as sent
    kb.clock.advance(6 + 3)
    assert (await api.get_campaign(pid, cid)).progress == 0.5  # the install done, the run not yet
    kb.clock.advance(3)
    c = await api.get_campaign(pid, cid)
    assert (c.campaign_status, c.progress, c.test_records[0].status) == ("READY", 1.0, "READY")
    generated = await api.create_campaign(pid, [{"image": "kitkat-phone", "apks": []}])
    assert re.fullmatch(r"[a-z]+-[a-z]+-[a-z]+", (await api.get_campaign(pid, generated)).campaign_name)
    await api.delete_campaign(pid, cid)
    kb.clock.advance(sim.world.FILE_DELETING_S)
    with pytest.raises(ApiError) as exc:
        await api.get_campaign(pid, cid)
    assert exc.value.status == 404 and exc.value.message == f"Campaign '{cid}' not found {NOT_YOURS}"


async def test_create_campaign_errors(kb, api):
    pid = kb.seed["project_a"]
    with pytest.raises(ApiError) as exc:
        await api.create_campaign(pid, [{"image": "kitkat-tablet", "apks": ["b" * 32]}])
    assert exc.value.status == 404 and exc.value.message.startswith(f"APK '{'b' * 32}' not found")
    with pytest.raises(ApiError) as exc:
        await api.request("POST", f"/projects/{pid}/campaigns", json_body={"campaign_name": "x"})
    assert exc.value.status == 500  # no tests key
    with pytest.raises(ApiError) as exc:
        await api.request("POST", f"/projects/{pid}/campaigns", content=b"{nope",
                          headers={"Content-Type": "application/json"})
    assert exc.value.status == 400 and exc.value.message == "a json body is expected"
