"""Wiring: one PTB ``Application`` (without PTB's own Updater), the journal, the scheduler, the
receiving loop (:mod:`.receive`), background reloads (:mod:`.reload`), signals.

Stopping (SIGTERM, SIGINT): fetching stops at once, updates in hand get :data:`STOP_GRACE`
seconds, the rest stay in the journal, a running index build is cancelled, and the process exits
0 within 10 s. SIGHUP reloads the corpus. The process exits non-zero with one log line when the
bot cannot serve: token rejected (401, exit 2) or another instance polling with the same token
(409, exit 3). A bad STATE_DIR (not a folder, no SQLite database in it) is exit 2 too; a full or
read-only one is not an exit: the bot answers from memory until it takes writes again
(bot/statedb.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
from collections.abc import Callable
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, Defaults

from ..config import Settings
from ..engine import Engine, open_engine
from ..logs import redact
from . import handlers
from .journal import Journal
from .ratelimit import SendPacer
from .receive import (
    ALLOWED_UPDATES,
    EXIT_UNAUTHORIZED,
    POLL_TIMEOUT,
    UNAUTHORIZED,
    Fatal,
    WebhookServer,
    poll,
)
from .reload import Reloader, cancel_builds
from .scheduler import Scheduler
from .state import BotState

log = logging.getLogger("bot.telegram")

STOP_GRACE = 4.0
READ_TIMEOUT = 15.0  # seconds to wait for the Bot API's answer to a request


def build_application(settings: Settings, pacer: SendPacer) -> Application:
    """The one place the PTB Application is built."""
    if not settings.token:
        raise ValueError("no token")
    return (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                allow_sending_without_reply=True,
            )
        )
        .rate_limiter(pacer)
        .updater(None)
        .connect_timeout(5)
        .read_timeout(READ_TIMEOUT)
        .write_timeout(15)
        .pool_timeout(5)
        .connection_pool_size(64)
        .get_updates_read_timeout(POLL_TIMEOUT + 10)
        .build()
    )


async def _initialize(app: Application, stop: asyncio.Event) -> bool:
    """``getMe`` until the Bot API answers (backoff 1 s -> 30 s); False if stopped meanwhile."""
    delay = 1.0
    while not stop.is_set():
        try:
            await app.initialize()
            return True
        except InvalidToken:
            raise Fatal(UNAUTHORIZED, EXIT_UNAUTHORIZED) from None
        except (NetworkError, Conflict, RetryAfter) as exc:
            log.warning("Bot API not reachable (%s); retrying in %.0f s", exc, delay)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        delay = min(delay * 2, 30.0)
    return False


async def _retrying(what: str, call: Callable[[], Any], stop: asyncio.Event) -> None:
    delay = 1.0
    while not stop.is_set():
        try:
            await call()
            return
        except InvalidToken:
            raise Fatal(UNAUTHORIZED, EXIT_UNAUTHORIZED) from None
        except TelegramError as exc:
            log.warning("%s failed (%s); retrying in %.0f s", what, exc, delay)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        delay = min(delay * 2, 30.0)


async def _post_init(app: Application, state: BotState) -> None:
    state.username = app.bot.username or ""
    state.bot_id = app.bot.id
    # another token may share STATE_DIR: the journal and follow-ups are this bot's own
    state.journal.bind(app.bot.id)
    state.contexts.scope = str(app.bot.id)
    try:
        await app.bot.set_my_commands(handlers.COMMANDS)
    except TelegramError as exc:  # the command menu is a nicety: serve without it
        log.warning("could not register the command menu: %s", exc)
    log.info(
        "serving %d articles (%d passages) as @%s",
        state.engine.n_articles,
        state.engine.n_passages,
        state.username,
    )


async def serve(settings: Settings, engine: Engine, stop: asyncio.Event | None = None) -> int:
    """Run until ``stop`` is set or SIGTERM/SIGINT arrives; returns the exit status."""
    if not settings.token:
        raise ValueError("no token")
    stop = stop or asyncio.Event()
    redact(settings.token, settings.webhook_secret)
    try:
        journal = Journal(settings.state_dir)
        journal.prune()
    except (OSError, sqlite3.Error) as exc:
        log.error("cannot use the state database in STATE_DIR=%s: %s", settings.state_dir, exc)
        return 2
    pacer = SendPacer(settings.group_sends_per_minute, counters=journal.bump)
    app = build_application(settings, pacer)
    state = BotState(engine, settings, journal)
    reloader = state.reload = Reloader(state)
    handlers.register(app, state)
    scheduler = Scheduler(app.process_update, journal, on_queued=state.note_press)

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    hup: set[asyncio.Task[Any]] = set()

    def on_hup() -> None:
        log.info("SIGHUP: reloading the corpus")
        task = loop.create_task(reloader(False))
        hup.add(task)
        task.add_done_callback(hup.discard)

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
        loop.add_signal_handler(signal.SIGHUP, on_hup)

    webhook: WebhookServer | None = None

    async def run() -> None:
        """Start-up, then receive updates until cancelled (or a Fatal)."""
        nonlocal webhook
        if not await _initialize(app, stop):
            return
        await app.start()
        await _post_init(app, state)
        waiting = journal.resume()
        if waiting:
            log.info("answering %d update(s) left from before the restart", len(waiting))
        for data in waiting:
            try:
                update = Update.de_json(data, app.bot)
            except Exception:  # not an update PTB can read: never retried
                log.exception("journalled update %s unreadable; skipped", data.get("update_id"))
                journal.answered(int(data.get("update_id", 0)))
                continue
            if update is not None:
                scheduler.submit(update)
        if settings.webhook_url:
            webhook = WebhookServer(settings, journal, scheduler, app)
            await webhook.start()
            await _retrying(
                "setWebhook",
                lambda: app.bot.set_webhook(
                    url=settings.webhook_url.rstrip("/") + "/telegram",  # type: ignore[union-attr]
                    secret_token=settings.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                    drop_pending_updates=False,
                ),
                stop,
            )
            await stop.wait()
        else:
            await _retrying(
                "deleteWebhook", lambda: app.bot.delete_webhook(drop_pending_updates=False), stop
            )
            await poll(app, journal, scheduler)

    code = 0
    watcher = asyncio.create_task(reloader.watch(stop), name="corpus-watcher")
    runner = asyncio.create_task(run(), name="bot")
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({runner, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if runner.done() and runner.exception() is not None:
            raise runner.exception()  # type: ignore[misc]
    except Fatal as exc:
        log.error("%s", exc)
        code = exc.code
    finally:
        log.info("stopping")
        for task in (runner, stopped, watcher, *hup):
            task.cancel()
        with contextlib.suppress(BaseException):
            await runner
        if webhook is not None:
            await webhook.close()
        await scheduler.stop(STOP_GRACE)
        cancel_builds()
        if app.running:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(app.stop(), 2)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(app.shutdown(), 2)
        _, waiting_n = journal.counts()
        journal.close()
        if journal.conn.lost and waiting_n:  # the state folder still takes no writes
            log.warning(
                "stopped (%d update(s) not yet answered, kept in memory only: lost)", waiting_n
            )
        else:
            log.info("stopped (%d update(s) left for after the restart)", waiting_n)
    return code


def run_bot(settings: Settings) -> int:
    """The bot process: build or load the index, then serve; the exit status."""
    if not settings.token:
        raise ValueError("no token")
    redact(settings.token, settings.webhook_secret)
    with _stoppable_startup():
        engine = open_engine(settings.corpus_dir, settings, progress=False)
    return asyncio.run(serve(settings, engine))


@contextlib.contextmanager
def _stoppable_startup() -> Any:
    """SIGTERM/SIGINT/SIGHUP during the start-up build end the build's worker processes (no
    orphans) and the process, at once (exit 0: nothing was received yet)."""

    def handler(signum: int, frame: object) -> None:
        cancel_builds()
        log.info("stopped during start-up (index build cancelled)")
        logging.shutdown()
        os._exit(0)

    sigs = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
    old = {s: signal.signal(s, handler) for s in sigs}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
