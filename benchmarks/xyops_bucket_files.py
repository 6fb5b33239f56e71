"""A 100 MB bucket file up and down through the xyOps adapter: time and memory, against reading it whole.

The simulator runs in this process on loopback (it spools uploads to disk and
serves files from disk), so the figures include both sides.

    python benchmarks/xyops_bucket_files.py [--mb 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from testdeck.config import Profile
from testdeck.services.xyops import sim
from testdeck.services.xyops.client import XyOps
from testdeck.sim import SimConfig, serve


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(mb: int, work: Path) -> None:
    source = work / "big.bin"
    block = os.urandom(1024 * 1024)
    with source.open("wb") as out:
        for _ in range(mb):
            out.write(block)
    server = serve(sim.create_app(SimConfig()))
    client = XyOps(Profile("bench", "xyops", server.url, timeout=60), sim.API_KEY)
    try:
        bucket = await client.create_bucket({"title": "bench"})
        start_rss, start_peak = rss_mib(), peak_mib()
        tracemalloc.start()
        t0 = time.perf_counter()
        (entry,) = await client.upload_bucket_files(bucket.id, [source])
        t1 = time.perf_counter()
        dest = work / "copy.bin"
        await client.download_bucket_file(entry.path, dest)
        t2 = time.perf_counter()
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        ok = dest.stat().st_size == source.stat().st_size
        print(f"testdeck: upload {mb} MB in {t1 - t0:.2f}s, download in {t2 - t1:.2f}s, same size: {ok}")
        print(f"  Python allocations peak {traced_peak / 2**20:.1f} MiB; RSS {start_rss:.0f} -> {rss_mib():.0f} MiB, "
              f"peak RSS growth {peak_mib() - start_peak:.1f} MiB")
        before = peak_mib()
        data = source.read_bytes()  # the baseline: the file whole in memory, once
        print(f"baseline (read the file whole once): peak RSS growth {peak_mib() - before:.1f} MiB "
              f"({len(data) / 2**20:.0f} MiB held)")
    finally:
        await client.aclose()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        asyncio.run(run(args.mb, Path(work)))


if __name__ == "__main__":
    main()
