"""Rate limits: what users may ask (per user) and how fast the bot sends (Telegram's flood limits).

:class:`UserRateLimit` counts questions, button presses or inline queries per user in a sliding
window. :class:`SendPacer` is PTB's rate limiter for this bot: messages are paced per chat
(about 20 a minute in a group) and overall (about 30 a second); a paced chat waits on its own
bucket only, so a busy group never holds what a private chat needs. 429s are waited out and 5xx
or connection failures retried with backoff; a request that may already have reached Telegram
(the connection dropped after it was written) is counted as a possible duplicate when it is
resent, and one that timed out waiting for the answer is *not* resent (Telegram is most likely
still carrying it out).
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import logging
import time
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

import httpx
from telegram.error import BadRequest, ChatMigrated, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger("bot.telegram")

SEND_RETRIES = 4
MAX_RETRY_AFTER = 60.0


class UserRateLimit:
    """At most ``count`` events per ``window`` seconds per key. Over it: "notify" once, then
    "silent" until the window has room again. ``count`` 0 turns it off."""

    def __init__(self, count: int, window: float) -> None:
        self.count = count
        self.window = window
        self._seen: dict[int, deque[float]] = {}
        self._notified: set[int] = set()
        self._checks = 0

    def check(self, key: int, now: float | None = None) -> str:
        """ "ok", "notify" (first refusal in this window) or "silent"."""
        if self.count <= 0:
            return "ok"
        now = time.monotonic() if now is None else now
        self._checks += 1
        if self._checks % 1000 == 0:  # forget users who went quiet (a bot runs for months)
            self.prune(now)
        q = self._seen.setdefault(key, deque())
        while q and now - q[0] >= self.window:
            q.popleft()
        if len(q) < self.count:
            q.append(now)
            self._notified.discard(key)
            return "ok"
        if key in self._notified:
            return "silent"
        self._notified.add(key)
        return "notify"

    def __len__(self) -> int:
        return len(self._seen)

    def prune(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for key in [k for k, q in self._seen.items() if not q or now - q[-1] >= self.window]:
            self._seen.pop(key, None)
            self._notified.discard(key)


class TokenBucket:
    """``rate`` tokens per ``per`` seconds, at most ``rate`` saved up; waiters are served in
    arrival order."""

    def __init__(self, rate: float, per: float) -> None:
        self.capacity = float(rate)
        self.fill_rate = rate / per
        self.tokens = float(rate)
        self.stamp = time.monotonic()
        self._lock = asyncio.Lock()

    def idle(self, now: float) -> bool:
        """Full again and nobody waiting: forgetting it changes nothing."""
        return now - self.stamp >= self.capacity / self.fill_rate and not self._lock.locked()

    async def take(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.fill_rate)
                self.stamp = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.fill_rate)


class SendReport(Protocol):
    """Told about the sends of the update being handled (the scheduler's journal hook)."""

    def attempt(self, endpoint: str) -> None: ...

    def sent(self, endpoint: str, result: Any) -> None: ...

    def not_sent(self, endpoint: str) -> None: ...


# set by the scheduler while an update is handled
send_report: contextvars.ContextVar[SendReport | None] = contextvars.ContextVar(
    "send_report", default=None
)

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def retry_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds (PTB 22 gives an int, with a deprecation warning, or a
    timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def _answered_by_telegram(exc: Exception) -> bool:
    """The request failed with an answer (429, 4xx, 5xx) or never left: not carried out."""
    cause = exc.__cause__
    return cause is None or isinstance(cause, _NOT_SENT)


class SendPacer(BaseRateLimiter[int]):
    """Flood-limit pacing plus retries (see the module docstring). ``counters`` is told about
    possible duplicates ("possible_duplicates") and unknown outcomes ("unknown_outcome")."""

    def __init__(
        self,
        group_per_minute: int = 18,
        overall_per_second: int = 25,
        retries: int = SEND_RETRIES,
        base_delay: float = 0.5,
        counters: Callable[[str], None] | None = None,
    ) -> None:
        self.group_per_minute = group_per_minute
        self.overall = TokenBucket(overall_per_second, 1.0)
        self.retries = retries
        self.base_delay = base_delay
        self.counters = counters or (lambda name: None)
        self._chats: dict[int, TokenBucket] = {}

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def _chat_bucket(self, chat_id: int) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if len(self._chats) > 10_000:  # forget idle chats (full buckets)
                now = time.monotonic()
                for k in [k for k, b in self._chats.items() if b.idle(now)]:
                    del self._chats[k]
            bucket = self._chats[chat_id] = TokenBucket(self.group_per_minute, 60.0)
        return bucket

    async def _pace(self, data: dict[str, Any]) -> None:
        chat = data.get("chat_id")
        if chat is None:  # answerCallbackQuery, answerInlineQuery, getMe...: not flood-limited
            return
        try:
            chat_id = int(chat)
        except (TypeError, ValueError):
            chat_id = 0
        if chat_id < 0:  # groups and channels: about 20 messages a minute each
            await self._chat_bucket(chat_id).take()
        await self.overall.take()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint == "getUpdates":
            return await callback(*args, **kwargs)
        delay = self.base_delay
        attempt = 0
        is_send = endpoint.startswith("send")  # a second try could post a second message
        report = send_report.get()
        while True:
            await self._pace(data)
            if report is not None:
                report.attempt(endpoint)
            try:
                result = await callback(*args, **kwargs)
            except Exception as exc:
                if report is not None and _answered_by_telegram(exc):
                    report.not_sent(endpoint)
                wait = self._retry_in(exc, endpoint, is_send, attempt, delay)
                if wait is None:
                    raise
                if not isinstance(exc, RetryAfter):
                    attempt += 1
                    delay = min(delay * 2, 30.0)
                await asyncio.sleep(wait)
                continue
            if report is not None:
                report.sent(endpoint, result)
            return result

    def _retry_in(
        self, exc: Exception, endpoint: str, is_send: bool, attempt: int, delay: float
    ) -> float | None:
        """Seconds to wait before trying again, or None: give up (the caller re-raises)."""
        if isinstance(exc, RetryAfter):
            wait = min(retry_seconds(exc), MAX_RETRY_AFTER)
            log.warning("%s: flood limit, waiting %.0f s", endpoint, wait)
            return wait
        if isinstance(exc, (BadRequest, ChatMigrated)) or not isinstance(exc, NetworkError):
            return None  # the request itself is wrong, or the bot may not send here
        if attempt >= self.retries:
            log.error("%s failed after %d tries: %s", endpoint, attempt + 1, exc)
            return None
        maybe_delivered = not _answered_by_telegram(exc)
        if isinstance(exc, TimedOut) and is_send and maybe_delivered:
            # the request was written: Telegram may be carrying it out right now
            self.counters("unknown_outcome")
            log.error("%s timed out after it was sent; not resent (no duplicate)", endpoint)
            return None
        if is_send and maybe_delivered:
            self.counters("possible_duplicates")
        log.warning("%s failed (%s); retrying in %.1f s", endpoint, exc, delay)
        return delay
