"""Run the real bot against the Bot API stand-in: in a background thread (:func:`running_bot`)
or as its own process, ``python -m bot`` (:func:`start_process`)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.config import Settings
from bot.engine import Engine
from bot.telegram.app import serve

from .standin import BotAPIStandIn

PROJECT = Path(__file__).resolve().parent.parent.parent


def state_dir_of(standin: BotAPIStandIn) -> Path:
    """One STATE_DIR per stand-in (one "deployment"): restarts share their journal."""
    existing = getattr(standin, "state_dir", None)
    if existing is None:
        existing = Path(tempfile.mkdtemp(prefix="quote-bot-state-"))
        standin.state_dir = existing  # type: ignore[attr-defined]
    return existing


class RunningBot:
    def __init__(self, standin: BotAPIStandIn, engine: Engine, **overrides: object) -> None:
        defaults: dict[str, object] = {
            "reload_interval": 0.0,  # tests that want live reload ask for it
            "rate_limit_count": 0,  # likewise the per-user limit
            "index_dir": Path(tempfile.gettempdir()) / "quote-bot-test-index",
            "state_dir": state_dir_of(standin),
        }
        defaults.update(overrides)
        self.settings = dataclasses.replace(
            Settings(),
            token=standin.token,
            base_url=standin.url + "/bot",
            base_file_url=standin.url + "/file/bot",
            **defaults,  # type: ignore[arg-type]
        )
        self.engine = engine
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.exit_code: int | None = None
        self._ready = threading.Event()

    def start(self) -> RunningBot:
        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._stop = asyncio.Event()
            self._ready.set()
            try:
                self.exit_code = loop.run_until_complete(
                    serve(self.settings, self.engine, self._stop)
                )
            except BaseException as exc:  # reported by stop()
                self.error = exc
            finally:
                loop.close()

        self._thread = threading.Thread(target=main, name="bot-under-test", daemon=True)
        self._thread.start()
        self._ready.wait(5)
        return self

    def stop(self, timeout: float = 15) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise AssertionError("bot did not stop in time")
        if self.error is not None:
            raise self.error


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(logging.Formatter("%(name)s %(message)s").format(record))


@contextmanager
def running_bot(
    standin: BotAPIStandIn, engine: Engine, wait_ready: bool = True, **overrides: object
) -> Iterator[RunningBot]:
    """The bot, logging at DEBUG; on exit, no log line may contain the token."""
    root = logging.getLogger()
    capture = _Capture()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    bot = RunningBot(standin, engine, **overrides)
    bot.log_lines = capture.lines  # type: ignore[attr-defined]
    bot.start()
    try:
        if wait_ready:
            standin.wait_for_call("setMyCommands", timeout=30)
        yield bot
    finally:
        try:
            bot.stop()
        finally:
            root.removeHandler(capture)
            root.setLevel(old_level)
        secret = standin.token.split(":", 1)[1]
        leaked = [line for line in capture.lines if secret in line]
        assert not leaked, f"token in logs: {leaked[:3]}"
        assert capture.lines, "the bot logged nothing at DEBUG"


def start_process(
    standin: BotAPIStandIn,
    tmp_path: Path,
    log_name: str = "bot.log",
    preexec_fn: Callable[[], object] | None = None,
    **env: str,
) -> subprocess.Popen[bytes]:
    """``python -m bot`` against ``standin`` (LOG_LEVEL=DEBUG, its own INDEX_DIR, the stand-in's
    STATE_DIR); ``env`` overrides; ``preexec_fn`` runs in the child before it starts (e.g. to
    set a resource limit). The log is at ``proc.log_path``."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    full.update(
        TELEGRAM_BOT_TOKEN=standin.token,
        TELEGRAM_BASE_URL=standin.url + "/bot",
        PYTHONPATH=str(PROJECT),
        LOG_LEVEL="DEBUG",
        INDEX_DIR=str(tmp_path / "index"),
        STATE_DIR=str(state_dir_of(standin)),
        RATE_LIMIT_COUNT="0",
        RELOAD_INTERVAL="0",
        CORPUS_DIR=str(PROJECT / "corpus"),
        # passage vectors are derived data: one cache for every bot process of a test run, so
        # each does not embed the same passages again (a per-test INDEX_DIR would)
        VECTOR_DIR=str(Path(tempfile.gettempdir()) / "quote-bot-test-vectors"),
    )
    full.update(env)
    log = open(tmp_path / log_name, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=full,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=preexec_fn,
    )
    proc.log_path = tmp_path / log_name  # type: ignore[attr-defined]
    return proc


def stop_process(
    proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20
) -> str:
    """Signal ``proc``, wait for it to end; its log."""
    if proc.poll() is None:
        proc.send_signal(sig)
    proc.wait(timeout=timeout)
    return proc.log_path.read_text()  # type: ignore[attr-defined]
