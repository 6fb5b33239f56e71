"""The TOML files read at every start (the config, the themes), each content parsed once.

Importing tomllib (it compiles its regexes) and parsing the config and three themes cost every
console start ~9 M instructions (~2 ms). What a parse gave is kept as JSON in the user's cache
dir, keyed on a hash of the text itself: a changed file is always parsed anew, and a text
tomllib refuses is never cached. Never used for secrets.toml. The cache is only ever a saving:
one that cannot be read or written is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

KEEP = 32  # parses kept: the config as it was edited, the shipped themes and a user's own

_cache: dict[str, str] | None = None  # hash of a text -> its parse, as JSON


def cache_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("testdeck")) / "toml.json"


def loads(text: str) -> dict[str, Any]:
    """tomllib.loads(text), from the cache when this very text was parsed before. A text it refuses
    raises tomllib's TOMLDecodeError (a ValueError)."""
    global _cache
    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    if _cache is None:
        _cache = _read()
    hit = _cache.pop(key, None)
    if hit is not None:
        _cache[key] = hit  # the most recently used last: a trim at the next write keeps it (a demo's configs go first)
        return json.loads(hit)
    import tomllib

    data = tomllib.loads(text)
    try:
        _cache[key] = json.dumps(data)  # (a TOML date or time is no JSON: that text is parsed each time)
    except TypeError:
        return data
    while len(_cache) > KEEP:
        del _cache[next(iter(_cache))]
    _write(_cache)
    return data


def _read() -> dict[str, str]:
    try:
        data = json.loads(cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return {}
    return data


def _write(cache: dict[str, str]) -> None:
    """Atomically (a private temp file renamed over it), 0600; no fsync: a lost write is a parse more."""
    path = cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # (mode 0600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(cache))
        os.replace(tmp, path)
    except OSError:
        pass


def forget() -> None:
    """Read the cache file again at the next parse (tests: each has its own cache dir)."""
    global _cache
    _cache = None
