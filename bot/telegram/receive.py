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
import time

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
