"""Fair scheduling: one lane per chat, so pacing in one chat never holds what another needs.

Updates of one chat are handled in order, one at a time (its replies are paced by Telegram's
per-chat flood limit anyway); different chats run side by side. Button presses of a chat have
their own lane, so a press is answered while the chat's questions wait for their turn, and
inline queries one lane per user. Each handled update is marked answered in the journal: when
its first message was sent (with the message id), else when its handler finished. An update
cut off by a stop is left unanswered in the journal and handled after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update

from .journal import Journal
from .ratelimit import send_report

log = logging.getLogger("bot.telegram")

_SENDS = ("sendMessage", "editMessageText")


class _Report:
    """Journals the sends of one update: the attempt (before), the message id (after)."""

    def __init__(self, journal: Journal, update_id: int) -> None:
        self.journal, self.update_id = journal, update_id

    def attempt(self, endpoint: str) -> None:
        if endpoint == "sendMessage":
            self.journal.attempted(self.update_id)

    def not_sent(self, endpoint: str) -> None:
        if endpoint == "sendMessage":
            self.journal.not_sent(self.update_id)

    def sent(self, endpoint: str, result: Any) -> None:
        if endpoint in _SENDS and isinstance(result, dict):
            self.journal.answered(self.update_id, result.get("message_id"))


def lane_of(update: Update) -> tuple[str, int]:
    if update.inline_query is not None:
        return ("inline", update.inline_query.from_user.id)
    chat = update.effective_chat
    if update.callback_query is not None:
        return ("press", chat.id if chat else update.callback_query.from_user.id)
    if chat is not None:
        return ("chat", chat.id)
    user = update.effective_user
    return ("user", user.id if user else 0)


class Scheduler:
    def __init__(
        self,
        handle: Callable[[Update], Awaitable[None]],
        journal: Journal,
        on_queued: Callable[[Update], None] | None = None,
    ) -> None:
        self._handle = handle
        self._journal = journal
        self._on_queued = on_queued or (lambda u: None)
        self._lanes: dict[tuple[str, int], deque[Update]] = {}
        self._workers: dict[tuple[str, int], asyncio.Task[None]] = {}
        self.closed = False

    def submit(self, update: Update) -> None:
        if self.closed:
            return  # stays unanswered in the journal: handled after the restart
        key = lane_of(update)
        self._on_queued(update)
        self._lanes.setdefault(key, deque()).append(update)
        if key not in self._workers:
            self._workers[key] = asyncio.create_task(self._run(key), name=f"lane-{key}")

    @property
    def queued(self) -> int:
        return sum(len(q) for q in self._lanes.values())

    async def _run(self, key: tuple[str, int]) -> None:
        lane = self._lanes[key]
        try:
            while lane and not self.closed:
                await self._one(lane.popleft())
        finally:
            self._workers.pop(key, None)
            if not lane:
                self._lanes.pop(key, None)

    async def _one(self, update: Update) -> None:
        uid = update.update_id
        token = send_report.set(_Report(self._journal, uid))
        try:
            await self._handle(update)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("update %s could not be handled", uid)
        finally:
            send_report.reset(token)
        self._journal.answered(uid)

    async def stop(self, grace: float) -> None:
        """Take nothing new; give updates in hand ``grace`` seconds, then cut them off (they
        stay unanswered in the journal)."""
        self.closed = True
        for lane in self._lanes.values():
            lane.clear()
        tasks = list(self._workers.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for t in pending:
            t.cancel()
        if pending:
            log.info("stopping: %d update(s) in hand left for after the restart", len(pending))
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*pending, return_exceptions=True)
