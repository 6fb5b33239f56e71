"""kyaraben resources for the generic screen and the CLI.

VMs and projects are global to the user; APKs, camera files, test sources and
campaigns live inside a project (the shared `project` scope, remembered per
profile). Commands (install, monkey, testrun) are followed in the log tail
until READY or ERROR, or until they have stayed QUEUED too long.
One module per resource family: vms, quota (with the images), projects,
files (APKs, camera files, test sources), campaigns; common holds what they share.
"""

from __future__ import annotations

from testdeck.resources import Failing, Service
from testdeck.services.kyaraben import sim
from testdeck.services.kyaraben.client import Kyaraben
from testdeck.services.kyaraben.views import campaigns, files, projects, quota, vms

SERVICE = Service(
    name="kyaraben",
    title="kyaraben",
    client=Kyaraben,
    resources=[vms.avms, projects.projects, files.apks, files.camera, files.testsources, campaigns.campaigns,
               quota.images, quota.quota],
    create_sim=sim.create_app,
    demo_fields={"user_id": sim.DEMO_USER},
    demo_secret=sim.DEMO_TOKEN,
    status=quota.quota_status,
    failing=[
        Failing("avms", when=lambda r: r.get("status") == "ERROR", severity="error",
                what=lambda r: f"VM {r.get('avm_name') or r.get('avm_id')}",
                message=vms.error_message,
                since=lambda r: r.get("status_ts") or r.get("ts_created")),
        Failing("campaigns", when=lambda r: r.get("status") == "ERROR", severity="error",
                what=lambda r: f"campaign {r.get('campaign_name') or r.get('campaign_id')}",
                message=lambda r: "a test failed (see the campaign's progress)"),
    ],
)
