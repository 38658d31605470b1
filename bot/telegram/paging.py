"""Callback data of the bot's buttons: short, opaque, strictly parsed.

- ``m|<page id>|<offset>``: "More passages" / "Back" for the question saved under ``page id`` in
  the journal (:meth:`Journal.new_page`), for the chat it was asked in. The question itself never
  travels in a button, so a forged press cannot make the bot answer a question nobody asked.
- ``s|<start>``: the next or previous page of /sources.

Anything else (other shapes, non-ASCII digits, ids unknown in this chat) is a stale button.
Callback data is at most 64 bytes (Telegram's limit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

CALLBACK_MAX_BYTES = 64
MAX_OFFSET = 10_000
_MORE = re.compile(r"m\|([A-Za-z0-9_-]{1,24})\|([0-9]{1,5})", re.ASCII)
_SOURCES = re.compile(r"s\|([0-9]{1,7})", re.ASCII)


@dataclass(frozen=True)
class MorePress:
    page_id: str
    offset: int


@dataclass(frozen=True)
class SourcesPress:
    start: int


def parse(data: str | None) -> MorePress | SourcesPress | None:
    if not data:
        return None
    if m := _MORE.fullmatch(data):
        offset = int(m[2])
        return MorePress(m[1], offset) if offset <= MAX_OFFSET else None
    if m := _SOURCES.fullmatch(data):
        return SourcesPress(int(m[1]))
    return None


def more_keyboard(page_id: str, offset: int, step: int, more: bool) -> InlineKeyboardMarkup | None:
    row = []
    if offset > 0:
        back = max(0, offset - step)
        row.append(InlineKeyboardButton("‹ Back", callback_data=f"m|{page_id}|{back}"))
    if more:
        nxt = offset + step
        row.append(InlineKeyboardButton("More passages ›", callback_data=f"m|{page_id}|{nxt}"))
    return InlineKeyboardMarkup([row]) if row else None


def sources_keyboard(start: int, shown: int, total: int, step: int) -> InlineKeyboardMarkup | None:
    row = []
    if start > 0:
        row.append(InlineKeyboardButton("‹ Back", callback_data=f"s|{max(0, start - step)}"))
    if start + shown < total:
        row.append(InlineKeyboardButton("Next ›", callback_data=f"s|{start + shown}"))
    return InlineKeyboardMarkup([row]) if row else None


_CARRIED = "\x1f"  # between a page's question and the words a follow-up was read with


def page_question(question: str, carried: tuple[str, ...] = ()) -> str:
    """What a "More" page keeps: the question and the words it was read with."""
    cleaned = question.replace(_CARRIED, " ")
    return cleaned + (_CARRIED + " ".join(carried) if carried else "")


def split_page_question(stored: str) -> tuple[str, tuple[str, ...]]:
    question, _, carried = stored.partition(_CARRIED)
    return question, tuple(carried.split())
