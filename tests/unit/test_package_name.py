"""tiekeeper's top-level packages, daemon and connectors, are its own in the environment it runs in.

The PyPI distribution python-daemon installs a top-level ``daemon`` package too; installed beside
tiekeeper, its ``daemon/__init__.py`` is the package's and the CLI stops at its first import (docs/development.md, "The package name"). No dependency may bring one in: CI
installs tiekeeper with its test extras into a fresh venv, and this test looks at every
distribution installed there.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

OURS = ("daemon", "connectors")


def claimants(distributions) -> dict[str, list[str]]:
    """Each distribution other than tiekeeper that installs files into one of our packages: its name
    and those packages."""
    found = {}
    for dist in distributions:
        name = dist.metadata["Name"]
        if name is None or name.lower() == "tiekeeper":
            continue
        tops = {Path(f).parts[0] for f in dist.files or ()}
        tops |= set((dist.read_text("top_level.txt") or "").split())
        if hit := sorted(tops & set(OURS)):
            found[name] = hit
    return found


def test_the_finder_sees_python_daemon(tmp_path):
    info = tmp_path / "python_daemon-3.1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: python-daemon\nVersion: 3.1.2\n")
    (info / "RECORD").write_text("daemon/__init__.py,,\ndaemon/daemon.py,,\npython_daemon-3.1.2.dist-info/RECORD,,\n")
    # read directly: discovery on a path is not the point, and it found nothing here once an earlier
    # test had imported keyring (which brings in the importlib_metadata backport)
    assert claimants([metadata.PathDistribution(info)]) == {"python-daemon": ["daemon"]}


def test_no_installed_distribution_but_tiekeeper_installs_daemon_or_connectors():
    installed = list(metadata.distributions())
    assert {"tiekeeper", "numpy"} <= {d.metadata["Name"] for d in installed}  # the scan sees the environment
    assert claimants(installed) == {}, (
        "another distribution shares tiekeeper's package folders: uninstall it from this environment, "
        "or find the dependency that brings it in")
