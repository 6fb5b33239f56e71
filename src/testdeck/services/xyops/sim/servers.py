"""Servers: get_active_servers rows with `info`, get_server with the host data test_alert reads."""

from __future__ import annotations

import copy
from typing import Any

from testdeck.services.xyops.sim.core import ID_RULE, Api, Reject

GB = 2**30
# id, hostname, ip, groups, cores, memory total / available (GB), load, distro, monitors, online
SEED = [
    ("local", "conductor.demo", "10.0.0.10", ["main"], 2, 8, 2, 0.65, ("Ubuntu", "24.04"),
     {"load_avg": 0.65, "disk_usage_var": 41, "net_errors": 0, "processes": 180, "open_files": 3100}, True),
    ("s12345abcde", "web01.demo", "10.0.0.21", ["main", "web"], 2, 8, 2, 2.5, ("Ubuntu", "22.04"),
     {"load_avg": 2.5, "disk_usage_var": 93, "net_errors": 0, "processes": 211, "open_files": 4012}, True),
    ("s67890fghij", "db01.demo", "10.0.0.31", ["main", "db"], 8, 32, 1, 11.2, ("Debian", "12"),
     {"load_avg": 11.2, "disk_usage_var": 41, "net_errors": 17, "processes": 954, "open_files": 61877}, True),
    ("sbatch02demo", "batch02.demo", "10.0.0.42", ["batch"], 4, 16, 9, 0.0, ("Rocky Linux", "9.4"),
     {"load_avg": 0.0, "disk_usage_var": 12, "net_errors": 0, "processes": 97, "open_files": 900}, False),
]


def seed(servers: dict[str, dict[str, Any]], hosts: dict[str, dict[str, Any]], start: int) -> None:
    for i, (sid, host, ip, groups, cores, total, avail, load, (distro, release), monitors, online) in enumerate(SEED):
        memory = {"total": total * GB, "available": avail * GB, "used": (total - avail) * GB}
        cpu = {"cores": cores, "combo": f"Demo CPU x{cores}"}
        os_ = {"platform": "linux", "distro": distro, "release": release, "arch": "x64"}
        server = {"id": sid, "hostname": host, "ip": ip, "groups": groups, "enabled": True, "autoGroup": True,
                  "info": {"satellite": "1.0.39", "node": "v22.11.0", "os": os_, "arch": "x64", "memory": memory,
                           "cpu": cpu, "load": [load, load * 0.9, load * 0.8], "booted": start - 86400 * (i + 3)},
                  "keywords": [host, ip, *groups], "created": start - 86400 * (30 + i), "modified": start - 60 * i}
        if online:
            server["socket_id"] = f"ws{i:04d}"
        else:
            server["offline"] = True
        servers[sid] = server
        data = {"cpu": cpu, "memory": {**memory, "mem_avail": memory["available"]}, "load": load,
                "monitors": {**monitors, "mem_avail": memory["available"]}, "os": os_}
        hosts[sid] = {"version": "1.0", "date": start - 30, "server": sid, "hostname": host, "data": data}


def install(api: Api, servers: dict[str, dict[str, Any]], hosts: dict[str, dict[str, Any]]) -> None:
    @api("get_active_servers")
    def get_active_servers(p):
        rows = list(servers.values())  # a server that went away stays listed, flagged `offline`
        return {"rows": rows, "list": {"length": len(rows)}}

    @api("get_active_server", {"id": ID_RULE})
    def get_active_server(p):
        server = servers.get(p["id"])
        if server is None:
            raise Reject("notfound", f"Failed to locate server: {p['id']}")
        return {"server": server}

    @api("get_servers")
    def get_servers(p):
        return {"servers": servers, "masters": {"conductor.demo": {"id": "conductor.demo", "online": True,
                                                                   "master": True, "version": "1.0.88"}}}

    @api("get_server", {"id": ID_RULE})
    def get_server(p):
        server, data = servers.get(p["id"]), hosts.get(p["id"])
        if server is None or data is None:
            raise Reject("notfound", f"Failed to load server data: Error: Failed to fetch key: hosts/{p['id']}/data: "
                                     "Not found")
        return {"server": server, "data": copy.deepcopy(data), "online": not server.get("offline")}
