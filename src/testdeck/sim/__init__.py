"""Shared kit for the embedded simulators (each lives in services/<name>/sim.py)."""

from testdeck.sim.base import Ids, RunningServer, SimConfig, asgi_client, faults, serve

__all__ = ["Ids", "RunningServer", "SimConfig", "asgi_client", "faults", "serve"]
