"""OneTest records: executions, results, static agents, docker hosts, rules, intercepts, spaces, projects."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from testdeck import clock
from testdeck.columns import _epoch
from testdeck.records import Record

STATUSES = ("COMPLETE", "COMPLETE_WITH_ERROR", "STOPPED_BY_USER", "STOPPED_AUTOMATICALLY", "INCOMPLETE", "RUNNING",
            "IN_TRANSITION", "SCHEDULED", "CANCELED", "LAUNCH_FAILED", "STOPPING")
ACTIVE_STATUSES = ("RUNNING", "IN_TRANSITION", "SCHEDULED", "STOPPING")
FAILED_STATUSES = ("COMPLETE_WITH_ERROR", "LAUNCH_FAILED", "STOPPED_BY_USER", "STOPPED_AUTOMATICALLY")
# what the document's ids look like (an execution "1cee02cb-9a89-4175-acef-6af120497476", a team space, an
# asset id); use fullmatch
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text: str) -> float | None:
    """java.time.Duration.parse's ISO-8601 form (PT20.345S, PT15M, P2DT3H4M) in seconds."""
    m = _DURATION.match(str(text).strip().upper())
    if not m or not any(m.groups()) or str(text).upper().endswith("T"):
        return None
    d, h, mi, s = m.groups()
    return int(d or 0) * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)


def rows(payload: Any) -> list:
    """A bare array, or the list inside a wrapper ({total, data}, {content}, ...)."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        for key in ("data", "content", "items", "executions", "agents", "dockerhosts", "rules", "intercepts",
                    "entries"):
            if isinstance(payload.get(key), list):
                return payload[key]
    return []


class Execution(Record):
    id: str = ""
    status: str = ""
    message: str = ""
    startDate: str = ""
    completionDate: str = ""
    result: dict = msgspec.field(default_factory=dict)
    testAsset: dict = msgspec.field(default_factory=dict)
    tags: list = msgspec.field(default_factory=list)
    environment: str = ""
    # derived for the table
    asset: str = ""
    result_id: str = ""
    verdict: str = ""
    duration: float | None = None

    def __post_init__(self) -> None:
        if not self.asset:
            self.asset = str(self.testAsset.get("name") or self.testAsset.get("assetId") or "")
        if not self.result_id and self.result.get("id") is not None:
            self.result_id = str(self.result.get("id"))
        start, end = _epoch(self.startDate), _epoch(self.completionDate)
        if start is not None and self.duration is None:
            self.duration = max(0.0, (end if end is not None else clock.now()) - start)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class Result(Record):
    id: str = ""
    verdict: str = ""
    message: str = ""
    reports: list = msgspec.field(default_factory=list)


def capability_pairs(capabilities: list) -> list[str]:
    """["os=linux", ...] from the nested Capability -> CapabilityValues -> CapabilityValue shape."""
    out = []
    for cap in capabilities or []:
        if not isinstance(cap, dict):
            continue
        values = [v.get("value") for group in cap.get("value") or [] if isinstance(group, dict)
                  for v in group.get("capability") or [] if isinstance(v, dict)]
        key = cap.get("key") or cap.get("name") or "?"
        out += [f"{key}={v}" for v in values if v not in (None, "")] or [str(key)]
    return out


class Agent(Record):
    id: int = 0
    hostName: str = ""
    ipAddress: str = ""
    owner: str = ""
    type: str = ""
    version: str = ""
    operatingSystem: str = ""
    architecture: str = ""
    ram: str = ""
    licenseType: str = ""
    pollInterval: int = 0
    engineListSize: int = 0
    contactTime: int = 0
    capabilities: list = msgspec.field(default_factory=list)
    state: str = ""
    rtbState: str = ""
    caps: str = ""

    def __post_init__(self) -> None:
        if not self.caps:
            self.caps = " ".join(capability_pairs(self.capabilities))


class DockerHost(Record):
    id: int = 0
    name: str = ""
    hostName: str = ""
    ipAddress: str = ""
    port: str = ""
    owner: str = ""
    type: str = ""
    secure: bool = False
    projectList: str = ""
    teamSpaceList: str = ""
    info: dict = msgspec.field(default_factory=dict)
    status: str = ""  # the last known execution status, filled by the adapter
    reason: str = ""
    version: str = ""

    def __post_init__(self) -> None:
        if not self.version:
            self.version = str(self.info.get("version") or "")


class ConnectionStatus(Record):
    status: str = ""
    reason: str = ""
    info: dict = msgspec.field(default_factory=dict)


class Rule(Record):
    id: str = ""
    projectId: str = ""
    createdBy: str = ""
    createdAt: int = 0
    condition: dict = msgspec.field(default_factory=dict)
    activity: dict = msgspec.field(default_factory=dict)
    status: str = ""
    intercepts: list = msgspec.field(default_factory=list)
    target: str = ""
    mode: str = ""
    recipients: str = ""

    def __post_init__(self) -> None:
        self.target = self.target or str(self.condition.get("target") or "")
        self.mode = self.mode or str(self.activity.get("mode") or "")
        self.recipients = self.recipients or ", ".join(str(r) for r in self.activity.get("recipients") or [])


class ActivityEntry(Record):
    date: int = 0
    message: str = ""


class Intercept(Record):
    id: str = ""
    hostName: str = ""
    identifier: str = ""
    type: str = ""
    state: str = ""
    operatingSystem: str = ""
    owner: str = ""
    ports: str = ""
    version: str = ""
    interceptCapabilities: list = msgspec.field(default_factory=list)


class Named(Record):
    """A team space ({id, displayName}) or a project ({id, name})."""

    id: str = ""
    name: str = ""
    displayName: str = ""

    @property
    def label(self) -> str:
        return self.displayName or self.name or self.id
