"""Android VMs and their commands (install, monkey, testrun); the quota and images are in quota.py.

What the real server does that shapes these actions (../shared/real-servers/kyaraben.md):
- the package and test lists and APK install answer a bare 500 on a VM that is
  not READY, and monkey/testrun are accepted there but stay QUEUED forever: so
  each of them checks the VM's state first and says why it will not send;
- a followed command that stays QUEUED past QUEUED_LIMIT is said so and no
  longer followed (`c` on the VM follows it again);
- every VM not DELETED counts in the live quota, ERROR and DELETING ones too.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
from collections import Counter
from typing import Any
from weakref import WeakKeyDictionary

from testdeck import clock, feeds
from testdeck.columns import Col, age, duration
from testdeck.errors import ApiError
from testdeck.feeds import pause, steady
from testdeck.forms import Field, Form
from testdeck.http import path
from testdeck.records import Record
from testdeck.resources import Action, Ctx, LogFeed, Resource
from testdeck.services.kyaraben.client import FINAL_COMMAND, Avm
from testdeck.services.kyaraben.views import common
from testdeck.services.kyaraben.views.common import (
    STATUS,
    apk_choices,
    as_list,
    at_least_one,
    choice,
    hwconfig_fields,
    hwconfig_from,
    image_choices,
    not_blank,
    positive_int,
    project_options,
    refuse,
    settled,
    with_reasons,
)

FOLLOW_MISSING_POLLS = 10  # an unknown command id answers an empty list: give up after that many
QUEUED_LIMIT = 120.0  # seconds a followed command may stay QUEUED before the console stops following
ONE_READ_WAIT = 5.0  # seconds `logs avms VM --command ID` (no -f) waits for a command's first output
TOTP_PERIOD = 30

# command ids sent from this console, per client (one per profile session) and VM, newest last:
# `c` follows one again, the VM log shows them
SENT: WeakKeyDictionary[Any, dict[str, list[str]]] = WeakKeyDictionary()


def _sent(cx: Ctx) -> list[str]:
    return SENT.setdefault(cx.client, {}).setdefault(str(cx.key), [])


# --- list ---------------------------------------------------------------------------------------------

async def list_avms(cx: Ctx) -> list[Avm]:
    """The VMs, with the reason of those in ERROR (only the detail call has it)."""
    vms = await cx.client.get_avms()
    if cx.scope:  # drilled in from a project
        vms = [v for v in vms if v.project_id == cx.scope]
    return await with_reasons(cx.client, vms, lambda v: cx.client.get_avm(v.avm_id))


def error_message(vm: Any) -> str:
    """Why a VM is in ERROR, for triage: its reason, or that the reason could not be read, and why."""
    reason = vm.get("status_reason")
    if reason:
        return str(reason)
    unread = getattr(vm, "_reason_unread", None)
    if unread is not None:
        return f"in ERROR (its reason could not be read: {unread})"
    return "in ERROR (no reason given)"


# --- state checks before sending -------------------------------------------------------------------------

def not_ready(vm: Avm, what: str) -> str:
    name = vm.avm_name or vm.avm_id
    if vm.status == "ERROR":
        why = (f"it is in ERROR ({vm.status_reason or 'no reason given'}) and will not become READY: "
               "delete it and create another")
    elif vm.status in ("DELETING", "DELETED"):
        why = f"it is {vm.status}"
    else:
        why = (f"it is {vm.status or 'in an unknown state'}: wait until it is READY "
               f"(the server fails, or never runs the command, on a VM that is not READY)")
    return f"not sent: {what} needs a READY VM, and VM {name} is not; {why}"


async def ready_vm(cx: Ctx, what: str, method: str = "POST", sends: str = "/android/{}") -> Avm:
    """The VM, READY; else refused naming what would have been sent (`POST /android/ID/testrun`), not
    the read that found it was not READY."""
    vm = await cx.client.get_avm(cx.key)
    if vm.status != "READY":
        raise refuse(cx, method, path(sends, cx.key), not_ready(vm, what))
    return vm


async def check_install(cx: Ctx) -> dict[str, Any]:
    vm = await ready_vm(cx, "installing an APK", sends="/android/{}/apk")
    if not await vm_apk_choices(cx, vm):
        raise refuse(cx, "POST", path("/android/{}/apk", cx.key),
                     "nothing to install: the VM's project has no READY APK (upload one in apks)")
    return {}


async def check_monkey(cx: Ctx) -> dict[str, Any]:
    await ready_vm(cx, "the monkey", sends="/android/{}/monkey")
    if not await cx.client.get_avm_packages(cx.key):
        raise refuse(cx, "POST", path("/android/{}/monkey", cx.key),
                     "no third-party package is installed on this VM: install an APK first (i)")
    return {}


async def check_testrun(cx: Ctx) -> dict[str, Any]:
    await ready_vm(cx, "a test run", sends="/android/{}/testrun")
    if not await cx.client.get_testrun_packages(cx.key):
        raise refuse(cx, "POST", path("/android/{}/testrun", cx.key),
                     "no instrumentation (test) package is installed on this VM: install a test APK first (i)")
    return {}


# --- choices -------------------------------------------------------------------------------------------

async def vm_apk_choices(cx: Ctx, vm: Any = None) -> list[tuple[str, str]]:
    """READY APKs of the selected VM's project."""
    if vm is None:
        vm = cx.row if cx.row is not None and cx.row.get("project_id") else await cx.client.get_avm(cx.key)
    return apk_choices(await cx.client.get_apks(vm.get("project_id")))


