"""The quota (live and async VMs, with what counts) and the Android images.

The real server counts every VM not DELETED in the live quota, ERROR and DELETING ones too
(../shared/real-servers/kyaraben.md): the quota view and the status bar say so.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any
from weakref import WeakKeyDictionary

from testdeck import clock
from testdeck.columns import Col, duration
from testdeck.errors import ApiError
from testdeck.records import Record
from testdeck.resources import Ctx, Resource
from testdeck.services.kyaraben.client import Kyaraben


class QuotaRow(Record):
    kind: str = ""
    current: int = 0
    max: int = 0
    free: int = 0
    counts: str = ""


async def quota_rows(cx: Ctx) -> list[QuotaRow]:
    q, vms = await asyncio.gather(cx.client.get_quota(), cx.client.get_avms())
    states = Counter(v.status for v in vms if v.status != "DELETED")
    live = ", ".join(f"{n} {s}" for s, n in states.most_common()) or "no VM"
    rows = [("live", q.vm_live_current, q.vm_live_max, f"your VMs not DELETED, in any state: {live}"),
            ("async", q.vm_async_current, q.vm_async_max, "VMs the server starts for campaigns")]
    return [QuotaRow(raw={"kind": k, "current": c, "max": m, "free": max(0, m - c), "counts": what},
                     kind=k, current=c, max=m, free=max(0, m - c), counts=what) for k, c, m, what in rows]


# the last quota read per client (profile session), with when: a failed read shows it, marked stale
QUOTA_SEEN: WeakKeyDictionary[Any, tuple[str, float]] = WeakKeyDictionary()


class StaleQuota:
    """The last good quota, marked stale: its age is worked out by str(), each time the status bar
    paints it (a text made at the read stood still while the table's reads failed too)."""

    def __init__(self, text: str, at: float):
        self.text, self.at = text, at

    def __str__(self) -> str:
        return f"{self.text} (stale {duration(clock.now() - self.at)}: quota not read)"


async def quota_status(client: Kyaraben) -> str | StaleQuota:
    """The status bar's quota. A read that fails keeps the last good one, marked stale (`stale 40s`); it
    is an extra of the table, so it does not turn the profile's health to error when the table was read."""
    before = client.health.before()
    try:
        q = await client.get_quota()
    except ApiError as exc:
        client.health.forget([exc], before)
        seen = QUOTA_SEEN.get(client)
        if seen is None:
            return f"quota not read: {exc.message}"
        return StaleQuota(*seen)
    full = " FULL" if q.live_full else ""  # what counts: the quota view and the refusal say
    text = f"VMs {q.vm_live_current}/{q.vm_live_max} live{full}, {q.vm_async_current}/{q.vm_async_max} async"
    QUOTA_SEEN[client] = (text, clock.now())
    return text


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
    columns=[Col("kind", width=6), Col("current", width=7), Col("max", width=4), Col("free", width=4),
             Col("counts", "what counts")],
    list=quota_rows,
)
