"""Files the console saves for the user (log tails, downloads, exports).

They may hold what servers echo (tokens, user data), so they are created for
the user alone (0600, whatever the umask) and never replace an existing file or
follow a link planted where the file is to go (O_EXCL).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO


def create_private(path: str | Path, *, binary: bool = False) -> IO:
    """A new file at `path`, mode 0600, opened for writing; FileExistsError if anything is there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        if binary:
            return os.fdopen(fd, "wb")
        return os.fdopen(fd, "w", encoding="utf-8", newline="\n")
    except BaseException:
        os.close(fd)
        raise
