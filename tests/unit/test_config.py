"""config.toml: lookup order, validation errors naming file, line and key, defaults = shipped file."""

from __future__ import annotations

import pickle
import subprocess
import sys
from dataclasses import asdict

import pytest

from tests.support import ROOT
from wallboard.config import ConfigError, Settings, load_settings

SHIPPED = ROOT / "config.toml"


def test_built_in_defaults_equal_the_shipped_file():
    assert asdict(load_settings(SHIPPED)) | {"source": None} == asdict(Settings())


def test_unpickled_settings_work_without_pydantic():
    # An SSH session's TUI process receives the settings pickled and must stay small.
    settings = load_settings(SHIPPED)
    code = (
        "import pickle, sys, wallboard.config\n"
        f"settings = pickle.loads({pickle.dumps(settings)!r})\n"
        "print(settings.thresholds.for_queue('sales').waiting_red, settings.site.tz, settings.source.name)\n"
        "wallboard.config.Settings()\n"
        "print(sorted(name for name in ('pydantic', 'pydantic_core') if name in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=SHIPPED.parent
    )
    assert result.stdout.splitlines() == ["6 UTC config.toml", "[]"]


def test_lookup_order(tmp_path, monkeypatch):
    explicit = tmp_path / "explicit.toml"
    explicit.write_text('[site]\nname = "Explicit"\n')
    from_env = tmp_path / "env.toml"
    from_env.write_text('[site]\nname = "From env"\n')
    local_dir = tmp_path / "cwd"
    local_dir.mkdir()
    (local_dir / "config.toml").write_text('[site]\nname = "Local"\n')
    monkeypatch.chdir(local_dir)

    assert load_settings().site.name == "Local"
    monkeypatch.setenv("WALLBOARD_CONFIG", str(from_env))
    assert load_settings().site.name == "From env"
    assert load_settings(explicit).site.name == "Explicit"
    monkeypatch.delenv("WALLBOARD_CONFIG")
    monkeypatch.chdir(tmp_path)
    assert load_settings().site.name == Settings().site.name


def test_database_url_from_environment_wins(tmp_path, monkeypatch):
    path = tmp_path / "c.toml"
    path.write_text('[database]\nurl = "sqlite:///from-file.db"\n')
    settings = load_settings(path)
    assert settings.database_url() == "sqlite:///from-file.db"
    monkeypatch.setenv("WALLBOARD_DB", "postgresql+psycopg://u@h/db")
    assert settings.database_url() == "postgresql+psycopg://u@h/db"


def test_default_database_is_in_the_user_data_directory(tmp_path):
    assert Settings().database_url() == f"sqlite:///{tmp_path / 'xdg_data_home' / 'wallboard' / 'wallboard.db'}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[metrics]\nservice_level_seconds = "twenty"\n',
            ":2: metrics.service_level_seconds: Input should be a valid integer",
        ),
        (
            "[site]\nname = 'x'\n\n[metrics]\n# comment\nshort_abandon_seconds = -1\n",
            ":6: metrics.short_abandon_seconds:",
        ),
        ('[feed]\nkind = "carrier-pigeon"\n', ":2: feed.kind:"),
        ('[site]\ntimezone = "Mars/Olympus"\n', ":2: site.timezone: unknown time zone 'Mars/Olympus'"),
        ("[metrics]\nservice_levl_seconds = 20\n", ":2: metrics.service_levl_seconds: unknown key"),
        ("[queues.vip]\nservice_level_seconds = -3\n", ":2: queues.vip.service_level_seconds:"),
        ("[complaints.sla.high]\nacknowledge_hours = 1\n", ": complaints.sla.high.resolve_hours: Field required"),
        ("site = 3\n", ":1: site: Input should be a valid dictionary or instance of SiteSettings"),
        ("[site\nname = 1\n", "(at line 1, column 6)"),
        ("[ssh]\nport = 22\nmax_sessions = 9\n", ":3: ssh.max_sessions: moved to [limits] as sessions_total"),
        ("[limits]\nmax_columns = 20\n", ":2: limits.max_columns: Input should be greater than or equal to 80"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path, text, expected):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = str(error.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")


def test_queue_overrides_apply_to_that_queue_only(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[metrics]\nservice_level_seconds = 30\n\n[queues."vip line"]\nservice_level_seconds = 10\n')
    settings = load_settings(path)
    assert settings.metrics_for("vip line").service_level_seconds == 10
    assert settings.metrics_for("sales").service_level_seconds == 30
    assert settings.metrics_for("vip line").short_abandon_seconds == 5


def test_the_themes_a_config_may_name_are_textuals():
    from textual.theme import BUILTIN_THEMES

    from wallboard.config import THEMES, WALLBOARD_THEMES
    from wallboard.ui.themes import WALLBOARD_THEMES as REGISTERED

    assert set(THEMES) - set(WALLBOARD_THEMES) <= set(BUILTIN_THEMES)
    assert set(WALLBOARD_THEMES) == {theme.name for theme in REGISTERED}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xfe[site]\n", "c.toml:1: not UTF-8 text (byte 0xff at offset 0); save it as UTF-8"),
        (b'[site]\nname = "caf\xe9"\n', "c.toml:2: not UTF-8 text (byte 0xe9 at offset 18); save it as UTF-8"),
        (b'[board]\ntheme = "neon"\n', "c.toml:2: board.theme: unknown theme 'neon' (one of: "),
        (
            b"[board]\nstale_after_seconds = inf\n",
            "c.toml:2: board.stale_after_seconds: Input should be a finite number",
        ),
        (b"[site]\nname = '" + b"x" * 5000 + b"'\n", "c.toml:2: site.name: String should have at most 4096 characters"),
    ],
)
def test_a_file_that_cannot_be_read_as_settings_is_one_line_naming_it(tmp_path, data, expected):
    path = tmp_path / "c.toml"
    path.write_bytes(data)
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert str(error.value).startswith(str(tmp_path / expected)) and "\n" not in str(error.value)
