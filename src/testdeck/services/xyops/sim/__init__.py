"""xyOps simulator: follows the real xyOps 1.0.88 server (../shared/real-servers/xyops.md), not only the document.

Alerts, buckets (data and files), events, jobs (with live logs) and servers,
seeded and deterministic; `size` adds generated alerts and completed jobs.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from testdeck.services.xyops.sim import alerts, buckets, jobs, servers
from testdeck.services.xyops.sim.core import API_KEY, READ_KEY, Api, api_route
from testdeck.sim.base import Ids, SimConfig, faults

__all__ = ["API_KEY", "READ_KEY", "create_app"]


def create_app(config: SimConfig | None = None) -> Any:
    config = config or SimConfig()
    ids = Ids(config.seed)
    start = int(config.clock())

    def new_id(prefix: str) -> str:
        return ids.alnum(15, prefix)  # 16 lowercase alphanumerics with a type prefix

    api = Api()
    state: dict[str, Any] = {"alerts": {}, "servers": {}, "hosts": {}, "buckets": {}, "bucket_data": {},
                             "bucket_files": {}, "events": {}, "jobs": {}, "invocations": {}}
    servers.seed(state["servers"], state["hosts"], start)
    alerts.seed(state["alerts"], start, config.size, new_id)
    root = Path(tempfile.mkdtemp(prefix="testdeck-xyops-sim-"))
    store = buckets.Store(root, state["buckets"], state["bucket_data"], state["bucket_files"], config.clock, new_id,
                          random.Random(config.seed + 1))
    buckets.seed(store, start)
    runner = jobs.Jobs(config, state["events"], state["jobs"], new_id, ids.hex32())
    jobs.seed(runner, start, config.size)
    alerts.seed_invocations(state["invocations"], state["alerts"], state["hosts"], start, new_id)  # ids last

    def host_data(sid: str) -> dict[str, Any] | None:
        host = state["hosts"].get(sid)
        return host["data"] if host else None

    alerts.install(api, state["alerts"], host_data, config.clock, new_id, state["invocations"])
    servers.install(api, state["servers"], state["hosts"])
    routes = [*buckets.install(api, store), *jobs.install(api, runner), api_route(api)]
    app = Starlette(routes=routes)
    for name, value in state.items():
        setattr(app.state, name, value)
    app.state.config, app.state.jobs_runner, app.state.store = config, runner, store
    weakref.finalize(app, shutil.rmtree, root, True)  # the stored files go with the simulator
    return faults(app, config)
