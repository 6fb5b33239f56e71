"""xyOps servers (read-only): what get_active_servers says of each, with `info`."""

from __future__ import annotations

from typing import Any

from testdeck.columns import ERROR, OK, Col
from testdeck.resources import Resource
from testdeck.services.xyops.views_buckets import human_bytes


def _get(info: Any, *keys: str) -> Any:
    for key in keys:
        info = info.get(key) if isinstance(info, dict) else None
    return info


def load(info: Any) -> str:
    value = _get(info, "load")
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        value = _get(info, "monitors", "load_avg")
    try:
        return f"{float(value):.2f}"
    except (TypeError, ValueError):
        return ""


def os_name(info: Any) -> str:
    os_ = _get(info, "os")
    if isinstance(os_, dict):
        return " ".join(str(os_.get(k)) for k in ("distro", "release") if os_.get(k)) or str(os_.get("platform", ""))
    return str(os_ or "")


def memory(info: Any) -> str:
    total, avail = _get(info, "memory", "total"), _get(info, "memory", "available")
    if not total:
        return ""
    return f"{human_bytes(avail)} free / {human_bytes(total)}" if avail is not None else human_bytes(total)


# Several columns read the nested `info` object, each its own part of it.
servers = Resource(
    name="servers",
    title="Servers",
    key="id",
    label="hostname",
    aliases=("server",),
    columns=[
        Col("hostname"),
        Col("offline", "online", fmt=lambda v: "OFFLINE" if v else "online", width=7,
            status=lambda v: ERROR if v else OK),
        Col("ip", width=15),
        Col("groups", fmt=lambda v: ",".join(map(str, v or [])), priority=2),
        Col("info", "os", fmt=os_name, priority=1),
        Col("info", "cpus", fmt=lambda i: str(_get(i, "cpu", "cores") or ""), width=4),
        Col("info", "load", fmt=load, width=6),
        Col("info", "memory", fmt=memory, priority=1),
        Col("id", priority=3),
    ],
    list=lambda cx: cx.client.get_active_servers(),
    detail=lambda cx: cx.client.get_server(cx.key),  # with its latest host data
)
