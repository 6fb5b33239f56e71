"""OneTest resources: executions, static agents, docker hosts, virtualization rules and intercepts.

Declarations over the generic ResourceScreen, split by resource (views_*.py);
the docker host form with its connection test is the one special screen.
"""

from __future__ import annotations

from testdeck.resources import DAY, Failing, Service
from testdeck.services.onetest import sim
from testdeck.services.onetest.client import OneTest
from testdeck.services.onetest.views_executions import FAILED, executions
from testdeck.services.onetest.views_hosts import agents, dockerhosts
from testdeck.services.onetest.views_virtualization import intercepts, rules

SERVICE = Service(
    name="onetest",
    title="OneTest",
    client=OneTest,
    resources=[executions, agents, dockerhosts, rules, intercepts],
    create_sim=sim.create_app,
    demo_fields={"project_id": sim.DEMO_PROJECT_ID, "space_id": sim.DEMO_SPACE_ID},
    demo_secret=sim.DEMO_OFFLINE_TOKEN,
    failing=[
        Failing("executions", lambda r: r.get("status") in ("COMPLETE_WITH_ERROR", "LAUNCH_FAILED"),
                severity="error", what=lambda r: f"{r.get('asset')} ({r.get('status')})",
                message=lambda r: r.get("message") or r.get("status"), since=lambda r: r.get("completionDate"),
                query=FAILED, within=DAY),
        Failing("agents", lambda r: r.get("state") == "LOST", severity="warning",
                what=lambda r: f"agent {r.get('hostName')}", message=lambda _: "LOST: no contact from the agent",
                since=lambda r: r.get("contactTime"), query="all"),  # every user's agents, not only mine
    ],
)
