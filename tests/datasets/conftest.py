"""Fixtures of the dataset loader tests."""
import pytest


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty data directory (``NNFORGE_DATA_DIR``), offline (``NNFORGE_OFFLINE=1``)."""
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("NNFORGE_DATA_DIR", str(d))
    monkeypatch.setenv("NNFORGE_OFFLINE", "1")
    return d
