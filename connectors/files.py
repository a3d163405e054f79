"""Helpers for connectors that read local files: finding them, and summing them up as a cursor."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from daemon.errors import SourceError


def find_files(source: str, path: Path, wanted: Callable[[Path], bool]) -> dict[str, Path]:
    """Relative name -> path: the file itself, or every wanted file below a folder (sorted)."""
    if path.is_file():
        return {path.name: path}
    if path.is_dir():
        out = {}
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for f in sorted(filenames):
                p = Path(dirpath) / f
                if not f.startswith(".") and wanted(p):
                    out[p.relative_to(path).as_posix()] = p
        return out
    raise SourceError(source, f"{path} does not exist", f"check sources.{source}.path")


def stat_cursor(files: dict[str, Path]) -> str:
    """A cursor that changes whenever any file is added, removed, grown or touched."""
    state = {}
    for rel, p in files.items():
        try:
            st = p.stat()
        except FileNotFoundError:
            continue
        state[rel] = [st.st_size, st.st_mtime_ns]
    return json.dumps(state, sort_keys=True)
