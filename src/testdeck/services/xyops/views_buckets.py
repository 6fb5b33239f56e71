"""xyOps buckets (definition + JSON data) and their files (a resource scoped to a bucket)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from testdeck.columns import MUTED, OK, Col, age
from testdeck.files import save_dir
from testdeck.forms import Field, Form
from testdeck.resources import Action, Ctx, Resource, Scope, nothing_changed


def human_bytes(value: Any) -> str:
    try:
        n = float(value)
    except (TypeError, ValueError):
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


def json_object(value: Any) -> str | None:
    return None if isinstance(value, dict) else "must be a JSON object: { ... }"


def local_files(value: Any) -> str | None:
    paths = split_paths(value)
    if not paths:
        return "give at least one file"
    for p in paths:
        if not p.is_file():
            return f"no such file: {p}"
    return None


def split_paths(value: Any) -> list[Path]:
    return [Path(line.strip()).expanduser() for line in str(value or "").replace(",", "\n").splitlines()
            if line.strip()]


def new_local_path(value: Any) -> str | None:
    path = Path(str(value)).expanduser()
    if path.exists():
        return f"{path} exists: choose a new name (nothing is overwritten)"
    if not path.parent.is_dir():
        return f"no such folder: {path.parent}"
    return None


async def bucket_options(cx: Ctx) -> list[tuple[str, str]]:
    return [(b.id, b.title or b.id) for b in await cx.client.get_buckets()]


async def data_initial(cx: Ctx) -> dict:
    return {"data": (await cx.client.get_bucket(cx.key)).data}


async def edit_bucket(cx: Ctx):
    if not cx.changed:
        raise nothing_changed(cx, "POST", "update_bucket")
    return await cx.client.update_bucket(cx.key, cx.changed)


async def edit_data(cx: Ctx):
    if "data" not in cx.changed:  # the JSON as it was read (key order and spacing aside)
        raise nothing_changed(cx, "POST", "update_bucket")
    return await cx.client.update_bucket(cx.key, {"data": cx.values["data"]})


async def create_bucket(cx: Ctx):
    body = {k: v for k, v in cx.values.items() if v not in (None, "")}
    body.setdefault("data", {})
    return await cx.client.create_bucket(body)


async def list_files(cx: Ctx):
    return (await cx.client.get_bucket(cx.scope)).files


async def download(cx: Ctx) -> str:
    dest = Path(cx.values["dest"]).expanduser()
    written = await cx.client.download_bucket_file(cx.row.get("path"), dest, progress=cx.progress)
    return f"saved {cx.row.get('filename')} to {dest} ({human_bytes(written)})"


async def download_initial(cx: Ctx) -> dict:
    """Where saved logs and tables go (files.save_dir(): never the working directory), under a name not
    taken yet (the download itself never replaces a file, and writes it 0600)."""
    name = Path(str(cx.row.get("filename") or "download")).name if cx.row else "download"
    dest = save_dir() / (name or "download")
    n = 0
    while dest.exists():
        n += 1
        dest = dest.with_name(f"{Path(name).stem}-{n}{Path(name).suffix}")
    return {"dest": str(dest)}


def bucket_goes(rows: list) -> str:
    """The delete confirmation's warning: a bucket takes its data and its files with it (delete_bucket)."""
    if len(rows) == 1:
        return "Its JSON data and all its files are deleted with it; this cannot be undone."
    return "Their JSON data and all their files are deleted with them; this cannot be undone."


UPLOAD_FORM = Form("Upload files into the bucket", [
    Field("paths", "local files", type="text", required=True, validate=local_files,
          help="one path per line; a file of the same name is replaced"),
])

BUCKET_FIELDS = [
    Field("title", required=True, help="shown in lists"),
    Field("enabled", type="bool", default=True),
    Field("icon", help="Material Design icon name, optional"),
    Field("notes", type="text"),
]

buckets = Resource(
    name="buckets",
    title="Buckets",
    key="id",
    label="title",
    aliases=("bucket",),
    drill="files",
    columns=[
        Col("title"),
        Col("enabled", "on", fmt=lambda v: "yes" if v else "no", width=3, status=lambda v: OK if v else MUTED),
        Col("id", width=16),
        Col("username", "by", priority=2),
        Col("revision", "rev", width=3, priority=3),
        Col("modified", fmt=age, width=8),
    ],
    list=lambda cx: cx.client.get_buckets(),
    detail=lambda cx: cx.client.get_bucket(cx.key),  # with its data and file list
    actions=[
        Action("n", "new", create_bucket, mutates=True, row=False, form=Form("New bucket", [
            *BUCKET_FIELDS,
            Field("data", "initial data", type="json", default={}, validate=json_object,
                  help="a JSON object"),
        ])),
        Action("e", "edit", edit_bucket, mutates=True,
               form=Form("Edit bucket (definition)", BUCKET_FIELDS)),
        Action("J", "data", edit_data, mutates=True,
               form=Form("Edit bucket data: update_bucket REPLACES the whole data object with this one", [
                   Field("data", type="json", required=True, validate=json_object,
                         help="keys you remove are removed"),
               ], initial=data_initial)),
        Action("u", "upload", lambda cx: cx.client.upload_bucket_files(cx.key, split_paths(cx.values["paths"]),
                                                                       progress=cx.progress),
               mutates=True, upload=True, form=UPLOAD_FORM),
        Action("ctrl+d", "delete", lambda cx: cx.client.delete_bucket(cx.key), mutates=True,
               confirm=bucket_goes, bulk=True),
    ],
)

files = Resource(
    name="files",
    title="Bucket files",
    key="filename",
    label="filename",
    aliases=("bucket_files",),
    scope=Scope("bucket", bucket_options),
    columns=[
        Col("filename"),
        Col("size", fmt=human_bytes, width=9),
        Col("date", "uploaded", fmt=age, width=8),
        Col("username", "by", priority=2),
        Col("path", priority=3),
    ],
    list=list_files,
    actions=[
        Action("n", "upload", lambda cx: cx.client.upload_bucket_files(cx.scope, split_paths(cx.values["paths"]),
                                                                       progress=cx.progress),
               mutates=True, row=False, upload=True, form=UPLOAD_FORM),
        Action("w", "download", download, upload=True, show=str, form=Form("Download the file (streamed to disk)", [
            Field("dest", "save as", required=True, validate=new_local_path, help="a new local file"),
        ], initial=download_initial)),
        Action("ctrl+d", "delete", lambda cx: cx.client.delete_bucket_file(cx.scope, cx.row.get("filename")),
               mutates=True, confirm=True, bulk=True),
    ],
)

