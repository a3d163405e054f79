import shutil

import pytest

from tests.helpers import REPO, tiekeeper


@pytest.fixture
def synced_sample(tmp_path):
    """The bundled sample and the example config, copied into a folder of the test's own, and synced."""
    shutil.copytree(REPO / "sample", tmp_path / "sample")
    shutil.copy(REPO / "config.example.toml", tmp_path / "config.toml")
    assert tiekeeper(tmp_path / "config.toml", "sync").returncode == 0
    return tmp_path
