"""kyaraben simulator: every endpoint of kyaraben.txt, answered the way the real server answers.

Where the real server and its document disagree, the real server wins
(../shared/real-servers/kyaraben.md, observed call by call); each module's
docstring lists the real quirks it keeps. Common to all:
- `X-Auth-UserId` is required (401 JSON `{"error": "Missing authentication header"}`);
  an `Authorization` header, when present, must be `Bearer DEMO_TOKEN`.
- Another user's resources answer 404, exactly like missing ones.
- Only POST /android has a schema (400 `Malformed request: <jsonschema message>`);
  a body that is not JSON is 400 `a json body is expected`; a body missing a key
  a handler reads is aiohttp's bare 500 page.

world.py holds the tables and lazy state machines, seed.py the demo data; vms.py, projects.py (and
campaigns) and files.py (APKs, camera files, test sources) hold the routes.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from testdeck.services.kyaraben.sim import files, projects, vms, world
from testdeck.services.kyaraben.sim.seed import DSL_FAIL, DSL_OK, DSL_TWO, seed
from testdeck.services.kyaraben.sim.world import (  # noqa: F401  (the names tests and views use)
    DEMO_TOKEN,
    DEMO_USER,
    HW_DEFAULTS,
    IMAGE_EXT,
    IMAGES,
    MOVIE_EXT,
    OTHER_USER,
    VM_ASYNC_MAX,
    VM_LIVE_MAX,
    World,
)
from testdeck.sim.base import SimConfig, faults


def create_app(config: SimConfig | None = None) -> Any:
    config = config or SimConfig()
    w = World(config)
    seed(w)
    app = Starlette(routes=vms.routes(w) + projects.routes(w) + files.routes(w))
    app.state.config = config
    app.state.world = w
    app.state.projects = w.projects
    app.state.avms = w.avms
    app.state.apks = w.apks
    app.state.camera = w.camera
    app.state.testsources = w.sources
    app.state.campaigns = w.campaigns
    app.state.commands = w.commands
    app.state.seed = w.seed_ids
    return faults(app, config)
