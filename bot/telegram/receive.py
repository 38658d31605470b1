"""Receiving updates: the bot's own ``getUpdates`` loop and its webhook server.

Both journal an update before Telegram is told it was received: the next ``getUpdates`` offset
confirms only what is on disk, and the webhook answers 200 only after the write. An update this
bot journalled in the last 26 hours (a redelivery, a webhook replay) is not handled again.

Update ids follow Telegram's rules, not a high-water mark: after a quiet week Telegram may start
them again lower. So polling starts without an offset (Telegram hands over every update it still
keeps, up to 24 hours, and the journal recognises those it has) and an offset only ever confirms
ids received by this process, sent once: after the request carrying it succeeded, the next one
has none again, so an old high offset never confirms away a new, lower sequence. A 401 (token
revoked) or 409 (another instance polling) that persists for :data:`CONFIRM_SECONDS` ends the
bot (:class:`Fatal`, with the exit status).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import time
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from ..config import Settings
from .journal import Journal
from .ratelimit import retry_seconds
from .scheduler import Scheduler

log = logging.getLogger("bot.telegram")

ALLOWED_UPDATES = [Update.MESSAGE, Update.INLINE_QUERY, Update.CALLBACK_QUERY]
POLL_TIMEOUT = 10
CONFIRM_SECONDS = 3.0  # a 401 or 409 must persist this long before the bot gives up
MAX_WEBHOOK_BODY = 1024 * 1024
MAX_WEBHOOK_HEADER = 16 * 1024  # request line and headers
WEBHOOK_HEADER_SECONDS = 10.0  # a new connection's request head
WEBHOOK_IDLE_SECONDS = 30.0  # a kept-alive connection's next request
WEBHOOK_BODY_SECONDS = 30.0
WEBHOOK_LINGER_SECONDS = 2.0  # after a refusal, what the client still sends is read and dropped
WEBHOOK_LINGER_BYTES = 2 * MAX_WEBHOOK_BODY
# open files kept for the bot itself (Bot API connections, the state database, articles being
# read) and for connections asyncio accepts before the cap is applied (up to 100 a loop pass)
WEBHOOK_FILE_RESERVE = 256
WEBHOOK_SUMMARY_SECONDS = 60.0
EXIT_UNAUTHORIZED = 2
EXIT_CONFLICT = 3


class Fatal(Exception):
    """The bot cannot serve; ``code`` is the exit status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


