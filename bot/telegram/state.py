"""What the handlers share: one :class:`BotState` per Application (``bot_data["state"]``)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import Message, Update
from telegram.ext import ContextTypes

from ..config import Settings
from ..engine import Engine
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
    stats: Stats = field(default_factory=Stats)
    username: str = ""
    bot_id: int = 0
    questions: UserRateLimit = field(init=False)
    presses: UserRateLimit = field(init=False)
    inline: UserRateLimit = field(init=False)
    # the newest press per message: an older press still queued is superseded
    latest_press: OrderedDict[tuple[int, int], int] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        count, window = self.settings.rate_limit_count, self.settings.rate_limit_window
        self.questions = UserRateLimit(count, window)
        # pressing a button or typing inline is cheaper for a person than asking: twice as many
        self.presses = UserRateLimit(2 * count, window)
        self.inline = UserRateLimit(2 * count, window)

    @property
    def page_size(self) -> int:
        return self.settings.top

    def note_press(self, update: Update) -> None:
        """Called when a press is queued (before it is handled)."""
        cq = update.callback_query
        if cq is not None and isinstance(cq.message, Message):
            key = (cq.message.chat.id, cq.message.message_id)
            self.latest_press[key] = update.update_id
            self.latest_press.move_to_end(key)
            while len(self.latest_press) > 10_000:
                self.latest_press.popitem(last=False)

    def superseded(self, update: Update) -> bool:
        cq = update.callback_query
        if cq is None or not isinstance(cq.message, Message):
            return False
        key = (cq.message.chat.id, cq.message.message_id)
        return self.latest_press.get(key, update.update_id) > update.update_id

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