async def vm_package_choices(cx: Ctx) -> list[str]:
    return await cx.client.get_avm_packages(cx.key)


async def vm_testrun_choices(cx: Ctx) -> list[tuple[str, str]]:
    return [(k, f"{k} -> {v}") for k, v in (await cx.client.get_testrun_packages(cx.key)).items()]


# --- actions ---------------------------------------------------------------------------------------------

async def check_quota(cx: Ctx) -> dict[str, Any]:
    """Before the new-VM form and again before sending: a full quota is refused with what counts in it."""
    quota = await cx.client.get_quota()
    if quota.live_full:
        counts = Counter(v.status for v in await cx.client.get_avms())
        states = ", ".join(f"{n} {s}" for s, n in counts.most_common())
        raise refuse(cx, "POST", "/android",
                     f"quota reached: {quota.vm_live_current} of {quota.vm_live_max} VMs ({states}). Every VM "
                     "not yet DELETED counts, ERROR and DELETING ones too: delete a READY or ERROR VM, wait for "
                     "a DELETING one to go, or ask an administrator (a QUEUED VM cannot be deleted until it starts)")
    return {}


async def create_avm(cx: Ctx) -> Any:
    """The new VM's id, accepted: the server creates it in the background (QUEUED, CREATING, READY)."""
    await check_quota(cx)
    v = cx.values
    avm_id = await cx.client.create_avm(choice(v["project"]), choice(v["image"]),
                                        (v.get("avm_name") or "").strip() or None, hwconfig_from(v))
    return await settled("VM", lambda: cx.client.get_avm(avm_id), avm_id, name="avm_name", pending=True)


async def delete_avm(cx: Ctx) -> Any:
    """Accepted (202), not done: the VM stays DELETING until the server has removed it."""
    await cx.client.delete_avm(cx.key)
    return await settled("VM", lambda: cx.client.get_avm(cx.key), name="avm_name", pending=True, removes=True,
                         note="(it counts in the quota until then)")


async def _sending(cx: Ctx, command_id: str) -> str:
    """Remember a command id sent (or followed) from here, newest last."""
    sent = _sent(cx)
    if command_id in sent:
        sent.remove(command_id)
    if command_id:
        sent.append(command_id)
    return command_id


async def install(cx: Ctx) -> str:
    return await _sending(cx, await cx.client.install_apk(cx.key, choice(cx.values["apk_id"])))


async def monkey(cx: Ctx) -> str:
    return await _sending(cx, await cx.client.run_monkey(cx.key, as_list(cx.values["packages"]),
                                                          int(cx.values["event_count"])))


async def testrun(cx: Ctx) -> str:
    return await _sending(cx, await cx.client.run_testrun(cx.key, choice(cx.values["package"])))


async def last_command(cx: Ctx) -> dict[str, Any]:
    """Prefill `c` with the last command sent to (or followed on) this VM from this console."""
    sent = _sent(cx)
    return {"command_id": sent[-1]} if sent else {}


async def packages(cx: Ctx) -> list[str]:
    await ready_vm(cx, "the package list", "GET", "/android/{}/apk")
    return await cx.client.get_avm_packages(cx.key)


