"""kyaraben through the headless CLI: text documents print as text, ids stay ids."""

from __future__ import annotations

import pytest

from testdeck import cli
from testdeck.services.kyaraben import sim


@pytest.fixture
def kyaraben_profile(sim_server, monkeypatch, tmp_path):
    url, app, _config = sim_server(sim.create_app)
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[profiles.kb]\nservice = "kyaraben"\nurl = "{url}"\ntimeout = 3\nuser_id = "{sim.DEMO_USER}"\n')
    monkeypatch.setenv("TESTDECK_CONFIG", str(cfg))
    monkeypatch.setenv("TESTDECK_SECRET_KB", sim.DEMO_TOKEN)
    return app


def test_describe_testsource_prints_the_dsl_text_so_it_pipes(kyaraben_profile, capsys):
    app = kyaraben_profile
    pid = app.state.seed["project_a"]
    sid = next(s["testsource_id"] for s in app.state.testsources.values() if s["filename"] == "test1.aic")
    assert cli.main(["describe", "testsources", sid, "--project", pid]) == 0
    assert capsys.readouterr().out == sim.DSL_OK  # not a JSON-quoted string


def test_describe_a_vm_is_json(kyaraben_profile, capsys):
    app = kyaraben_profile
    avm_id = next(k for k, v in app.state.avms.items() if v["avm_name"] == "first vm")
    assert cli.main(["describe", "avms", avm_id]) == 0
    assert '"avm_name": "first vm"' in capsys.readouterr().out
