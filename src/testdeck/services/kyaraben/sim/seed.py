"""The simulated kyaraben's seed data: what `testdeck --demo` and the tests start from."""

from __future__ import annotations

from testdeck.services.kyaraben.sim.world import DEMO_USER, HW_DEFAULTS, IMAGES, OTHER_USER, World

DSL_OK = '''Feature: "Best feature ever"
   Scenario: "Best scenario ever"
      Set sensor TYPE_LIGHT at 42
      Take a screenshot
   End

   Scenario: "Worst scenario ever"
      Set battery level at 1
   End
End
'''
DSL_TWO = '''Feature: "Login"
   Scenario: "Happy path"
      Set gps at 45.07, 7.68
      Take a screenshot
   End
End
'''
DSL_FAIL = '''Feature: "Broken"
   Scenario: "Does not compile"
      FAIL on purpose
   End
End
'''


def seed(w: World) -> None:
    """The demo world: two projects of the demo user with VMs in each state, files, sources, campaigns;
    another user's project the demo user must never see; `config.size` extra VMs for benchmarks."""
    t0 = w.now()
    day = 86400.0
    pa = w.new_project(DEMO_USER, "demo-app", t0 - 3 * day)
    pb = w.new_project(DEMO_USER, "regression", t0 - day)
    w.new_vm(DEMO_USER, pa["project_id"], "kitkat-tablet", t0 - 5400, "first vm",
             {"width": 1280, "height": 800, "enable_battery": 0})
    w.new_vm(DEMO_USER, pa["project_id"], "lollipop-phone", t0 - 1, "phone-ci", packages=[], testrun={})
    w.new_vm(DEMO_USER, pb["project_id"], "kitkat-phone", t0 - 7200, "nightly",
             fail="Heat stack creation failed: Quota exceeded for instances: Requested 1, but already used "
                  "20 of 20 instances (task rescheduled)", packages=[], testrun={})
    a2048 = w.new_apk(pa["project_id"], "com.uberspot.a2048_23.apk", t0 - 2 * day)
    apis = w.new_apk(pa["project_id"], "ApiDemos.apk", t0 - 2 * day, package="com.example.android.apis")
    libs = w.new_apk(pa["project_id"], "com.zenika.aic.core.libs.test-2.apk", t0 - 2 * day)
    w.new_camera(pa["project_id"], "ubuntu-logo.png", t0 - day)
    w.new_camera(pa["project_id"], "walk.mp4", t0 - day)
    s1 = w.new_source(pa["project_id"], "test1.aic", DSL_OK, t0 - day)
    w.compile_source(s1, t0 - day + 60)
    w.new_source(pa["project_id"], "test2.aic", DSL_TWO, t0 - 3600)
    s3 = w.new_source(pa["project_id"], "broken.aic", DSL_FAIL, t0 - 3600)
    w.compile_source(s3, t0 - 3500)
    hw = dict(HW_DEFAULTS)
    w.new_campaign(pa, "lovely-big-cobra", [
        {"image": "lollipop-phone", "hwconfig": hw, "apks": [a2048["apk_id"], libs["apk_id"]],
         "apk_packages": [a2048["package"], libs["package"]], "packages": [libs["package"]]},
    ], t0 - 7200)
    # partial and empty hwconfigs, as another client may send them: shown as sent
    w.new_campaign(pa, "brave-small-otter", [
        {"image": "kitkat-tablet", "hwconfig": {"width": 1280, "dpi": 240},
         "apks": [apis["apk_id"], libs["apk_id"]], "apk_packages": [apis["package"], libs["package"]],
         "packages": [apis["package"], libs["package"]]},
        {"image": "lollipop-phone", "hwconfig": {}, "apks": [a2048["apk_id"]],
         "apk_packages": [a2048["package"]], "packages": [a2048["package"], "com.missing.app"]},
    ], t0 - 8)
    # another user's world: the demo user must get 404 for all of it
    px = w.new_project(OTHER_USER, "alice-secret", t0 - 2 * day)
    w.new_vm(OTHER_USER, px["project_id"], "lollipop-tablet", t0 - 3600, "alice-vm")
    xa = w.new_apk(px["project_id"], "com.alice.secret_3.apk", t0 - day)
    w.new_camera(px["project_id"], "alice.png", t0 - day)
    w.new_source(px["project_id"], "alice.aic", DSL_OK, t0 - day)
    w.new_campaign(px, "alice-campaign", [{"image": "kitkat-phone", "hwconfig": hw, "apks": [xa["apk_id"]],
                                           "apk_packages": [xa["package"]], "packages": []}], t0 - day)
    for n in range(w.config.size):
        image = IMAGES[n % len(IMAGES)][0]
        w.new_vm(DEMO_USER, pa["project_id"], image, t0 - 3600 - 37 * n, f"bulk-{n:05d}",
                 fail="Heat stack creation failed: No valid host was found" if n % 7 == 6 else "")
    w.seed_ids = {"project_a": pa["project_id"], "project_b": pb["project_id"],
                  "other_project": px["project_id"], "apk_2048": a2048["apk_id"],
                  "apk_apis": apis["apk_id"], "apk_libs": libs["apk_id"]}
