"""What the handlers share: one :class:`BotState` per Application (``bot_data["state"]``)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import Message, Update
from telegram.ext import ContextTypes

from ..config import Settings
from ..conversation import ContextRules
from ..engine import Engine
from ..state import ContextStore, UnansweredLog
from .journal import Journal
from .ratelimit import UserRateLimit


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    questions: int = 0
    no_match: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=1000))


@dataclass
class BotState:
    """Everything the handlers share (one per Application)."""

    engine: Engine
    settings: Settings
    journal: Journal
    reload: Callable[[bool], Awaitable[str]] | None = None  # the background reloader
    corpus_lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one upload/removal at once
    stats: Stats = field(default_factory=Stats)
    username: str = ""
    bot_id: int = 0
    contexts: ContextStore = field(init=False)  # the question a follow-up is read with
    _rules: ContextRules | None = field(default=None, init=False, repr=False)
    unanswered: UnansweredLog | None = field(init=False)  # None: UNANSWERED_LOG=off
    questions: UserRateLimit = field(init=False)
    presses: UserRateLimit = field(init=False)
    inline: UserRateLimit = field(init=False)
    # the newest press per message: an older press still queued is superseded
    latest_press: OrderedDict[tuple[int, int], int] = field(default_factory=OrderedDict)
    press_ok: OrderedDict[int, bool] = field(default_factory=OrderedDict)  # by update id
    # what each paged message shows now (text and buttons), by (chat id, message id)
    shown: OrderedDict[tuple[int, int], str] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self.contexts = ContextStore(self.settings.state_dir)
        self.unanswered = (
            UnansweredLog(self.settings.state_dir) if self.settings.unanswered_log else None
        )
        count, window = self.settings.rate_limit_count, self.settings.rate_limit_window
        self.questions = UserRateLimit(count, window)
        # pressing a button or typing inline is cheaper for a person than asking: twice as many
        self.presses = UserRateLimit(2 * count, window)
        self.inline = UserRateLimit(2 * count, window)

    @property
    def rules(self) -> ContextRules:
        """Follow-up rules for the engine now serving (a reload swaps the engine)."""
        if self._rules is None or self._rules.engine is not self.engine:
            self._rules = ContextRules(self.engine)
        return self._rules

    @property
    def page_size(self) -> int:
        return self.settings.top

    def note_press(self, update: Update) -> None:
        """Called when an update is queued, before it is handled: a button press is checked
        against the press limit now, and one within it becomes the newest for its message (an
        older one still queued is then superseded)."""
        cq = update.callback_query
        if cq is None:
            return
        ok = self.presses.check(cq.from_user.id) == "ok"
        _remember(self.press_ok, update.update_id, ok)
        if ok and isinstance(cq.message, Message):
            _remember(
                self.latest_press, (cq.message.chat.id, cq.message.message_id), update.update_id
            )

    def press_allowed(self, update: Update) -> bool:
        """The verdict of :meth:`note_press` (checked now if the press was not noted)."""
        verdict = self.press_ok.pop(update.update_id, None)
        if verdict is None and update.callback_query is not None:
            verdict = self.presses.check(update.callback_query.from_user.id) == "ok"
        return bool(verdict)

    def superseded(self, update: Update) -> bool:
        cq = update.callback_query
        if cq is None or not isinstance(cq.message, Message):
            return False
        key = (cq.message.chat.id, cq.message.message_id)
        # by queue order, not by id: Telegram may restart its ids lower
        return self.latest_press.get(key, update.update_id) != update.update_id

    def showing(self, key: tuple[int, int], html: str, markup: object) -> bool:
        """Record that message ``key`` shows ``html`` with ``markup``; False when it already
        did (two presses that turn to the same page: the second must not edit)."""
        content = html + "\x00" + repr(markup.to_dict() if hasattr(markup, "to_dict") else None)
        if self.shown.get(key) == content:
            return False
        _remember(self.shown, key, content)
        return True

    def chat_allowed(self, chat_id: int) -> bool:
        allowed = self.settings.allowed_chat_ids
        if not allowed or chat_id in allowed:
            return True
        return bool(self.journal.migrated_from(chat_id) & allowed)


def state_of(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    state = context.bot_data.get("state")
    if not isinstance(state, BotState):
        raise RuntimeError("the bot's state is not installed")
    return state


def _remember(table: OrderedDict, key: object, value: object, limit: int = 10_000) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > limit:
        table.popitem(last=False)
