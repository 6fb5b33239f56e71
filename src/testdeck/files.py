"""Where testdeck saves what the user asks it to (tables, logs), and how.

They may hold what servers echo (tokens, user data), so they are created for the user alone
(0600, whatever the umask) and never replace an existing file or follow a link planted where
the file is to go (O_EXCL). UI-free: the table export and the log tail both use it."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import platformdirs


def save_dir() -> Path:
    """The user's downloads folder when there is one, else testdeck's data folder: never the cwd."""
    downloads = Path(platformdirs.user_downloads_dir())
    if downloads.is_dir():
        return downloads
    data = Path(platformdirs.user_data_dir("testdeck"))
    data.mkdir(parents=True, exist_ok=True)
    return data


def chosen(typed: str, proposed: Path) -> Path:
    """The path a save prompt was given: a bare or relative name goes in the proposed file's folder
    (the one the prompt showed), not in whatever folder testdeck was started from."""
    path = Path(typed.strip()).expanduser()
    return path if path.is_absolute() else proposed.parent / path


def write_new(path: Path, text: str | bytes) -> Path:
    """Create `path` (never over an existing file), owner-only; OSError carries a readable message."""
    path = Path(path).expanduser()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    # the reason first: a long path is cut at the edge of a dialog, and the reason must not be
    except FileExistsError:
        raise OSError(errno.EEXIST, f"already exists, choose another name: {path}") from None
    except FileNotFoundError:
        if path.parent.is_dir():  # (/proc: there, but no file can be made in it)
            raise OSError(errno.ENOENT, f"cannot create a file in {path.parent}") from None
        raise OSError(errno.ENOENT, f"no folder {path.parent}") from None
    except PermissionError:
        raise OSError(errno.EACCES, f"not allowed to write in {path.parent}") from None
    except IsADirectoryError:
        raise OSError(errno.EISDIR, f"{path} is a folder") from None
    if isinstance(text, bytes):  # an image, a download
        with os.fdopen(fd, "wb") as fh:
            fh.write(text)
    else:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    return Path(os.path.abspath(path))


def readable(exc: OSError) -> str:
    """`[Errno 17] File exists: 'x'` reads as `x already exists`."""
    if isinstance(exc.args[-1] if exc.args else None, str) and exc.filename is None and len(exc.args) == 2:
        return exc.args[1]
    what = exc.strerror or str(exc)
    return f"{exc.filename}: {what.lower()}" if exc.filename else what