async def follow_command(cx: Ctx, command_id: Any) -> LogFeed:
    """Poll GET /android/ID/command/CID; yield new stdout/stderr lines, end with status and return code.

    A command still QUEUED after QUEUED_LIMIT seconds is said so and no longer followed."""
    avm_id = cx.key or (cx.row.get("avm_id") if cx.row is not None else None)
    yield [f"command {command_id} on VM {avm_id}"]
    if feeds.ONE_READ.get():  # `testdeck logs ... --command ID` without -f
        yield await command_so_far(cx, avm_id, str(command_id))
        return
    out_seen = err_seen = 0
    last_status = ""
    missing = 0
    queued_since: float | None = None
    while True:
        results = await steady(lambda: cx.client.get_command(avm_id, str(command_id)))
        if not results:
            missing += 1
            if missing >= FOLLOW_MISSING_POLLS:  # an error, not a line: `logs --command X -f` exited 0
                raise no_such_command(cx, avm_id, command_id)
            await pause(common.FOLLOW_INTERVAL)
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
        if r.status == "QUEUED":
            queued_since = clock.now() if queued_since is None else queued_since
            if clock.now() - queued_since >= QUEUED_LIMIT:
                yield await _stuck(cx, avm_id, clock.now() - queued_since)
                return
        else:
            queued_since = None
        await pause(common.FOLLOW_INTERVAL)


def no_such_command(cx: Ctx, avm_id: Any, command_id: Any) -> ApiError:
    """The server answers an unknown command id with an empty list (200): said as an error with that
    status, not `no response` (a server that never answered)."""
    return cx.client.error("GET", path("/android/{}/command/{}", avm_id, command_id), 200,
                           f"no such command {command_id} (the server has no result for it)", local=True)


async def command_so_far(cx: Ctx, avm_id: Any, command_id: str) -> list[str]:
    """All a command has written so far, the line it is still writing included, and where it stands.
    One that has written nothing yet (just sent: QUEUED, or starting) is waited for up to ONE_READ_WAIT
    seconds, then said so; an id the server has no result for is an error, as when followed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ONE_READ_WAIT
    while True:
        results = await cx.client.get_command(avm_id, command_id)
        r = results[-1] if results else None
        if (r is not None and (r.finished or r.stdout or r.stderr)) or loop.time() >= deadline:
            break
        await asyncio.sleep(common.FOLLOW_INTERVAL)
    waited = f"{ONE_READ_WAIT:g}s"
    if r is None:
        raise no_such_command(cx, avm_id, command_id)
    lines = r.stdout.splitlines() + [f"stderr: {line}" for line in r.stderr.splitlines()]
    if r.finished:
        return lines + [f"-- {r.status}, return code {r.returncode or '?'}"]
    follow = f"follow it: testdeck logs avms {avm_id} --command {command_id} -f"
    if lines:
        return lines + [f"-- {r.status}: the output so far; the command has not ended ({follow})"]
    why = " (the server has not started it)" if r.status == "QUEUED" else ""
    return [f"-- {r.status or 'no status'}: no output yet after {waited}{why}; {follow}"]


async def _stuck(cx: Ctx, avm_id: Any, waited: float) -> list[str]:
    try:
        vm = await cx.client.get_avm(avm_id)
        why = (f"the VM is {vm.status}, not READY: kyaraben accepted the command but does not run it there"
               if vm.status != "READY" else "the VM is READY: kyaraben's workers may be busy or stopped")
    except Exception:  # noqa: BLE001 - the explanation is a bonus; the stop is what matters
        why = "the VM's state could not be read"
    return [f"-- still QUEUED after {duration(waited)}: the server has not started this command ({why})",
            "-- stopped following; press c on the VM to follow it again"]


async def vm_log(cx: Ctx) -> LogFeed:
    """`enter` on a VM: its state, the commands this console sent to it, and the last one followed.

    With `command_id` in the values (`testdeck logs avms VM --command ID`): that command's output."""
    vm = await cx.client.get_avm(cx.key)
    head = f"VM {vm.avm_name} ({vm.avm_id}) {vm.status}"
    yield [head + (f": {vm.status_reason}" if vm.status_reason else ""),
           f"image {vm.image}, created {vm.ts_created}, uptime {duration(vm.uptime)}"]
    wanted = str((cx.values or {}).get("command_id") or "").strip()
    if wanted:
        await _sending(cx, wanted)
    sent = _sent(cx)
    if not sent:
        yield ["no command sent to this VM from this console (i install, m monkey, t testrun; "
               "c follows one by its id, as does `testdeck logs avms VM --command ID -f`)"]
        return
    for cid in sent[:-1]:
        results = await cx.client.get_command(cx.key, cid)
        yield [f"command {cid}: {results[-1].status if results else 'unknown'}"]
    async for batch in follow_command(cx, sent[-1]):
        yield batch


