"""Files to and from a profile's server: a multipart upload streamed from disk with its progress, and a
download streamed into a new 0600 file, never half-written and never replacing one.

A mixin: ApiClient (http.py) is the client; these go through its connection, its request path
and its errors."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx

from testdeck import journal


class Transfers:
    """ApiClient's uploads and downloads."""

    async def upload(self, method: str, path: str, file_path: str | Path, *, field: str = "file",
                     data: dict | None = None, progress: Callable[[int, int], None] | None = None,
                     expect: str = "json") -> Any:
        """Multipart upload of a local file, streamed from disk, with a progress callback (sent, total)."""
        file_path = Path(file_path)
        try:
            fh = open(file_path, "rb")
        except OSError as exc:
            raise self.error(method, path, None, f"cannot read {file_path}: {exc.strerror}") from None
        with fh:
            # httpx's multipart stream reads the file a chunk at a time and knows the total length
            built = httpx.Request(method, "http://upload.invalid/", files={field: (file_path.name, fh)}, data=data)
            total = int(built.headers["Content-Length"])

            async def chunks() -> AsyncIterator[bytes]:
                sent = 0
                for chunk in built.stream:  # type: ignore[union-attr]
                    sent += len(chunk)
                    yield chunk
                    if progress:
                        progress(sent, total)

            headers = {"Content-Type": built.headers["Content-Type"], "Content-Length": str(total)}
            with journal.uploading(data, {field: str(file_path)}):  # the journal's curl: -F file=@PATH
                return await self.request(method, path, content=chunks(), headers=headers, expect=expect,
                                          journal_body={**(data or {}), field: f"<file {file_path.name}>"})

    async def download(self, path: str, dest_path: str | Path, progress: Callable[[int, int], None] | None = None,
                       *, auth: bool = True) -> int:
        """Stream GET `path` into a new file `dest_path` (mode 0600); returns its size.

        Written to a temp file beside it and linked into place at the end, so a file
        is never half-written and an existing file is never replaced. Memory stays
        bounded whatever the size; the profile's timeout applies to each read (a big
        file may legitimately take long). `auth=False` sends no credentials at all
        (pre-signed or public URLs)."""
        dest = Path(dest_path)
        if dest.exists():
            raise self.error("GET", path, None, f"{dest} already exists; not overwritten")
        request = self._http.build_request("GET", path)
        if not auth:
            for name in self.default_headers():
                request.headers.pop(name, None)
        elif request.url.host != self._http.base_url.host or request.url.port != self._http.base_url.port:
            raise self.error("GET", path, None, "refused: credentials are only sent to the profile's own server")
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        done = 0
        try:
            with os.fdopen(fd, "wb") as out:
                try:
                    response = await self._http.send(request, stream=True,
                                                      auth=httpx.USE_CLIENT_DEFAULT if auth else None)
                except httpx.TransportError as exc:
                    raise self.error("GET", path, None, f"download failed: {exc or type(exc).__name__}",
                                     retryable=True) from None
                try:
                    if response.status_code >= 300:
                        body = await self._read_capped("GET", path, response)
                        await self._decode("GET", path, response, body, "none")
                    total = int(response.headers.get("content-length", "0") or 0)
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total)
                except httpx.TransportError as exc:
                    raise self.error("GET", path, None, f"download cut after {done} bytes: "
                                     f"{exc or type(exc).__name__}", retryable=True) from None
                finally:
                    await response.aclose()
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(tmp, dest)  # fails if dest appeared meanwhile: never replace a file
            except FileExistsError:
                raise self.error("GET", path, None, f"{dest} already exists; not overwritten") from None
        finally:
            Path(tmp).unlink(missing_ok=True)
        self.health.last_ok = max(time.time(), (self.health.last_error_at or 0) + 1e-6)
        return done
