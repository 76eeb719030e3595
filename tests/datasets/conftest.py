"""Fixtures of the dataset tests."""
import pytest


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty ``NNFORGE_DATA_DIR`` under tmp_path, offline (``NNFORGE_OFFLINE=1``): no loader
    can download, each test sees only the files it writes there."""
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("NNFORGE_DATA_DIR", str(d))
    monkeypatch.setenv("NNFORGE_OFFLINE", "1")
    return d
