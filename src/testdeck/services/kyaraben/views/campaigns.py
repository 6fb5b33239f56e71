"""Campaigns (inside the `project` scope): create, follow, the live progress view."""

from __future__ import annotations

from typing import Any

from testdeck import feeds
from testdeck.columns import Col
from testdeck.feeds import pause, steady
from testdeck.forms import Field, Form
from testdeck.http import path
from testdeck.resources import Action, Ctx, LogFeed, Resource
from testdeck.services.kyaraben.client import Campaign
from testdeck.services.kyaraben.views import common
from testdeck.services.kyaraben.views.common import (
    PROJECT_SCOPE,
    STATUS,
    apk_choices,
    as_list,
    at_least_one,
    campaign_name,
    hwconfig_fields,
    hwconfig_from,
    image_choices,
    refuse,
    settled,
)

SWITCHES = ("sensors", "battery", "gps", "camera", "record", "gsm", "nfc")


async def scope_apk_choices(cx: Ctx) -> list[tuple[str, str]]:
    return apk_choices(await cx.client.get_apks(cx.scope))


async def scope_package_choices(cx: Ctx) -> list[str]:
    seen: list[str] = []
    for a in await cx.client.get_apks(cx.scope):
        if a.package and a.package not in seen:
            seen.append(a.package)
    return seen


# --- hwconfig as sent: the server stores a test's hwconfig exactly as given, defaults unnamed -------------

def hw_screen(hw: Any) -> str:
    """'1280x(default) 240dpi'; '' when nothing was sent."""
    if not isinstance(hw, dict) or not hw:
        return "defaults" if isinstance(hw, dict) else ""

    def part(key: str) -> str:
        return str(hw[key]) if hw.get(key) not in (None, "") else "(default)"
    return f"{part('width')}x{part('height')} {part('dpi')}dpi"


def hw_summary(hw: Any) -> str:
    """'800x600 160dpi · on: gps camera · off: nfc · others default' (what was sent, nothing invented)."""
    if not isinstance(hw, dict) or not hw:
        return "hwconfig: server defaults"
    on = [s for s in SWITCHES if str(hw.get(f"enable_{s}", "")) in ("1", "True", "true")]
    off = [s for s in SWITCHES if str(hw.get(f"enable_{s}", "")) in ("0", "False", "false")]
    parts = [hw_screen(hw)]
    if on:
        parts.append("on: " + " ".join(on))
    if off:
        parts.append("off: " + " ".join(off))
    if len(on) + len(off) < len(SWITCHES):
        parts.append("others default" if on or off else "switches default")
    return " · ".join(parts)


def progress_bar(fraction: float, width: int = 30) -> str:
    fraction = min(1.0, max(0.0, fraction or 0.0))
    full = round(fraction * width)
    return "#" * full + "." * (width - full) + f" {fraction * 100:5.1f}%"


def show_campaign(c: Campaign) -> str:
    lines = [f"{c.campaign_name} ({c.campaign_id})", f"status   {c.state}",
             f"progress {progress_bar(c.progress)}", ""]
    for n, t in enumerate(c.test_records, 1):
        lines.append(f"#{n} {t.status or '?':<8} {t.image} {hw_screen(t.hwconfig)} {t.package}")
        lines += [f"      {line}" for line in t.stdout.splitlines()]
    return "\n".join(lines)


async def follow_campaign(cx: Ctx) -> LogFeed:
    """Progress and per-test status changes and new stdout lines until the campaign ends."""
    seen: dict[int, tuple[str, int]] = {}
    last_progress = None
    while True:
        c: Campaign = await steady(lambda: cx.client.get_campaign(cx.scope, cx.key))
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
        if feeds.ONE_READ.get():  # `testdeck logs campaigns ID` without -f: where it stands, said
            yield [f"-- campaign {c.state or 'in no state'}: not ended; the output so far (follow it with -f)"]
            return
        await pause(common.FOLLOW_INTERVAL)


def build_tests(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The tests list the campaign form sends: one test per chosen image (`apks` always present:
    the server fails with a 500 without it)."""
    hw = hwconfig_from(values)
    return [{"image": image, "hwconfig": dict(hw), "apks": as_list(values.get("apks")),
             "packages": as_list(values.get("packages"))} for image in as_list(values.get("images"))]


async def create_campaign(cx: Ctx) -> str:
    tests = build_tests(cx.values)
    where = path("/projects/{}/campaigns", cx.scope)
    if not tests:
        raise refuse(cx, "POST", where, "choose at least one image")
    name = (cx.values.get("campaign_name") or "").strip()
    problem = campaign_name(name)
    if problem:
        raise refuse(cx, "POST", where, f"campaign name: {problem}")
    campaign_id = await cx.client.create_campaign(cx.scope, tests, name or None)
    # accepted (202): QUEUED until the server starts its VMs; `enter` on it follows it
    return await settled("campaign", lambda: cx.client.get_campaign(cx.scope, campaign_id), campaign_id,
                         name="campaign_name", pending=True)


async def delete_campaign(cx: Ctx) -> Any:
    """Done when gone; accepted while the server keeps it DELETING (the real one does, after a 204)."""
    await cx.client.delete_campaign(cx.scope, cx.key)
    return await settled("campaign", lambda: cx.client.get_campaign(cx.scope, cx.key), name="campaign_name",
                         removes=True)


def campaign_screen(cx: Ctx, campaign: Campaign):
    from testdeck.services.kyaraben.screens import CampaignScreen

    return CampaignScreen(cx, campaign)


campaigns = Resource(
    name="campaigns",
    title="Campaigns",
    key="campaign_id",
    label="campaign_name",
    aliases=("campaign",),
    scope=PROJECT_SCOPE,
    drill="log",
    columns=[Col("campaign_name", "name"), Col("status", width=8, status=STATUS),
             Col("campaign_id", "id", width=32, priority=1)],
    list=lambda cx: cx.client.get_campaigns(cx.scope),
    detail=lambda cx: cx.client.get_campaign(cx.scope, cx.key),
    log=follow_campaign,
    actions=[
        Action("v", "progress", lambda cx: cx.client.get_campaign(cx.scope, cx.key), screen=campaign_screen),
        Action("n", "new", create_campaign, mutates=True, row=False, form=Form("New campaign", [
            Field("campaign_name", "name", validate=campaign_name,
                  help=f"optional, at most {common.CAMPAIGN_NAME_MAX} characters; the server picks a "
                       "three-word name when empty"),
            Field("images", type="multi", required=True, choices=image_choices, validate=at_least_one,
                  help="one test per image"),
            Field("apks", "APKs to install", type="multi", choices=scope_apk_choices),
            Field("packages", "packages under test", type="multi", choices=scope_package_choices),
            *hwconfig_fields(),
        ])),
        Action("ctrl+d", "delete", delete_campaign, mutates=True, confirm=True, bulk=True),
    ],
)
