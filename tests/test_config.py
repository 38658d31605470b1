"""Settings that cannot work are refused at start-up with one line naming the setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, ConfigError, load_settings


@pytest.mark.parametrize(
    "url", ["http://", "https://", "http:///bot", "ftp://api.example.org/bot", "http://h:99x/bot"]
)
def test_a_base_url_without_a_host_is_refused(url):
    """Found 11: TELEGRAM_BASE_URL=http:// passed validation and retried forever."""
    with pytest.raises(ConfigError, match="TELEGRAM_BASE_URL"):
        load_settings({"TELEGRAM_BASE_URL": url}, dotenv=Path("/nonexistent"))


def test_state_dir_defaults_and_relative_paths_are_under_the_project():
    s = load_settings({}, dotenv=Path("/nonexistent"))
    assert s.state_dir == PROJECT_ROOT / ".state"
    s = load_settings({"STATE_DIR": "var/state"}, dotenv=Path("/nonexistent"))
    assert s.state_dir == PROJECT_ROOT / "var" / "state"
    s = load_settings({"STATE_DIR": "/srv/bot"}, dotenv=Path("/nonexistent"))
    assert s.state_dir == Path("/srv/bot")


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
    from .helpers.harness import start_process

    (tmp_path / "file").write_text("not a folder")
    proc = start_process(botapi, tmp_path, STATE_DIR=str(tmp_path / "file" / "state"))
    proc.wait(60)
    out = proc.log_path.read_text()
    assert proc.returncode == 2, out[-1000:]
    errors = [ln for ln in out.splitlines() if " ERROR " in ln]
    assert len(errors) == 1 and "STATE_DIR" in errors[0] and "Traceback" not in out
