#!/usr/bin/env python3
"""Write what a user sees into one folder, to compare two trees byte for byte.

    python bench/same_reports.py OUT [--tiekeeper PATH] [--lives 3]

For the bundled sample and for synthetic lives 1..N (bench.eval.life, rendered to a Maildir and two
ICS files): a first `tiekeeper sync`, then `report`, `report --format json` and `contacts`, each
into a file of OUT. Every command runs as a user would run it, in a process of its own, with the
clock pinned by the config. `diff -r OUT1 OUT2` then says whether a change kept behaviour.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.eval.life import ME_PERSONAL, ME_WORK, NOW, make_life, render  # noqa: E402

COMMANDS = {"report.txt": ["report"], "report.json": ["report", "--format", "json"], "contacts.txt": ["contacts"]}


def life_config(seed: int, root: Path) -> Path:
    life = make_life(seed)
    paths = render(life, root)
    config = root / "config.toml"
    config.write_text(
        "[identity]\n"
        f"addresses = [\"{ME_PERSONAL}\", \"{ME_WORK}\"]\n"
        "timezone = \"Europe/Berlin\"\n"
        f"[store]\npath = \"{root / 'store.db'}\"\n"
        f"[analysis]\nas_of = \"{NOW.isoformat()}\"\n"
        f"[sources.mail]\ntype = \"maildir\"\npath = \"{paths['mail']}\"\n"
        f"[sources.personal]\ntype = \"ics\"\npath = \"{paths['personal']}\"\n"
        f"[sources.work]\ntype = \"ics\"\npath = \"{paths['work']}\"\n")
    return config


def sample_config(root: Path) -> Path:
    """The sample and config.example.toml copied side by side: its relative paths (sample/, out/)
    resolve next to the config, so the store and outputs land in the temporary folder."""
    shutil.copytree(REPO / "sample", root / "sample")
    return Path(shutil.copy(REPO / "config.example.toml", root / "config.toml"))


def capture(tiekeeper: str, config: Path, out: Path, name: str) -> None:
    run = [tiekeeper, "--config", str(config)]
    subprocess.run(run + ["sync"], check=True, capture_output=True)
    for file, args in COMMANDS.items():
        done = subprocess.run(run + args, capture_output=True, text=True)
        (out / f"{name}.{file}").write_text(done.stdout + (f"\n[exit {done.returncode}]\n" if done.returncode else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--tiekeeper", default=str(REPO / ".venv" / "bin" / "tiekeeper"))
    ap.add_argument("--lives", type=int, default=3)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "sample-run").mkdir()
        capture(args.tiekeeper, sample_config(root / "sample-run"), args.out, "sample")
        for seed in range(1, args.lives + 1):
            (root / f"life{seed}").mkdir()
            capture(args.tiekeeper, life_config(seed, root / f"life{seed}"), args.out, f"life{seed}")
    print(f"wrote {len(list(args.out.iterdir()))} files to {args.out}")


if __name__ == "__main__":
    main()
