"""Policies that wrap handlers, as decorators: the question rate limit, admins only, admin reports
only in a private chat. Outermost first: ``@rate_limited @admin_only @private_report(...)``."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from .state import BotState, state_of

log = logging.getLogger("bot.telegram")

RATE_LIMITED = "You're asking faster than I can answer — please wait a few seconds."
NOT_ALLOWED = "Sorry, that command is not available to you."

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def admin_only(func: Handler) -> Handler:
    """Non-admins get a refusal that says nothing more."""

    @functools.wraps(func)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        msg = update.effective_message
        if msg is None:
            return
        if user is None or user.id not in state_of(context).settings.admin_user_ids:
            await msg.reply_text(NOT_ALLOWED)
            return
        await func(update, context)

    return wrapper


def private_report(why: str) -> Callable[[Handler], Handler]:
    """An admin report answers only in a private chat; in a group it would show the whole group
    what only admins may see, so the admin is told ``why`` instead (under :func:`admin_only`:
    anyone else gets its usual refusal)."""

    def decorate(func: Handler) -> Handler:
        @functools.wraps(func)
        async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            chat, msg = update.effective_chat, update.effective_message
            if msg is None:
                return
            if chat is None or chat.type != ChatType.PRIVATE:
                await msg.reply_text(f"Ask me this in a private chat: {why}.")
                return
            await func(update, context)

        return wrapper

    return decorate


def sender_key(msg: Message) -> int:
    """Whom a message counts against: the user, or for anonymous admins and channels posting
    in a group, the chat they post as (they all share Telegram's one GroupAnonymousBot id)."""
    if msg.sender_chat is not None:
        return msg.sender_chat.id
    return msg.from_user.id if msg.from_user else msg.chat_id


async def limited(state: BotState, msg: Message) -> bool:
    """True when ``msg``'s sender is over the question limit (one notice, then silence)."""
    key = sender_key(msg)
    verdict = state.questions.check(key)
    if verdict == "ok":
        return False
    if verdict == "notify":
        await msg.reply_text(RATE_LIMITED, do_quote=True)
    log.info("rate limit: %s message from %s", verdict, key)
    return True


def rate_limited(func: Handler) -> Handler:
    """Every message the bot replies to counts against its sender's question limit: questions
    and every command alike (one notice, then silence). Outermost, so refusals count too."""

    @functools.wraps(func)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.effective_message
        if msg is None or await limited(state_of(context), msg):
            return
        await func(update, context)

    return wrapper
