"""Files the emulation keeps between processes: work whose result depends only on its input,
named by a digest of that input (and of the versions of the code that did it).

* `sam-<digest>.json` — the SAM transform's output for a template (translate.py);
* `asl-<digest>.pickle` — moto's evaluation components for a state machine definition
  (patches.ParsedDefinitionsPatch).

The directory: `TIKTOK_SYNC_CACHE_DIR`, else `$XDG_CACHE_HOME/tiktok-sync`, else
`~/.cache/tiktok-sync`; `TIKTOK_SYNC_CACHE_DIR=off` turns the cache off. It is created private to
the user, and a file is only read when the user owns it and nobody else may write it (a pickle
runs code as it loads, as a .pyc does). Anything missing, unreadable or damaged is computed
again; a directory that cannot be written is no error. The oldest files of a kind beyond
`KEEP` are removed when one is written.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

KEEP = 64  # files of one kind


def cache_dir() -> Path | None:
    """Where the files are kept (None: the cache is off)."""
    configured = os.environ.get("TIKTOK_SYNC_CACHE_DIR")
    if configured:
        return None if configured.lower() in ("off", "0", "none", "false") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tiktok-sync"


def read(kind: str, digest: str, suffix: str) -> bytes | None:
    """The bytes kept as `<kind>-<digest><suffix>` (None: none, or not safely the user's own)."""
    directory = cache_dir()
    if directory is None:
        return None
    path = directory / f"{kind}-{digest}{suffix}"
    try:
        with open(path, "rb") as fh:
            info = os.fstat(fh.fileno())
            if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
                return None
            return fh.read()
    except OSError:
        return None


def write(kind: str, digest: str, suffix: str, data: bytes) -> None:
    """Keep `data` as `<kind>-<digest><suffix>` (atomically; silently not when it cannot)."""
    directory = cache_dir()
    if directory is None:
        return
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = directory / f".{kind}-{digest}.{os.getpid()}.{threading.get_ident()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        tmp.replace(directory / f"{kind}-{digest}{suffix}")
        kept = sorted(directory.glob(f"{kind}-*{suffix}"), key=lambda path: path.stat().st_mtime, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def package_version(name: str) -> str:
    """An installed distribution's version, part of a cache file's name ("unknown" when not installed)."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"
