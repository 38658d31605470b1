"""Settings: the environment over a .env file (python-dotenv), each value checked; settings
that cannot work are refused at start-up with one line naming the setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


@pytest.mark.parametrize(
    "url", ["http://", "https://", "http:///bot", "ftp://api.example.org/bot", "http://h:99x/bot"]
)
def test_a_base_url_without_a_host_is_refused(url):
    """Found 11: TELEGRAM_BASE_URL=http:// passed validation and retried forever."""
    with pytest.raises(ConfigError, match="TELEGRAM_BASE_URL"):
        load_settings({"TELEGRAM_BASE_URL": url}, dotenv=Path("/nonexistent"))


@pytest.mark.parametrize(
    ("env", "file_url"),
    [
        ({}, "https://api.telegram.org/file/bot"),
        ({"TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot"}, "http://127.0.0.1:8081/file/bot"),
        (
            {
                "TELEGRAM_BASE_URL": "https://tg.example.org/api/",
                "TELEGRAM_BASE_FILE_URL": "https://files.example.org/",
            },
            "https://files.example.org/",
        ),
    ],
)
def test_where_files_are_downloaded_from_follows_the_bot_api_server(env, file_url):
    assert load_settings(env, dotenv=Path("/nonexistent")).base_file_url == file_url


def test_a_file_url_that_cannot_be_derived_or_is_malformed_is_refused():
    with pytest.raises(ConfigError, match="TELEGRAM_BASE_FILE_URL is needed"):
        load_settings({"TELEGRAM_BASE_URL": "https://tg.example.org/api/"}, Path("/nonexistent"))
    with pytest.raises(ConfigError, match="TELEGRAM_BASE_FILE_URL must be an http"):
        load_settings({"TELEGRAM_BASE_FILE_URL": "file:///tmp"}, Path("/nonexistent"))


def test_the_bot_process_refuses_a_base_url_without_a_host(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(PROJECT_ROOT),
        "TELEGRAM_BOT_TOKEN": "123456:TEST-token_abcdefghijklmnopqrstuv",
        "TELEGRAM_BASE_URL": "http://",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: TELEGRAM_BASE_URL")
    assert len(done.stderr.strip().splitlines()) == 1


def test_an_unusable_state_dir_is_one_line_and_exit_2(botapi, tmp_path):
    from benchmarks.botapi.harness import start_process

    (tmp_path / "file").write_text("not a folder")
    proc = start_process(botapi, tmp_path, STATE_DIR=str(tmp_path / "file" / "state"))
    proc.wait(60)
    out = proc.log_path.read_text()
    assert proc.returncode == 2, out[-1000:]
    errors = [ln for ln in out.splitlines() if " ERROR " in ln]
    assert len(errors) == 1 and "STATE_DIR" in errors[0] and "Traceback" not in out
