"""Wiring: one PTB ``Application`` (without PTB's own Updater), the journal, the scheduler, and
the loop that fetches updates (long polling) or receives them (webhook).

The bot owns the ``getUpdates`` loop so that an update is journalled before Telegram is told it
was received (the next offset confirms only what is on disk). In webhook mode the 200 answer is
sent only after the update is journalled; a replayed update id is ignored.

Stopping (SIGTERM, SIGINT): fetching stops at once, updates in hand get a few seconds
(:data:`STOP_GRACE`), the rest stay in the journal, a running index build is cancelled, and the
process exits 0 within 10 s. SIGHUP reloads the corpus. The process exits non-zero with one log
line when the bot cannot serve: token rejected (401, exit 2) or another instance polling with
the same token (409, exit 3).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, Defaults

from ..config import Settings
from ..corpus import CorpusError
from ..engine import Engine, corpus_signature, open_engine
from ..logs import redact
from . import handlers
from .handlers import BotState
from .journal import Journal
from .ratelimit import SendPacer, retry_seconds
from .scheduler import Scheduler

log = logging.getLogger("bot.telegram")

ALLOWED_UPDATES = [Update.MESSAGE, Update.INLINE_QUERY, Update.CALLBACK_QUERY]
POLL_TIMEOUT = 10
STOP_GRACE = 4.0
CONFIRM_SECONDS = 3.0  # a 401 or 409 must persist this long before the bot gives up
MAX_WEBHOOK_BODY = 1024 * 1024
PRUNE_EVERY = 3600.0  # seconds between journal clean-ups
READ_TIMEOUT = 15.0  # seconds to wait for the Bot API's answer to a request
EXIT_UNAUTHORIZED = 2
EXIT_CONFLICT = 3


class Fatal(Exception):
    """The bot cannot serve; ``code`` is the exit status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def build_application(settings: Settings, pacer: SendPacer) -> Application:
    """The one place the PTB Application is built."""
    if not settings.token:
        raise ValueError("no token")
    return (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.base_url)
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


# -- background index builds -----------------------------------------------------------------------


def cancel_builds() -> None:
    """End the worker processes of a running index build (they would otherwise be orphaned)."""
    for child in multiprocessing.active_children():
        child.kill()  # they hold nothing worth saving; a forked worker may ignore SIGTERM


