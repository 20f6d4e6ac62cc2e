"""Shared fixtures: a real SQLite file per test, and a throwaway PostgreSQL server per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from db import open_database
from wallboard.config import Settings

DATA = Path(__file__).parent / "data"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings()
    settings.database.url = f"sqlite:///{tmp_path / 'wallboard.db'}"
    return settings


@pytest.fixture
def engine(settings: Settings):
    engine = open_database(settings.database_url(), migrate=True)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    # Tests never read the developer's config or database.
    monkeypatch.delenv("WALLBOARD_CONFIG", raising=False)
    monkeypatch.delenv("WALLBOARD_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
