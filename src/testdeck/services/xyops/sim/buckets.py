"""Buckets: definitions, JSON data and files, as the real server keeps them.

update_bucket replaces the whole data object; write_bucket_data merges it.
Files are stored on disk (a 100 MB upload must not sit in memory) under a
lowercased, underscored path with a random segment, while `filename` keeps
the original name; only an exact filename match replaces a file. The file
URL needs no key: the random path segment is its only protection.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from testdeck.services.xyops.sim.core import ID_RULE, Api, Reject

SEED = [
    ("The Void", "trash-can-outline", {"foo": "Hello this is a bucket"}, [("test.png", b"\x89PNG demo " * 400)]),
    ("Release artefacts", "package-variant", {"version": "2.4.1", "channel": "stable", "approved": True},
     [("Release Notes.TXT", b"2.4.1: fixes the login timeout\n"), ("build.log", b"build ok\n" * 200)]),
    ("Nightly state", "weather-night", {"last_run": "2026-11-17", "failures": 2}, []),
]


def normalize(filename: str) -> str:
    return re.sub(r"[^a-z0-9.-]", "_", filename.lower())


class Store:
    def __init__(self, root: Path, buckets: dict, data: dict, files: dict, clock, new_id, path_rng):
        self.root, self.buckets, self.data, self.files = root, buckets, data, files
        self.clock, self.new_id, self.rng = clock, new_id, path_rng

    def bucket(self, bid: str, code: str = "bucket") -> dict[str, Any]:
        bucket = self.buckets.get(bid)
        if bucket is None:
            raise Reject(code, f"Bucket not found: {bid}")
        return bucket

    def add_file(self, bid: str, filename: str, source, username: str) -> dict[str, Any]:
        """Store a file from a binary stream (or bytes); an exact filename match is replaced."""
        for old in [f for f in self.files[bid] if f["filename"] == filename]:
            self.remove_file(bid, old)
        rand = "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                       for _ in range(43))
        path = f"files/bucket/{bid}/{rand}/{normalize(filename)}"
        dest = self.root / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        with dest.open("wb") as out:
            if isinstance(source, bytes):
                out.write(source)
            else:
                shutil.copyfileobj(source, out, 1024 * 1024)
        entry = {"id": self.new_id("f"), "date": int(self.clock()), "filename": filename, "path": path,
                 "size": dest.stat().st_size, "username": username}
        self.files[bid].append(entry)
        return entry

    def remove_file(self, bid: str, entry: dict[str, Any]) -> None:
        self.files[bid].remove(entry)
        (self.root / entry["path"]).unlink(missing_ok=True)


def seed(store: Store, start: int) -> None:
    for i, (title, icon, data, files) in enumerate(SEED):
        bid = store.new_id("b")
        store.buckets[bid] = {"id": bid, "title": title, "enabled": i != 2, "icon": icon, "notes": "",
                              "username": "admin", "modified": start - 3600 * (i + 1),
                              "created": start - 86400 * (i + 5), "revision": 2}
        store.data[bid] = dict(data)
        store.files[bid] = []
        for n, (name, content) in enumerate(files):
            store.add_file(bid, name, content, "admin")["date"] = start - 3600 * (i + 1) - 60 * n


def install(api: Api, store: Store) -> list[Route]:
    buckets, data, files = store.buckets, store.data, store.files

    @api("get_buckets")
    def get_buckets(p):
        rows = sorted(buckets.values(), key=lambda b: str(b.get("title", "")).lower())
        return {"rows": rows, "list": {"length": len(rows)}}

    @api("get_bucket", {"id": ID_RULE})
    def get_bucket(p):
        bucket = store.bucket(p["id"], "notfound")
        return {"bucket": bucket, "data": data[p["id"]], "files": files[p["id"]]}

    @api("create_bucket", {"title": None}, "create_buckets")
    def create_bucket(p):
        if p.get("id") not in (None, "") and not re.search(ID_RULE, str(p["id"])):
            raise Reject("api", "Malformed parameter: id")
        bid = str(p.get("id") or store.new_id("b"))
        if bid in buckets:
            raise Reject("bucket", "That Bucket ID already exists")
        now = int(store.clock())
        bucket = {k: v for k, v in p.items() if k not in ("data", "files")}
        bucket.update(id=bid, username="api", created=now, modified=now, revision=1)
        buckets[bid] = bucket
        data[bid] = p["data"] if isinstance(p.get("data"), dict) else {}
        files[bid] = []
        return {"bucket": bucket}  # the data is not echoed

    @api("update_bucket", {"id": ID_RULE}, "edit_buckets")
    def update_bucket(p):
        bucket = store.bucket(p["id"])
        if isinstance(p.get("data"), dict):
            data[p["id"]] = p["data"]  # replaces the whole data object
        for k, v in p.items():
            if k not in ("data", "files", "created", "username", "revision"):
                bucket[k] = v
        bucket["modified"] = int(store.clock())
        bucket["revision"] = int(bucket.get("revision") or 0) + 1
        return {}

    @api("write_bucket_data", {"id": ID_RULE}, "edit_buckets")
    def write_bucket_data(p):
        store.bucket(p["id"])
        if isinstance(p.get("data"), dict):
            data[p["id"]].update(p["data"])  # a shallow merge
        return {"data": data[p["id"]]} if p.get("fetch") else {}

    @api("delete_bucket", {"id": ID_RULE}, "delete_buckets")
    def delete_bucket(p):
        store.bucket(p["id"])
        for entry in list(files[p["id"]]):
            store.remove_file(p["id"], entry)
        del buckets[p["id"]], data[p["id"]], files[p["id"]]
        return {}

    @api("empty_bucket", {"id": ID_RULE}, "edit_buckets")
    def empty_bucket(p):
        store.bucket(p["id"])
        if p.get("files"):
            for entry in list(files[p["id"]]):
                store.remove_file(p["id"], entry)
        if p.get("data"):
            data[p["id"]] = {}
        return {}

    @api("upload_bucket_files", privilege="edit_buckets")
    async def upload_bucket_files(p, request: Request, who):
        form = await request.form(max_files=100, max_part_size=1024**3)
        try:
            bid = str(form.get("id") or form.get("bucket") or p.get("id") or "")
            if not bid:
                raise Reject("api", "Missing parameter: id")
            if not re.search(ID_RULE, bid):
                raise Reject("api", "Malformed parameter: id")
            store.bucket(bid)
            uploads = [v for _, v in form.multi_items() if hasattr(v, "filename") and hasattr(v, "file")]
            if not uploads:
                raise Reject("bucket", "No file upload data found in request.")
            for up in uploads:
                store.add_file(bid, up.filename or "file", up.file, "api")
        finally:
            await form.close()
        return {"files": files[bid]}

    @api("delete_bucket_file", {"id": ID_RULE}, "edit_buckets")
    def delete_bucket_file(p):
        store.bucket(p["id"])
        criteria = {k: p[k] for k in ("filename", "path", "date", "size", "username") if k in p}
        if not criteria:
            raise Reject("bucket", "No criteria specified to locate file.")
        match = next((f for f in files[p["id"]] if all(str(f.get(k)) == str(v) for k, v in criteria.items())),
                     None)
        if match is None:
            import json
            raise Reject("bucket", f"Failed to delete bucket file: Bucket file not found: "
                                   f"{json.dumps(criteria, separators=(',', ':'))}")
        store.remove_file(p["id"], match)
        return {}

    async def download(request: Request) -> Response:
        rel = "files/" + request.path_params["path"]
        known = any(f["path"] == rel for fl in files.values() for f in fl)
        target = store.root / rel
        if not known or not target.is_file():
            # the real server's 404 for files: a text body and no content-type
            return Response(f"Error: Failed to head key: {rel}: File not found".encode(), status_code=404,
                            media_type=None)
        disposition = "attachment" if request.query_params.get("download") else None
        return FileResponse(target, media_type="text/plain", filename=target.name if disposition else None,
                            content_disposition_type=disposition or "inline")

    return [Route("/files/{path:path}", download, methods=["GET", "HEAD"])]
