"""A big bucket file goes up and comes back in bounded memory (benchmarks/xyops_bucket_files.py does 100 MB)."""

from __future__ import annotations

import os
import tracemalloc

MB = 2**20


async def test_big_file_uploads_and_downloads_in_bounded_memory(xy, tmp_path):
    client, app = xy
    size = 24 * MB
    source = tmp_path / "big.bin"
    block = os.urandom(MB)
    with source.open("wb") as out:
        for _ in range(size // MB):
            out.write(block)
    c = client()
    bucket = await c.create_bucket({"title": "big"})
    tracemalloc.start()
    try:
        seen = []
        (entry,) = await c.upload_bucket_files(bucket.id, [source], progress=lambda s, t: seen.append(s))
        dest = tmp_path / "back.bin"
        assert await c.download_bucket_file(entry.path, dest) == size
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await c.delete_bucket(bucket.id)
    # both sides (adapter and simulator) run in this process: neither holds the file
    assert peak < 6 * MB, f"peak Python allocations {peak / MB:.1f} MiB for a {size // MB} MiB file"
    assert len(seen) > 10 and seen[-1] >= size
    with source.open("rb") as a, dest.open("rb") as b:
        while chunk := a.read(MB):
            assert chunk == b.read(MB)
