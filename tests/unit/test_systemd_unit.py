"""The systemd unit is shipped once, as package data, and what `service install` writes is it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from daemon import systemd
from tests.helpers import REPO


def test_the_packaged_unit_is_byte_equal_to_contrib():
    packaged = REPO / "daemon" / "data" / "tiekeeper.service"
    assert packaged.read_bytes() == (REPO / "contrib" / "tiekeeper.service").read_bytes(), (
        "edit daemon/data/tiekeeper.service and copy it to contrib/tiekeeper.service")


def test_the_installed_unit_is_the_packaged_one_with_the_command_filled_in(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # nothing is read relative to the working directory or the checkout
    unit = systemd.unit([sys.executable, "-m", "daemon", "--config", "/home/a b/config.toml"])
    template = (REPO / "contrib" / "tiekeeper.service").read_text()
    assert unit == template.replace("@EXEC@", f"{sys.executable} -m daemon --config '/home/a b/config.toml'")
    for line in ("Type=notify", "NotifyAccess=main", "WatchdogSec=300", "RestartSec=30", "UMask=0077"):
        assert line in unit.splitlines()


@pytest.mark.slow
def test_a_wheel_carries_the_unit(tmp_path):
    """A wheel install has no contrib/: the unit must be inside the wheel."""
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            "-w", str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=300)
    if built.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {built.stderr.strip().splitlines()[-1:]}")
    (wheel,) = Path(tmp_path).glob("tiekeeper-*.whl")
    with zipfile.ZipFile(wheel) as z:
        assert z.read("daemon/data/tiekeeper.service") == (REPO / "contrib" / "tiekeeper.service").read_bytes()
