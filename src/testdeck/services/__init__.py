"""The service registry: each service is a folder with client.py, sim.py, views.py.

views.py declares `SERVICE = Service(...)`; the core finds it by name and
knows nothing else about any single service.
"""

from __future__ import annotations

import importlib
from functools import cache

from testdeck.resources import Resource, Service

ORDER = ("alyvix", "xyops", "xpresso", "onetest", "kyaraben")

# Each service's resource names and aliases, so `--open NAME` goes straight to the services that
# have it instead of importing every views module first (~15 ms each of a cold start).
# tests/test_declarations.py checks this against the declarations.
NAMES = {
    "alyvix": frozenset({"licence", "license", "log", "logs", "measure", "measures", "runs", "session", "sessions",
                         "settings", "tc", "testcase", "testcases"}),
    "xyops": frozenset({"active_alerts", "alert", "alerts", "bucket", "bucket_files", "buckets", "event",
                        "event_jobs", "events", "files", "firing", "job", "jobs", "jobs_of_event", "server",
                        "servers"}),
    "xpresso": frozenset({"req", "request", "requests"}),
    "onetest": frozenset({"agent", "agents", "docker", "dockerhost", "dockerhosts", "exec", "execution",
                          "executions", "intercept", "intercepts", "rule", "rules", "runs", "staticagents",
                          "virtualization"}),
    "kyaraben": frozenset({"android", "apk", "apks", "avm", "avms", "camera", "camera_files", "campaign",
                           "campaigns", "dsl", "images", "project", "projects", "quota", "testsource",
                           "testsources", "vms"}),
}


@cache
def get_service(name: str) -> Service:
    if name not in ORDER:
        raise KeyError(name)
    return importlib.import_module(f"testdeck.services.{name}.views").SERVICE


def all_services() -> list[Service]:
    """The services that have a views module (a slice still being built has none)."""
    found = []
    for name in ORDER:
        try:
            found.append(get_service(name))
        except ModuleNotFoundError as exc:
            if exc.name != f"testdeck.services.{name}.views":
                raise
    return found


def find_resource(name: str) -> list[tuple[Service, Resource]]:
    """Every (service, resource) answering to a resource name or alias."""
    found = []
    for service in all_services():
        res = service.resource(name)
        if res is not None:
            found.append((service, res))
    return found