vm_log.command_option = True  # type: ignore[attr-defined]  # `testdeck logs avms VM --command ID`


# --- TOTP, properties, packages ------------------------------------------------------------------------

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


def lines_screen(what: str, lines: list[str]):
    def make(cx: Ctx, result: Any):
        from testdeck.services.kyaraben.screens import LinesScreen

        from testdeck.text import sanitize

        name = sanitize((cx.row.get("avm_name") if cx.row is not None else None) or cx.key)  # as the table shows
        return LinesScreen(f"{what} · VM {name} · {len(result)} · / to search", lines(result))
    return make


properties_screen = lines_screen("properties", property_lines)
packages_screen = lines_screen("packages", lambda p: show_packages(p).splitlines())


# --- resources -----------------------------------------------------------------------------------------------

avms = Resource(
    name="avms",
    title="Android VMs",
    key="avm_id",
    label="avm_name",
    aliases=("avm", "vms", "android"),
    drill="log",
    log=vm_log,
    # what matters first (name, status) on the left: at 80 columns the 32-character ids come last
    columns=[
        Col("avm_name", "name"),
        # an ERROR's reason in the status cell (`ERROR: Quota exceeded…`): seen at 80 columns too
        Col("status", width=8, status=STATUS, reason="status_reason"),
        Col("image"),
        Col("uptime", fmt=duration, width=7),
        Col("ts_created", "created", fmt=age, width=7),
        Col("avm_id", "id", width=32, priority=1),
        Col("project_id", "project", width=32, priority=3),
    ],
    list=list_avms,
    detail=lambda cx: cx.client.get_avm(cx.key),
    actions=[
        Action("n", "new", create_avm, mutates=True, row=False, form=Form("New Android VM", [
            Field("project", type="choice", required=True, choices=project_options),
            Field("image", type="choice", required=True, choices=image_choices),
            Field("avm_name", "name", help="optional; when empty the server picks one like early-handy-snipe"),
            *hwconfig_fields(),
        ], initial=check_quota)),
        Action("e", "rename", common.rename(lambda c, key, name: c.rename_avm(key, name), "avm_name", "/android/{}"),
               mutates=True,
               form=Form("Rename VM", [Field("avm_name", "name", required=True, validate=not_blank)])),
        Action("ctrl+d", "delete", delete_avm, mutates=True, confirm=True, bulk=True),
        Action("i", "install APK", install, mutates=True, follow=follow_command,
               form=Form("Install a project APK", [
                   Field("apk_id", "APK", type="choice", required=True, choices=vm_apk_choices),
               ], initial=check_install)),
        Action("m", "monkey", monkey, mutates=True, follow=follow_command, form=Form("Run the monkey", [
            Field("packages", type="multi", required=True, choices=vm_package_choices, validate=at_least_one),
            Field("event_count", "events", type="int", required=True, default=500, min=1, max=1_000_000,
                  validate=positive_int),
        ], initial=check_monkey)),
        Action("t", "testrun", testrun, mutates=True, follow=follow_command,
               form=Form("Run an instrumented test package", [
                   Field("package", type="choice", required=True, choices=vm_testrun_choices),
               ], initial=check_testrun)),
        Action("c", "follow command", lambda cx: _sending(cx, cx.values["command_id"].strip()),
               follow=follow_command,
               form=Form("Follow a command", [
                   Field("command_id", "command id", required=True, validate=not_blank,
                         help="prefilled with the last one sent or followed from here"),
               ], initial=last_command)),
        Action("v", "properties", lambda cx: cx.client.get_properties(cx.key), screen=properties_screen),
        Action("a", "packages", packages, screen=packages_screen),
        Action("o", "TOTP", get_totp, screen=totp_screen),
    ],
)
