"""Running ``python -m bot`` as a user does, for the command-line tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from ..search_fixtures import PROJECT

# the console chat keeps unanswered questions in STATE_DIR: never in the checkout's .state
_STATE_DIR = tempfile.mkdtemp(prefix="bot-test-state-")


def run(
    *args: str, stdin: str | bytes | None = None, env: dict | None = None, cwd=PROJECT, text=True
):
    e = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    e["STATE_DIR"] = _STATE_DIR
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=text,
        env=e,
        cwd=cwd,
        timeout=120,
    )
