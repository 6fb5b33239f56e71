"""What the XPRESSO simulator knows before anyone submits: users, tokens, groups,
profiles, bundles and testbeds. All public demo values, none a real secret."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def make_jwt(payload: dict[str, Any], signature: bytes = b"testdeck-demo-signature") -> str:
    """A JWT shaped like XPRESSO's (RS256 header, username/group/exp claims); the signature is fake."""
    header = {"typ": "JWT", "alg": "RS256"}
    return ".".join((b64url(json.dumps(header, separators=(",", ":")).encode()),
                     b64url(json.dumps(payload, separators=(",", ":")).encode()), b64url(signature)))


@dataclass
class User:
    name: str
    groups: frozenset[str]
    perms: frozenset[str] = frozenset({"run_request", "stop_request"})
    exp: float | None = None  # the token's expiry (epoch); the server refuses it afterwards


DEMO_USER = "demo_user"
DEMO_GROUP = "testdeck-demo"
OTHER_GROUP = "lab-ops"  # the demo user is a member of this one too
FOREIGN_GROUP = "core-team"  # ... and not of this one
GROUP_HEADER = "Group"
DEMO_EXP = 1_893_456_000  # 2030-01-01T00:00:00Z: the demo token is valid for years
DEMO_TOKEN = make_jwt({"username": DEMO_USER, "token_type": "api-token", "exp": DEMO_EXP,
                       "date_created": "2026-01-05T09:00:00.000Z", "group": DEMO_GROUP})
VIEWER_TOKEN = make_jwt({"username": "viewer", "token_type": "api-token", "exp": DEMO_EXP,
                         "group": DEMO_GROUP})  # may look, may not run or stop


def default_users() -> dict[str, User]:
    return {DEMO_TOKEN: User(DEMO_USER, frozenset({DEMO_GROUP, OTHER_GROUP}), exp=DEMO_EXP),
            VIEWER_TOKEN: User("viewer", frozenset({DEMO_GROUP}), perms=frozenset(), exp=DEMO_EXP)}


@dataclass(frozen=True)
class Job:
    """A profile or bundle: the job it runs, its scripts and how it ends."""

    name: str
    job: str
    verdict: str  # PASSED, FAILED or ERRORED
    scripts: tuple[tuple[str, int], ...]  # (script file, number of testcases)
    items: int = 1


PROFILES = {
    "964c036a-619e-4001-b62e-4f7f028231dc": Job("DEFAULT", "Job_VIRL", "PASSED",
                                                (("genie_testscript.py", 3),)),
    "b7672128-d6c1-40b3-b30c-80fa50edca03": Job("nightly-regression", "Job_Regression", "FAILED",
                                                (("bgp_regression.py", 4), ("ospf_checks.py", 2)), items=2),
    "5f0c2a3e-8d1b-4c6e-9a57-1d2e3f4a5b6c": Job("smoke [fast]", "Job_Smoke", "PASSED", (("smoke.py", 2),)),
    "a1b2c3d4-0e0f-4a4b-8c8d-9e9fa0a1a2a3": Job("flaky-infra", "Job_Infra", "ERRORED",
                                                (("infra_setup.py", 3),)),
}
BUNDLES = {
    "0d7c9b1e-2f3a-4b5c-8d6e-7f8091a2b3c4": Job("weekly-bundle", "Bundle_Weekly", "PASSED",
                                                (("weekly_a.py", 2), ("weekly_b.py", 2)), items=2),
}
TESTBEDS = {
    "07f3a282-ac12-4993-96b0-181912a41bb1": "pyATS_pod12_shared",
    "22a5dd98-63e1-46b1-b0c1-88833b24da14": "pyATS_pod13_shared",
    "dacba4c8-22ff-4b5b-b4a4-4d69376b8b90": "virl-sjc-07",
}
TOPOLOGIES = {"3c1d6f0e-5a4b-4e2f-9d8c-7b6a5f4e3d2c": "two-node-ios"}
ENGINE = {"name": "jenkins", "type": "jenkins", "uuid": "75e32472-e6d9-425f-be88-49be550c2ef1"}
HARNESS = {"oper_state": "ONLINE", "config_state": "ENABLED", "bldg": "ALL", "site": "SJC", "deleted": False,
           "name": "genie_env", "path": "/path/to/genie", "config": "",
           "harness": {"name": "pyATS", "run": "easypy", "clean": "kleenex"},
           "uuid": "189f30a8-c475-4303-b638-77cc93f4073b", "support_liveview": True}

DEMO_PROFILE = next(iter(PROFILES))
FAILING_PROFILE = list(PROFILES)[1]
SMOKE_PROFILE = list(PROFILES)[2]
ERRORED_PROFILE = list(PROFILES)[3]
DEMO_BUNDLE = next(iter(BUNDLES))
DEMO_TESTBED = next(iter(TESTBEDS))
DEMO_TOPOLOGY = next(iter(TOPOLOGIES))
