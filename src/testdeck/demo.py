"""`--demo`: the five simulators on loopback ephemeral ports and a temporary config."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from testdeck.config import Config, Profile, save_config
from testdeck.credentials import env_var
from testdeck.services import all_services
from testdeck.sim import RunningServer, SimConfig, serve


@dataclass
class Demo:
    config: Config
    folder: Path
    servers: list[RunningServer] = field(default_factory=list)
    env: list[str] = field(default_factory=list)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        for name in self.env:
            os.environ.pop(name, None)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_demo(seed: int = 1, size: int = 0, speed: float = 1.0) -> Demo:
    folder = Path(tempfile.mkdtemp(prefix="testdeck-demo-"))
    demo = Demo(Config(path=folder / "config.toml", settings={"refresh_interval": 3.0}), folder)
    # a simulator's own temporary files (xyOps bucket files) go inside the demo's folder: removing it
    # on SIGTERM/SIGHUP (cli.guard_demo), when no finaliser runs, removes them too
    previous, tempfile.tempdir = tempfile.tempdir, str(folder)
    try:
        for service in all_services():
            if service.create_sim is None:
                continue
            server = serve(service.create_sim(SimConfig(seed=seed, size=size, speed=speed)))
            demo.servers.append(server)
            name = f"demo-{service.name}"
            demo.config.profiles[name] = Profile(name, service.name, server.url, timeout=5.0,
                                                 fields=dict(service.demo_fields))
            if service.demo_secret:
                # the documented env-var route: the demo secrets never touch disk or keyring
                os.environ[env_var(name)] = service.demo_secret
                demo.env.append(env_var(name))
        save_config(demo.config)
    except BaseException:
        demo.stop()
        raise
    finally:
        tempfile.tempdir = previous
    return demo
