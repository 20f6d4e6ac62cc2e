"""The test run keeps out of the real home (the run-level guard is in conftest.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from platformdirs import user_cache_path, user_config_path, user_data_path, user_log_path

from tests.conftest import REAL_HOME


def test_the_wallboard_folders_of_a_test_are_its_own(tmp_path: Path) -> None:
    for folder in (
        user_data_path("wallboard"),
        user_log_path("wallboard"),
        user_config_path("wallboard"),
        user_cache_path("wallboard"),
    ):
        assert tmp_path in folder.parents, folder
        assert REAL_HOME not in folder.parents, folder


def test_a_process_a_test_starts_has_the_runs_home_not_the_real_one(tmp_path: Path) -> None:
    code = "import pathlib, platformdirs; print(pathlib.Path.home()); print(platformdirs.user_data_path('wallboard'))"
    home, data = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert Path(home) != REAL_HOME and REAL_HOME not in Path(home).parents
    assert tmp_path in Path(data).parents
