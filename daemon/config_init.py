"""`tiekeeper config init`: the example config, written where tiekeeper reads it, runnable as it is.

A plain copy of config.example.toml breaks: its relative paths (``sample/mail``) resolve against
the folder of the copy. The copy written here points at the bundled sample by absolute paths, and
puts the store and the outputs in the platform's data folder, so that it runs before the user
swaps in their own addresses and sources.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from daemon.config import default_data_dir
from daemon.errors import UsageError
from daemon.fsutil import write_private

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
_PATH_LINE = re.compile(r'^(\s*path\s*=\s*)"([^"]+)"', re.M)


def render(example: Path = EXAMPLE, data_dir: Path | None = None) -> str:
    """The example's text with sample paths made absolute and the outputs moved to ``data_dir``."""
    data_dir = data_dir or default_data_dir()
    base = example.parent.resolve()

    def fix(m: re.Match) -> str:
        value = m[2]
        if value.startswith("out/"):
            return m[1] + json.dumps(str(data_dir / value[4:]))
        if not Path(value).is_absolute() and not value.startswith(("~", "$")):
            return m[1] + json.dumps(str(base / value))
        return m[0]

    header = (f"# Written by `tiekeeper config init` from {example}: the bundled sample's paths are absolute,\n"
              f"# and the store and outputs go to {data_dir}. Replace the sample with your own addresses\n"
              "# and sources, and delete analysis.as_of; then run `tiekeeper config check`.\n")
    return header + _PATH_LINE.sub(fix, example.read_text("utf-8"))


def write(target: Path, example: Path = EXAMPLE) -> str:
    """Write the config to ``target`` (0600) unless a file is there; return what to say."""
    if target.exists():
        raise UsageError(f"{target} exists already", "edit it, or move it aside and run `tiekeeper config init` again")
    if not example.is_file():
        raise UsageError(f"the example config is not installed here ({example})",
                         "copy config.example.toml from the tiekeeper repository")
    write_private(target, render(example).encode("utf-8"))
    return (f"wrote {target}: the example config on the bundled sample; now put in your addresses and sources, "
            "and delete analysis.as_of")