async def poll(app: Application, journal: Journal, scheduler: Scheduler) -> None:
    """Long-poll ``getUpdates``; journal each batch before an offset confirms it. Returns only
    by raising :class:`Fatal` (or being cancelled)."""
    offset: int | None = None  # confirms the last batch of this process; sent until it is done
    delay = 0.5
    trouble_since: float | None = None
    while True:
        try:
            updates = await app.bot.get_updates(
                offset=offset,
                timeout=0 if offset is not None else POLL_TIMEOUT,
                allowed_updates=ALLOWED_UPDATES,
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
            offset = None  # confirmed: Telegram forgot everything below it
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


def connection_cap(wanted: int) -> tuple[int, int | None]:
    """(the webhook's connection cap, the soft RLIMIT_NOFILE or None): ``wanted``, lowered so
    that the files open now, :data:`WEBHOOK_FILE_RESERVE` (at most a quarter of the limit) and
    the connections stay under the limit."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft == resource.RLIM_INFINITY:
            return wanted, None
    except (ImportError, OSError, ValueError):
        return wanted, None
    try:
        in_use = len(os.listdir("/proc/self/fd"))
    except OSError:
        in_use = 64
    return max(1, min(wanted, soft - in_use - min(WEBHOOK_FILE_RESERVE, soft // 4))), soft


def _update_id_ok(data: object) -> bool:
    """A dict whose ``update_id`` is a whole number the journal can store (0..2**63-1)."""
    uid = data.get("update_id") if isinstance(data, dict) else None
    return type(uid) is int and 0 <= uid < 2**63


class _Tally:
    """Webhook refusals by cause: the first of a cause is logged at once, the ones after it as one
    line per cause at most every ``every`` seconds, with their count."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.counts: dict[str, int] = {}  # causes logged in this period -> count since
        self.timer: asyncio.TimerHandle | None = None
        self.since = time.monotonic()

    def seen(self, cause: str) -> bool:
        return cause in self.counts

    def add(self, cause: str, exc: BaseException | None = None) -> None:
        if cause in self.counts:
            self.counts[cause] += 1
            return
        self.counts[cause] = 0
        log.warning(
            "webhook: %s (more are counted: a line every %g s)", cause, self.every, exc_info=exc
        )
        if self.timer is None:
            self._arm()

    def _arm(self) -> None:
        self.since = time.monotonic()
        with contextlib.suppress(RuntimeError):  # no running loop
            self.timer = asyncio.get_running_loop().call_later(self.every, self.flush)

    def flush(self, final: bool = False) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        took = time.monotonic() - self.since
        for cause, n in list(self.counts.items()):
            if n:
                log.warning("webhook: %s: %s more in the last %.0f s", cause, f"{n:,}", took)
                self.counts[cause] = 0
            else:  # quiet for a whole period: the next one is logged at once again
                del self.counts[cause]
        if final:
            self.counts.clear()
        elif self.counts:
            self._arm()


class WebhookServer:
    """A minimal HTTP/1.1 server for Telegram's webhook POSTs on ``/telegram``: the secret header
    is checked and the size limited *before* the body is read; an update is answered 200 only
    after it is journalled.

    Bounded against idle and oversized clients; every refusal is a status line, then close:

    * at most :attr:`cap` connections: ``WEBHOOK_MAX_CONNECTIONS``, lowered to fit under the
      soft ``RLIMIT_NOFILE`` with the files open at start and :data:`WEBHOOK_FILE_RESERVE` kept
      for the bot itself. A connection past the cap drops the oldest idle one (one not in the
      middle of a signed request), so Telegram's POST is served whatever idles;
    * the request head within :data:`WEBHOOK_HEADER_SECONDS` (408), at most
      :data:`MAX_WEBHOOK_HEADER` bytes (431); the body within :data:`WEBHOOK_BODY_SECONDS`, at
      most :data:`MAX_WEBHOOK_BODY` (413); a kept-alive connection idles
      :data:`WEBHOOK_IDLE_SECONDS`; an update that PTB cannot read, or whose ``update_id`` is
      not a whole number in 0..2**63-1, is a 400;
    * a refusal, a dropped connection or a failed ``accept()`` is logged once, then counted:
      one line per cause at most every :data:`WEBHOOK_SUMMARY_SECONDS`, never a traceback.
    """

    def __init__(
        self, settings: Settings, journal: Journal, scheduler: Scheduler, app: Application
    ) -> None:
        self.secret = (settings.webhook_secret or "").encode()
        self.journal, self.scheduler, self.app = journal, scheduler, app
        self.settings = settings
        self.server: asyncio.AbstractServer | None = None
        self.cap, self.file_limit = connection_cap(settings.webhook_max_connections)
        self.tally = _Tally(WEBHOOK_SUMMARY_SECONDS)
        # open connections, oldest (least recently served) first -> busy: a signed request is
        # being read or answered (never dropped for room)
        self._conns: dict[asyncio.StreamWriter, bool] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._old_handler: Any = None

    async def start(self) -> None:
        try:
            self.server = await asyncio.start_server(
                self._serve,
                self.settings.webhook_listen,
                self.settings.webhook_port,
                limit=MAX_WEBHOOK_HEADER,
            )
        except (OSError, UnicodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise Fatal(
                f"cannot listen on WEBHOOK_LISTEN={self.settings.webhook_listen} "
                f"WEBHOOK_PORT={self.settings.webhook_port}: {reason}",
                2,
            ) from None
        self._loop = asyncio.get_running_loop()
        self._old_handler = self._loop.get_exception_handler()
        self._loop.set_exception_handler(self._loop_error)
        log.info(
            "webhook: listening on %s:%d, at most %d connections (open files allowed: %s)",
            self.settings.webhook_listen,
            self.settings.webhook_port,
            self.cap,
            self.file_limit or "no limit",
        )

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for writer in list(self._conns):
                writer.transport.abort()
            self._conns.clear()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 1)
        if self._loop is not None:
            self._loop.set_exception_handler(self._old_handler)
            self._loop = None
        self.tally.flush(final=True)

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """asyncio's ``socket.accept() out of system resource`` (EMFILE: its default handler
        logs a traceback for each attempt, up to 100 a loop pass) counted; the rest passed on."""
        exc = context.get("exception")
        if str(context.get("message", "")).startswith("socket.accept()") and isinstance(
            exc, OSError
        ):
            self.tally.add(f"accept() failed: {exc.strerror or exc} (cap {self.cap})")
        elif self._old_handler is not None:
            self._old_handler(loop, context)
        else:
            loop.default_exception_handler(context)

    def _make_room(self, new: asyncio.StreamWriter) -> bool:
        """Drop the oldest idle connections past the cap; False if all others are busy."""
        while len(self._conns) > self.cap:
            oldest = next((w for w, busy in self._conns.items() if not busy and w is not new), None)
            if oldest is None:
                return False
            del self._conns[oldest]
            oldest.transport.abort()
            self.tally.add(f"connection dropped (idle, cap {self.cap})")
        return True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._conns[writer] = False
        try:
            if not self._make_room(writer):
                self.tally.add(f"connection refused (all {self.cap} busy)")
                return
            first = True
            while await self._one(reader, writer, first):
                first = False
                if writer not in self._conns:
                    break
                self._conns[writer] = self._conns.pop(writer)  # the most recently served last
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client went away (or the connection was dropped for room)
        except TimeoutError:
            self.tally.add(f"connection closed: answer not read within {WEBHOOK_BODY_SECONDS:g} s")
        except Exception as exc:  # a bug: its first traceback, then counted
            cause = f"request failed: {type(exc).__name__}"
            self.tally.add(cause, exc if not self.tally.seen(cause) else None)
            if self._conns.get(writer):  # a signed request not yet answered
                with contextlib.suppress(Exception):
                    await self._respond(writer, 500, "Internal Server Error")
        finally:
            self._conns.pop(writer, None)
            writer.close()

    async def _respond(self, writer: asyncio.StreamWriter, status: int, phrase: str) -> None:
        if writer in self._conns:
            self._conns[writer] = False  # answered: idle again
        writer.write(
            f"HTTP/1.1 {status} {phrase}\r\nContent-Length: 0\r\n"
            f"Connection: {'keep-alive' if status == 200 else 'close'}\r\n\r\n".encode()
        )
        await asyncio.wait_for(writer.drain(), WEBHOOK_BODY_SECONDS)

    async def _refuse(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        status: int,
        phrase: str,
        cause: str,
    ) -> bool:
        """Answer ``status``, then read and drop what the client still sends (briefly): closing
        with unread data would reset the connection, and the client could lose the answer."""
        self.tally.add(f"{status} {phrase}: {cause}")
        await self._respond(writer, status, phrase)
        with contextlib.suppress(Exception):
            if writer.can_write_eof():
                writer.write_eof()
            async with asyncio.timeout(WEBHOOK_LINGER_SECONDS):
                left = WEBHOOK_LINGER_BYTES
                while left > 0:
                    chunk = await reader.read(65536)
                    if not chunk:
                        break
                    left -= len(chunk)
        return False

    async def _one(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first: bool = True
    ) -> bool:
        wait = WEBHOOK_HEADER_SECONDS if first else WEBHOOK_IDLE_SECONDS
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), wait)
        except TimeoutError:
            if not first:
                return False  # an idle kept-alive connection: closed quietly
            return await self._refuse(
                reader, writer, 408, "Request Timeout", f"no request head within {wait:g} s"
            )
        except (asyncio.LimitOverrunError, ValueError):
            head = b""
        if not head or len(head) > MAX_WEBHOOK_HEADER:
            return await self._refuse(
                reader,
                writer,
                431,
                "Request Header Fields Too Large",
                f"request head over {MAX_WEBHOOK_HEADER:,} bytes",
            )
        lines = head.decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        path = rest.partition(" ")[0]
        headers = {}
        for line in lines[1:]:
            key, sep, value = line.partition(":")
            if sep:
                headers[key.strip().lower()] = value.strip()
        if method != "POST" or path != "/telegram":
            return await self._refuse(reader, writer, 404, "Not Found", "not POST /telegram")
        given = headers.get("x-telegram-bot-api-secret-token", "").encode("latin-1")
        if not hmac.compare_digest(given, self.secret):
            return await self._refuse(reader, writer, 403, "Forbidden", "wrong or missing secret")
        self._conns[writer] = True  # Telegram's (or the secret's holder's): not dropped for room
        try:
            length = int(headers.get("content-length", ""))
        except ValueError:
            return await self._refuse(reader, writer, 411, "Length Required", "no Content-Length")
        if length < 0 or length > MAX_WEBHOOK_BODY:
            return await self._refuse(
                reader,
                writer,
                413,
                "Content Too Large",
                f"body over {MAX_WEBHOOK_BODY:,} bytes",
            )
        try:
            body = await asyncio.wait_for(reader.readexactly(length), WEBHOOK_BODY_SECONDS)
        except TimeoutError:
            return await self._refuse(
                reader,
                writer,
                408,
                "Request Timeout",
                f"body not received within {WEBHOOK_BODY_SECONDS:g} s",
            )
        try:
            data = json.loads(body)
            if not _update_id_ok(data):
                raise ValueError("not an update")
            update = Update.de_json(data, self.app.bot)
        except Exception:
            return await self._refuse(reader, writer, 400, "Bad Request", "not a readable update")
        fresh = self.journal.record([data])
        await self._respond(writer, 200, "OK")
        if fresh and update is not None:
            self.scheduler.submit(update)
        return headers.get("connection", "").lower() != "close"