async def in_daemon_thread(func: Callable[..., Any], *args: Any) -> Any:
    """Run ``func`` in a daemon thread: a stop never waits for it (unlike asyncio.to_thread)."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def run() -> None:
        def settle(result: Any = None, error: BaseException | None = None) -> None:
            if fut.done():
                return
            if error is not None:
                fut.set_exception(error)
            else:
                fut.set_result(result)

        try:
            result = func(*args)
        except BaseException as exc:  # handed to the awaiting task
            loop.call_soon_threadsafe(settle, None, exc)
        else:
            loop.call_soon_threadsafe(settle, result)

    threading.Thread(target=run, name="index-build", daemon=True).start()
    return await fut


class Reloader:
    """Rebuilds in the background when the corpus changed (or a quote failed verification),
    then swaps the engine atomically; questions in flight finish on the old one."""

    def __init__(self, state_ref: Callable[[], BotState], settings: Settings) -> None:
        self._state = state_ref
        self.settings = settings
        self._lock = asyncio.Lock()

    async def __call__(self, force: bool = False) -> str:
        async with self._lock:
            state = self._state()
            current = state.engine
            force = force or current.needs_rebuild
            sig = await asyncio.to_thread(
                corpus_signature, current.corpus_dir, self.settings.max_file_bytes
            )
            if sig == current.signature and not force:
                return "unchanged"
            log.info("corpus changed: building a new index in the background")
            new = await in_daemon_thread(
                open_engine, current.corpus_dir, self.settings, False, force
            )
            state.engine = new
            for p in new.problems:
                log.warning("corpus file %s skipped: %s", p.file, p.reason)
            log.info("now serving %d articles (%d passages)", new.n_articles, new.n_passages)
            return "reloaded"

    async def watch(self, stop: asyncio.Event) -> None:
        """Until ``stop``: reload when the corpus changed (every RELOAD_INTERVAL) or a quote
        failed verification; prune the journal hourly."""
        interval = self.settings.reload_interval
        pruned = time.monotonic()
        while not stop.is_set():
            if time.monotonic() - pruned > PRUNE_EVERY:
                self._state().journal.prune()
                pruned = time.monotonic()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval if interval > 0 else 5)
            if stop.is_set():
                return
            if interval <= 0 and not self._state().engine.needs_rebuild:
                continue
            try:
                await self()
            except CorpusError as exc:
                log.warning("corpus reload failed (%s); still serving the previous index", exc)
            except Exception:
                log.exception("corpus reload failed; still serving the previous index")


# -- receiving updates -----------------------------------------------------------------------------


async def poll(app: Application, journal: Journal, scheduler: Scheduler) -> None:
    """Long-poll ``getUpdates``; journal each batch before its offset confirms it. Returns only
    by raising :class:`Fatal` (or being cancelled)."""
    last = journal.last_update_id()
    offset: int | None = last + 1 if last > 0 else None
    delay = 0.5
    trouble_since: float | None = None
    while True:
        try:
            updates = await app.bot.get_updates(
                offset=offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
            )
        except (InvalidToken, Conflict) as exc:
            now = time.monotonic()
            trouble_since = trouble_since or now
            if now - trouble_since >= CONFIRM_SECONDS:
                raise _fatal(exc) from None
            log.warning("getUpdates: %s; checking again", exc)
            await asyncio.sleep(1.0)
            continue
        except RetryAfter as exc:
            await asyncio.sleep(retry_seconds(exc))
            continue
        except (NetworkError, TelegramError) as exc:
            log.warning("getUpdates failed (%s); retrying in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 30.0)
            continue
        trouble_since, delay = None, 0.5
        if not updates:
            continue
        fresh = journal.record([u.to_dict() for u in updates])
        offset = max(u.update_id for u in updates) + 1
        fresh_ids = {u["update_id"] for u in fresh}
        for u in updates:
            if u.update_id in fresh_ids:
                scheduler.submit(u)


UNAUTHORIZED = (
    "the Bot API rejects TELEGRAM_BOT_TOKEN (401 Unauthorized: revoked or wrong); stopping"
)


def _fatal(exc: Exception) -> Fatal:
    if isinstance(exc, InvalidToken):
        return Fatal(UNAUTHORIZED, EXIT_UNAUTHORIZED)
    return Fatal(
        f"another instance is receiving this bot's updates ({exc}); stopping so that only one runs",
        EXIT_CONFLICT,
    )


class WebhookServer:
    """A minimal HTTP server for Telegram's webhook POSTs on ``/telegram``: the secret header is
    checked and the size limited *before* the body is read; an update is answered 200 only
    after it is journalled."""

    def __init__(
        self, settings: Settings, journal: Journal, scheduler: Scheduler, app: Application
    ) -> None:
        self.secret = (settings.webhook_secret or "").encode()
        self.journal, self.scheduler, self.app = journal, scheduler, app
        self.settings = settings
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        try:
            self.server = await asyncio.start_server(
                self._serve, self.settings.webhook_listen, self.settings.webhook_port
            )
        except (OSError, UnicodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise Fatal(
                f"cannot listen on WEBHOOK_LISTEN={self.settings.webhook_listen} "
                f"WEBHOOK_PORT={self.settings.webhook_port}: {reason}",
                2,
            ) from None

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 1)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._one(reader, writer):
                pass
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    @staticmethod
    async def _respond(writer: asyncio.StreamWriter, status: int, phrase: str) -> None:
        writer.write(
            f"HTTP/1.1 {status} {phrase}\r\nContent-Length: 0\r\n"
            f"Connection: {'keep-alive' if status == 200 else 'close'}\r\n\r\n".encode()
        )
        await writer.drain()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        if len(head) > 16384:
            await self._respond(writer, 431, "Request Header Fields Too Large")
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        path = rest.partition(" ")[0]
        headers = {}
        for line in lines[1:]:
            key, sep, value = line.partition(":")
            if sep:
                headers[key.strip().lower()] = value.strip()
        if method != "POST" or path != "/telegram":
            await self._respond(writer, 404, "Not Found")
            return False
        given = headers.get("x-telegram-bot-api-secret-token", "").encode("latin-1")
        if not hmac.compare_digest(given, self.secret):
            await self._respond(writer, 403, "Forbidden")
            return False
        try:
            length = int(headers.get("content-length", ""))
        except ValueError:
            await self._respond(writer, 411, "Length Required")
            return False
        if length < 0 or length > MAX_WEBHOOK_BODY:
            await self._respond(writer, 413, "Content Too Large")
            return False
        body = await asyncio.wait_for(reader.readexactly(length), 30)
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.app.bot)
        except Exception:
            await self._respond(writer, 400, "Bad Request")
            return False
        fresh = self.journal.record([data])
        await self._respond(writer, 200, "OK")
        if fresh and update is not None:
            self.scheduler.submit(update)
        return headers.get("connection", "").lower() != "close"


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
    journal = Journal(settings.state_dir)
    journal.prune()
    state_box: list[BotState] = []
    reloader = Reloader(lambda: state_box[0], settings)
    pacer = SendPacer(settings.group_sends_per_minute, counters=journal.bump)
    app = build_application(settings, pacer)
    state = BotState(engine, settings, journal, reloader)
    state_box.append(state)
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
            update = Update.de_json(data, app.bot)
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
