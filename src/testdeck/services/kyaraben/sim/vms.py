"""/android (VMs and their commands), /images and /user, as the real server answers them.

The real server's quirks kept on purpose (observed against it, see
../shared/real-servers/kyaraben.md):
- the quota counts every VM not DELETED (QUEUED, ERROR and DELETING too) and a
  refusal is 400 `Too many vms, max allowed is N`;
- an unknown image is 404 `Image X not found` (checked after the quota);
- a VM created without a name gets a petname (early-handy-snipe);
- DELETE of a VM with no stack yet (QUEUED, or failed before its stack) is a bare 404;
- packages, test list and APK install on a VM that is not READY are 500s
  (the handler talks to a container that does not exist); monkey and testrun
  are accepted (202) and the command then stays QUEUED.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.responses import PlainTextResponse
from starlette.routing import Route

from testdeck.services.kyaraben.sim.plumbing import Json, accepted, body_of, no_content, route, validate_schema
from testdeck.services.kyaraben.sim.world import HW_SWITCHES, IMAGES, VM_ASYNC_MAX, VM_LIVE_MAX, Reject, World, \
    testrun_lines

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
                **{k: {"type": "integer"} for k in HW_SWITCHES},  # no range: 5 is accepted
            },
        },
    },
}


class NoContainer(KeyError):
    """The VM has no adb container (not READY): the real handler fails, a bare 500 page."""


def routes(w: World) -> list[Route]:
    def ready_vm(user: str, avm_id: str) -> dict[str, Any]:
        vm = w.vm_of(user, avm_id)
        if w.vm_state(vm)[0] != "READY":
            raise NoContainer()
        return vm

    async def list_avms(request, user):
        rows = sorted(w.live_vms(user), key=lambda v: v["born"])
        return Json({"avms": [w.avm_json(v, False) for v in rows]})

    async def get_avm(request, user, avm_id):
        return Json({"avm": w.avm_json(w.vm_of(user, avm_id), True)})

    async def create_avm(request, user):
        data = await body_of(request)
        validate_schema(data, AVM_SCHEMA)
        p = w.project_of(user, data["project_id"])
        if len(w.live_vms(user)) >= VM_LIVE_MAX:
            raise Reject(400, f"Too many vms, max allowed is {VM_LIVE_MAX}")
        if data["image"] not in dict(IMAGES):
            raise Reject(404, f"Image {data['image']} not found")
        vm = w.new_vm(user, p["project_id"], data["image"], w.now(), data.get("avm_name") or None,
                      data.get("hwconfig") or {}, packages=[], testrun={})
        return Json({"avm_id": vm["avm_id"]}, 201)

    async def rename_avm(request, user, avm_id):
        vm = w.vm_of(user, avm_id)
        data = await body_of(request)
        vm["avm_name"] = str(data["avm_name"])
        return no_content()

    async def delete_avm(request, user, avm_id):
        vm = w.vm_of(user, avm_id)
        if not w.has_stack(vm):
            return PlainTextResponse("404: Not Found", 404)
        if vm["deleted_at"] is None:
            vm["deleted_at"] = w.now()
        return accepted()

    async def avm_packages(request, user, avm_id):
        return Json({"packages": w.installed(ready_vm(user, avm_id))[0]})

    async def avm_testrun_packages(request, user, avm_id):
        return Json({"packages": w.installed(ready_vm(user, avm_id))[1]})

    async def get_command(request, user, avm_id, command_id):
        vm = w.vm_of(user, avm_id)
        c = w.commands.get(command_id)
        if c is None or c["avm_id"] != vm["avm_id"]:
            return Json({"results": []})
        return Json({"results": [w.command_view(c)]})

    async def properties(request, user, avm_id):
        vm = w.vm_of(user, avm_id)
        if w.vm_state(vm)[0] != "READY":
            return Json({"properties": {}})
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
        return Json({"properties": dict(sorted(props.items()))})

    async def totp(request, user, avm_id):
        vm = w.vm_of(user, avm_id)
        step = int(w.now() // 30)
        digest = hashlib.sha1(f"{vm['avm_id']}:{step}".encode()).hexdigest()
        return Json({"totp": f"{int(digest[:8], 16) % 1_000_000:06d}"})

    async def install_apk(request, user, avm_id, apk_id):
        vm = ready_vm(user, avm_id)
        apk = w.in_project(w.apks, "APK", w.project_of(user, vm["project_id"]), apk_id)
        lines = [f"pkg: /data/local/tmp/{apk_id}.apk", "Success"]
        size = 200_000 + int(apk_id[:4], 16) * 10
        cid = w.new_command(vm, "install", lines, True, "0",
                            stderr=f"3880 KB/s ({size} bytes in {size / 3_973_120:.3f}s)",
                            package=w.apk_package(apk) or apk["package"])
        return Json({"command_id": cid}, 202)

    async def monkey(request, user, avm_id):
        vm = w.vm_of(user, avm_id)
        data = await body_of(request)
        packages = data["packages"]
        count = int(data["event_count"])
        if isinstance(packages, str):
            packages = [packages]
        if w.vm_state(vm)[0] != "READY":
            return Json({"command_id": w.new_command(vm, "monkey", [], False, "", stuck=True)}, 202)
        have = w.installed(vm)[0]
        seed = int(vm["avm_id"][:6], 16) % 100000
        lines = [f":Monkey: seed={seed} count={count}"]
        lines += [f":AllowPackage: {p}" for p in packages]
        lines += [":IncludeCategory: android.intent.category.LAUNCHER",
                  ":IncludeCategory: android.intent.category.MONKEY"]
        missing = [p for p in packages if p not in have]
        if missing or not packages:
            lines += ["** No activities found to run, monkey aborted."]
            cid = w.new_command(vm, "monkey", lines, False, "252")
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
            cid = w.new_command(vm, "monkey", lines, True, "0")
        return Json({"command_id": cid}, 202)

    async def testrun(request, user, avm_id):
        vm = w.vm_of(user, avm_id)
        data = await body_of(request)
        package = str(data["package"])
        if w.vm_state(vm)[0] != "READY":
            return Json({"command_id": w.new_command(vm, "testrun", [], False, "", stuck=True)}, 202)
        targets = w.installed(vm)[1]
        if package in targets or package in targets.values() or any(k.split("/")[0] == package for k in targets):
            cid = w.new_command(vm, "testrun", testrun_lines(package), True, "0")
        else:
            lines = ["INSTRUMENTATION_STATUS: id=ActivityManagerService",
                     f"INSTRUMENTATION_STATUS: Error=Unable to find instrumentation info for: "
                     f"ComponentInfo{{{package}}}", "INSTRUMENTATION_STATUS_CODE: -1",
                     f"android.util.AndroidException: INSTRUMENTATION_FAILED: {package}"]
            cid = w.new_command(vm, "testrun", lines, False, "1")
        return Json({"command_id": cid}, 202)

    async def images(request, user):
        return Json({"images": [{"android_version": v, "image": i} for i, v in IMAGES]})

    async def quota(request, user):
        active = sum(w.campaign_json(c)["_active"] for c in w.campaigns.values()
                     if w.projects.get(c["project_id"], {}).get("owner") == user)
        return Json({"quota": {"vm_async_current": min(active, VM_ASYNC_MAX), "vm_async_max": VM_ASYNC_MAX,
                               "vm_live_current": len(w.live_vms(user)), "vm_live_max": VM_LIVE_MAX}})

    async def whoami(request, user):
        return Json({"user": {"userid": user}})

    return [
        route("/android", list_avms, "GET"),
        route("/android", create_avm, "POST"),
        route("/android/{avm_id}", get_avm, "GET"),
        route("/android/{avm_id}", rename_avm, "PUT"),
        route("/android/{avm_id}", delete_avm, "DELETE"),
        route("/android/{avm_id}/apk", avm_packages, "GET"),
        route("/android/{avm_id}/apk/{apk_id}", install_apk, "POST"),
        route("/android/{avm_id}/command/{command_id}", get_command, "GET"),
        route("/android/{avm_id}/properties", properties, "GET"),
        route("/android/{avm_id}/testrun", avm_testrun_packages, "GET"),
        route("/android/{avm_id}/testrun", testrun, "POST"),
        route("/android/{avm_id}/totp", totp, "GET"),
        route("/android/{avm_id}/monkey", monkey, "POST"),
        route("/images", images, "GET"),
        route("/user/quota", quota, "GET"),
        route("/user/whoami", whoami, "GET"),
    ]
