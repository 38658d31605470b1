"""Settings: the environment over a .env file (python-dotenv), each value checked."""

from __future__ import annotations

import pytest

from bot.config import PROJECT_ROOT, ConfigError, load_settings


def test_dotenv_values_with_export_quotes_and_comments_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# a comment\n"
        "export TOP_HITS=5\n"
        'CORPUS_DIR="/srv/my articles"\n'
        "STATE_DIR=/var/lib/bot # where the state lives\n"
        "LOG_LEVEL=debug\n",
        "utf-8",
    )
    s = load_settings({"LOG_LEVEL": "WARNING"}, dotenv=env_file)
    assert s.top == 5
    assert str(s.corpus_dir) == "/srv/my articles"
    assert str(s.state_dir) == "/var/lib/bot"
    assert s.log_level == "WARNING"


def test_defaults_state_under_the_project_and_unanswered_log_on(tmp_path):
    s = load_settings({}, dotenv=tmp_path / "missing.env")
    assert s.state_dir == PROJECT_ROOT / ".state" and s.unanswered_log is True


@pytest.mark.parametrize(("raw", "want"), [("off", False), ("OFF", False), ("on", True)])
def test_unanswered_log_switch(tmp_path, raw, want):
    assert load_settings({"UNANSWERED_LOG": raw}, tmp_path / "x").unanswered_log is want


def test_a_bad_switch_names_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="UNANSWERED_LOG must be on or off"):
        load_settings({"UNANSWERED_LOG": "maybe"}, tmp_path / "x")
