"""The bot's handlers: small functions, one per kind of update, with policies as decorators.

State lives in one :class:`BotState` (``context.bot_data["state"]``). Searches and page
rendering run in worker threads, so the event loop never waits on ranking. The render call is in
one place, :func:`answer_page`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, InvalidToken, TelegramError, TimedOut
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from ..conversation import CONTEXT_TTL, Reading
from ..query import clean_question
from ..render import (
    CHITCHAT,
    EMPTY_HINT,
    RELATED_HEADER,
    Reply,
    esc,
    hit_html,
    inline_description,
    render_reply,
    render_sources,
    render_unanswered,
)
from ..search import Answer
from . import paging, uploads
from .policies import admin_only, private_report, rate_limited
from .state import BotState, state_of

log = logging.getLogger("bot.telegram")

INLINE_RESULTS = 10
INLINE_CACHE_SECONDS = 300

START_TEXT = (
    "I answer questions about a set of news articles by quoting them — exact passages with "
    "where they stand.\nJust send me a question; a follow-up is read with the question before "
    "it (/new starts afresh). /sources lists the articles."
)
HELP_TEXT = (
    "<b>How to ask</b>\n"
    "• Here: send any question as a message, or as the caption of a photo.\n"
    "• In a group: <code>/ask your question</code>, mention me "
    "(<code>@{username} your question</code>), or reply to one of my messages. "
    "<code>/ask</code> sent as a reply to someone's message looks up that message.\n"
    "• From any chat: type <code>@{username} your question</code> and pick a passage.\n"
    "• /sources lists the articles.\n\n"
    "I only quote the articles, never write answers of my own; when they don't answer, "
    "I say so."
)
UNKNOWN_COMMAND = "I don't know that command. Send me a question, or see /help."
NOT_TEXT = "I can only answer questions sent as text. Send me a question, or see /help."
CAPTION_COMMAND = (
    "In a caption I read a question (or /ask and a question); send other commands as text."
)
ASK_USAGE = "Add a question after /ask, e.g. <code>/ask who signed the agreement?</code>"
NEW_TOPIC = "Starting afresh: your next question is read on its own."
NOT_ALLOWED_HERE = "Sorry, this bot is not available in this chat."
PRESSED_TOO_FAST = "Too many presses — please wait a few seconds."
STALE_BUTTON = "This button has expired — please ask the question again."
NO_MORE = "No more passages answer that."
ERROR_TEXT = "Sorry, something went wrong while answering. Please try again."


# -- answering ---------------------------------------------------------------------------------


async def search(
    state: BotState,
    question: str,
    top: int,
    carried: tuple[str, ...] = (),
    reading: Reading | None = None,
) -> Answer:
    """The engine's answer; for a reading that continues the last quote ("tell me more"),
    what follows it (``conversation.ContextRules.search``)."""
    t0 = time.perf_counter()
    if reading is not None and reading.after is not None:
        result = await asyncio.to_thread(state.rules.search, reading, top)
    else:
        result = await asyncio.to_thread(state.engine.answer, question, top, True, carried)
    state.stats.latencies_ms.append((time.perf_counter() - t0) * 1000)
    return result


async def answer_page(
    state: BotState,
    question: str,
    offset: int,
    compact: bool,
    carried: tuple[str, ...] = (),
    note: str | None = None,
    reading: Reading | None = None,
) -> tuple[Reply, bool, Answer]:
    """The page at ``offset`` of the confident hits, or else of the related passages, and
    whether more follow (the one render call). ``carried``: words a follow-up is read with;
    ``reading``: how it was read (a "tell me more" continues the last quote)."""
    result = await search(state, question, offset + state.page_size + 1, carried, reading)
    if result.chitchat:
        return Reply(html=esc(CHITCHAT), plain=CHITCHAT, shown=0), False, result
    shown = result.hits or result.related
    page_hits = shown[offset : offset + state.page_size]
    reply = render_reply(
        page_hits, offset=offset, compact=compact, related=not result.hits, note=note
    )
    more = len(shown) > offset + reply.shown and reply.shown > 0
    return reply, more, result


def context_key(state: BotState, ask: Message) -> tuple[str | None, float | None]:
    """Where a message finds the question it follows up, and for how long that holds: in a
    private chat the chat's last question (10 minutes); in a group only a reply to one of the
    bot's answers, read with the question that answer was for."""
    if ask.chat.type == ChatType.PRIVATE:
        return str(ask.chat_id), CONTEXT_TTL
    if replies_to_me(state, ask):
        return f"{ask.chat_id}:{ask.reply_to_message.message_id}", None
    return None, None


async def answer(
    state: BotState, ask: Message, question: str, reply_to: Message | None = None
) -> None:
    """Answer ``question`` (asked in ``ask``) as a reply to ``reply_to`` (default ``ask``). The
    handler that calls it has counted ``ask`` against the limit (:func:`rate_limited`)."""
    target = reply_to or ask
    q = clean_question(question)
    if not q:
        await target.reply_text(EMPTY_HINT, do_quote=True)
        return
    log.debug("question in chat %s: %r", ask.chat_id, q)
    compact = ask.chat.type != ChatType.PRIVATE
    key, ttl = context_key(state, ask) if reply_to is None else (None, None)
    now = time.time()
    reading = Reading(q)
    if key is not None:
        previous = await asyncio.to_thread(state.contexts.get, key)
        reading = await asyncio.to_thread(state.rules.read, previous, q, now, ttl)
    reply, more, result = await answer_page(
        state, q, 0, compact, reading.carried, reading.note, reading
    )
    state.stats.questions += 1
    if not result.hits:
        state.stats.no_match += 1
        if state.unanswered is not None and not result.chitchat:
            await asyncio.to_thread(state.unanswered.record, q)
    markup = None
    if more and reading.after is None:  # (a continuation goes on with "more" again)
        page_id = state.journal.new_page(ask.chat_id, paging.page_question(q, reading.carried))
        markup = paging.more_keyboard(page_id, 0, state.page_size, more)
    sent = await target.reply_text(reply.html, reply_markup=markup, do_quote=True)
    if isinstance(sent, Message):
        state.showing((sent.chat_id, sent.message_id), reply.html, markup)
    if key is not None or ask.chat.type != ChatType.PRIVATE:
        remembered = state.rules.remember(reading, result.hits, now)
        if ask.chat.type == ChatType.PRIVATE:
            await asyncio.to_thread(state.contexts.put, str(ask.chat_id), remembered)
        elif isinstance(sent, Message):  # a reply to this answer follows up this question
            await asyncio.to_thread(
                state.contexts.put, f"{ask.chat_id}:{sent.message_id}", remembered
            )


# -- commands and messages -----------------------------------------------------------------------


@rate_limited
async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    if msg is not None:
        await asyncio.to_thread(state_of(context).contexts.forget, str(msg.chat_id))
        await msg.reply_text(START_TEXT)


@rate_limited
async def on_new(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/new: the next question is read on its own (the chat forgets its last question)."""
    msg = update.effective_message
    if msg is not None:
        await asyncio.to_thread(state_of(context).contexts.forget, str(msg.chat_id))
        await msg.reply_text(NEW_TOPIC)


@rate_limited
async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        text = START_TEXT + "\n\n" + HELP_TEXT.format(username=esc(state_of(context).username))
        await update.effective_message.reply_text(text)


async def sources_page(state: BotState, start: int) -> tuple[Reply, InlineKeyboardMarkup | None]:
    articles = state.engine.articles()
    start = min(start, max(0, len(articles) - 1))
    reply = await asyncio.to_thread(render_sources, articles, start)
    step = reply.shown or 1
    return reply, paging.sources_keyboard(start, reply.shown, len(articles), step)


@rate_limited
async def on_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    if msg is None:
        return
    state = state_of(context)
    reply, markup = await sources_page(state, 0)
    await msg.reply_text(reply.html, reply_markup=markup)


@rate_limited
async def on_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    if msg is None:
        return
    state = state_of(context)
    question = strip_mention(state, command_argument(msg))
    if question:
        await answer(state, msg, question)
        return
    replied = msg.reply_to_message
    if replied is not None and not is_topic_root(replied):
        text = replied.text or replied.caption
        if text:
            await answer(state, msg, text, reply_to=replied)
            return
    await msg.reply_text(ASK_USAGE, do_quote=True)


@rate_limited
async def on_private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A question: a text, or the caption of a photo or file (a screenshot with a question)."""
    msg = update.effective_message
    if msg is not None and (text := msg.text or msg.caption):
        state = state_of(context)
        await answer(state, msg, strip_mention(state, text))


@rate_limited
async def on_group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group message (text or caption) addressed to the bot (:class:`AddressedToMe`; chatter
    never gets here, so it never counts against the limit)."""
    msg = update.effective_message
    if msg is None or not (text := msg.text or msg.caption):
        return
    state = state_of(context)
    question = strip_mention(state, text)
    replied = msg.reply_to_message
    if not clean_question(question) and replied is not None and not replies_to_me(state, msg):
        question = replied.text or replied.caption or ""
    await answer(state, msg, question)


@rate_limited
async def on_private_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(NOT_TEXT)


@rate_limited
async def on_caption_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(CAPTION_COMMAND)


@rate_limited
async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(UNKNOWN_COMMAND)


# -- buttons -------------------------------------------------------------------------------------


async def ack(cq: CallbackQuery, text: str | None = None) -> None:
    """Answer a button press; one that expired meanwhile (e.g. across a restart) is fine."""
    try:
        await cq.answer(text)
    except BadRequest as exc:
        if "query is too old" not in str(exc).lower():
            raise
        log.info("button press %s expired before it was answered", cq.id)


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    cq = update.callback_query
    if cq is None:
        return
    state = state_of(context)
    msg = cq.message if isinstance(cq.message, Message) else None
    press = paging.parse(cq.data)
    if press is None or msg is None:
        await ack(cq, STALE_BUTTON)
        return
    if not state.press_allowed(update):
        await ack(cq, PRESSED_TOO_FAST)
        return
    if isinstance(press, paging.SourcesPress):
        if state.superseded(update):
            await ack(cq)  # a newer press on this message is queued: only it edits
            return
        reply, markup = await sources_page(state, press.start)
    else:
        page = state.journal.page(press.page_id, msg.chat.id)
        if page is None:
            await ack(cq, STALE_BUTTON)
            return
        if state.superseded(update):
            await ack(cq)
            return
        compact = msg.chat.type != ChatType.PRIVATE
        question, carried = paging.split_page_question(page.question)
        reply, more, _ = await answer_page(state, question, press.offset, compact, carried)
        if reply.shown == 0:
            await ack(cq, NO_MORE)
            return
        markup = paging.more_keyboard(page.id, press.offset, state.page_size, more)
    # answered first: the press must not expire while the edit waits for its turn
    await ack(cq)
    if state.superseded(update):
        return
    key = (msg.chat.id, msg.message_id)
    if not state.showing(key, reply.html, markup):
        return  # the message shows this page already: an edit would be refused as unmodified
    try:
        await msg.edit_text(reply.html, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            state.shown.pop(key, None)  # it still shows what it showed before
            log.info("could not edit message %s: %s", msg.message_id, exc)


# -- inline mode ---------------------------------------------------------------------------------


def result_id(kind: str, key: str) -> str:
    digest = hashlib.blake2s(key.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return f"{kind[0]}{digest}"  # 33 bytes: unique, stable, within Telegram's 64


def _article(rid: str, title: str, description: str, text: str) -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        id=rid,
        title=title[:200],
        description=description,
        input_message_content=InputTextMessageContent(text),
    )


async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    iq = update.inline_query
    if iq is None:
        return
    state = state_of(context)
    if state.inline.check(iq.from_user.id) != "ok":
        await iq.answer([], cache_time=0, is_personal=True)
        return
    q = clean_question(iq.query)
    results: list[InlineQueryResultArticle] = []
    if not q:
        for a in state.engine.articles()[:50]:
            title = a.title or a.file
            results.append(
                _article(
                    result_id("article", a.file),
                    title,
                    " · ".join(x for x in (a.date, a.file) if x),
                    f"<b>{esc(title)}</b>\n<code>{esc(a.file)}</code>",
                )
            )
    else:
        result = await search(state, q, INLINE_RESULTS)
        state.stats.questions += 1
        seen: set[str] = set()
        # confident hits; else the closest passages, each labelled as not an exact answer
        close = not result.hits
        for h in result.hits or result.related:
            rid = result_id("rel" if close else "hit", f"{h.file}:{h.line_start}:{h.text}")
            if rid not in seen:
                seen.add(rid)
                title = h.title or h.file
                results.append(
                    _article(
                        rid,
                        f"Closest (not an exact answer): {title}" if close else title,
                        inline_description(h),
                        (f"<i>{esc(RELATED_HEADER)}</i>\n" if close else "") + hit_html(h),
                    )
                )
        if not results:
            state.stats.no_match += 1
            shown = q if len(q) <= 200 else q[:199] + "…"
            results.append(
                _article(
                    result_id("none", q),
                    "No passage matches",
                    f"The articles don't answer “{shown[:80]}”",
                    f"No passage in the articles answers “{esc(shown)}”.",
                )
            )
    try:
        await iq.answer(results, cache_time=INLINE_CACHE_SECONDS, is_personal=False)
    except BadRequest as exc:  # the user typed on, or it waited across a restart
        if "query is too old" not in str(exc).lower():
            raise
        log.info("inline query %s expired before it was answered", iq.id)


# -- policies that run before every handler ------------------------------------------------------


async def on_migration(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group upgraded to a supergroup: remember old -> new (for ALLOWED_CHAT_IDS). Service
    messages are never answered."""
    msg = update.effective_message
    if msg is None:
        return
    journal = state_of(context).journal
    if msg.migrate_to_chat_id:
        journal.migrated(msg.chat.id, msg.migrate_to_chat_id)
        log.info("group %s became supergroup %s", msg.chat.id, msg.migrate_to_chat_id)
        raise ApplicationHandlerStop
    if msg.migrate_from_chat_id:
        journal.migrated(msg.migrate_from_chat_id, msg.chat.id)
        log.info("group %s became supergroup %s", msg.migrate_from_chat_id, msg.chat.id)
        raise ApplicationHandlerStop


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Chats outside ALLOWED_CHAT_IDS (and groups they became) get one refusal."""
    state = state_of(context)
    if not state.settings.allowed_chat_ids:
        return
    if update.inline_query is not None:
        if update.inline_query.from_user.id not in state.settings.allowed_chat_ids:
            await update.inline_query.answer([], cache_time=0, is_personal=True)
            raise ApplicationHandlerStop
        return
    chat = update.effective_chat
    if chat is None or state.chat_allowed(chat.id):
        return
    if update.callback_query is not None:
        await update.callback_query.answer(NOT_ALLOWED_HERE)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(NOT_ALLOWED_HERE)
        if chat.type != ChatType.PRIVATE:
            with contextlib.suppress(TelegramError):
                await context.bot.leave_chat(chat.id)
    raise ApplicationHandlerStop


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log with the update id; tell the asker once (a failed button press is answered as a
    press, never with a new message)."""
    uid = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed: %r", uid, context.error, exc_info=context.error)
    if not isinstance(update, Update) or isinstance(
        context.error, (Forbidden, InvalidToken, TimedOut)
    ):
        return  # blocked, unauthorized, or a reply that most likely went out after all
    with contextlib.suppress(TelegramError):
        if update.callback_query is not None:
            await update.callback_query.answer(ERROR_TEXT)
        elif update.inline_query is None and update.effective_message is not None:
            await update.effective_message.reply_text(ERROR_TEXT)


# -- admin ---------------------------------------------------------------------------------------


@rate_limited
@admin_only
async def on_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    state = state_of(context)
    msg = update.effective_message
    if msg is None:
        return
    if state.reload is None:
        return
    try:
        outcome = await state.reload(False)
    except Exception as exc:  # a corpus error: still serving the old index
        await msg.reply_text(f"Reload failed: {esc(str(exc))}. Still serving the old index.")
        return
    e = state.engine
    what = {"reloaded": "Reloaded", "unchanged": "The corpus is unchanged"}.get(outcome, outcome)
    problems = f", {len(e.problems)} file(s) skipped" if e.problems else ""
    await msg.reply_text(f"{what}: {e.n_articles} articles, {e.n_passages} passages{problems}.")


@rate_limited
@admin_only
@private_report("it shows the bot's internal figures")
async def on_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    state = state_of(context)
    msg = update.effective_message
    if msg is None:
        return
    st = state.stats
    up = int(time.monotonic() - st.started)
    lat = sorted(st.latencies_ms)
    median = f"{lat[len(lat) // 2]:.1f} ms" if lat else "—"
    rate = f"{st.no_match / st.questions:.0%}" if st.questions else "—"
    e = state.engine
    j = state.journal
    total, waiting = j.counts()
    last = j.last_update()
    last_text = (
        f"{last[0]} at {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(last[1]))}"
        if last
        else "none yet"
    )
    await msg.reply_text(
        "<b>Stats</b>\n"
        f"uptime: {up // 3600}h {up % 3600 // 60}m {up % 60}s\n"
        f"questions answered: {st.questions}\n"
        f"no-match rate: {rate}\n"
        f"median search latency: {median}\n"
        f"articles: {e.n_articles}, passages: {e.n_passages}\n"
        f"journal: {total} updates, {waiting} waiting\n"
        f"last update: {last_text}\n"
        f"sends possibly duplicated: {j.counter('possible_duplicates')}, "
        f"outcome unknown: {j.counter('unknown_outcome')}"
    )


@rate_limited
@admin_only
@private_report("it lists other people's questions")
async def on_unanswered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Questions the articles didn't answer, most asked first (what articles to add)."""
    state = state_of(context)
    msg = update.effective_message
    if msg is None:
        return
    log_ = state.unanswered
    rows = await asyncio.to_thread(log_.most_frequent) if log_ is not None else []
    await msg.reply_text(render_unanswered(rows, enabled=log_ is not None).html)


# -- helpers -------------------------------------------------------------------------------------


def command_argument(msg: Message) -> str:
    text = msg.text or msg.caption or ""
    for ent in msg.entities or msg.caption_entities or ():
        if ent.type == MessageEntity.BOT_COMMAND and ent.offset == 0:
            # offsets are UTF-16; the command itself is ASCII so lengths agree
            return text[ent.length :].strip()
    return text.partition(" ")[2].strip()


def is_topic_root(msg: Message) -> bool:
    """In forum topics every message "replies" to the topic's creation message."""
    return msg.forum_topic_created is not None


def replies_to_me(state: BotState, msg: Message) -> bool:
    replied = msg.reply_to_message
    return (
        replied is not None
        and not is_topic_root(replied)
        and replied.from_user is not None
        and replied.from_user.id == state.bot_id
    )


class AddressedToMe(filters.MessageFilter):
    """Group messages for the bot: an @mention of it (in a text or a caption), or a reply to one
    of its messages."""

    def __init__(self, state: BotState) -> None:
        super().__init__(name="AddressedToMe")
        self.state = state

    def filter(self, message: Message) -> bool:
        return replies_to_me(self.state, message) or mentions_me(self.state, message)


def caption_command(msg: Message) -> tuple[str, str] | None:
    """The command a caption starts with and the bot it names ("" for none): ``/ask@Bot`` is
    ``("ask", "bot")`` (PTB's CommandHandler and filters.COMMAND read only texts)."""
    entities = msg.caption_entities
    if not msg.caption or not entities:
        return None
    first = entities[0]
    if first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    name, _, to = msg.parse_caption_entity(first)[1:].lower().partition("@")
    return name, to


class CaptionCommand(filters.MessageFilter):
    """A caption that starts with a command: with ``name``, that command for this bot; without,
    any command (as filters.COMMAND for texts)."""

    def __init__(self, state: BotState, name: str | None = None) -> None:
        super().__init__(name=f"CaptionCommand({name or ''})")
        self.state, self.command = state, name

    def filter(self, message: Message) -> bool:
        found = caption_command(message)
        if found is None or self.command is None:
            return found is not None
        name, to = found
        return name == self.command and to in ("", self.state.username.lower())


def mentions_me(state: BotState, msg: Message) -> bool:
    kinds = [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    found = msg.parse_entities(kinds) if msg.text else msg.parse_caption_entities(kinds)
    for ent, text in found.items():
        if ent.type == MessageEntity.MENTION and text.lower() == f"@{state.username}".lower():
            return True
        if ent.type == MessageEntity.TEXT_MENTION and ent.user and ent.user.id == state.bot_id:
            return True
    return False


def strip_mention(state: BotState, text: str) -> str:
    if not state.username:
        return text
    return re.sub(rf"@{re.escape(state.username)}\b", " ", text, flags=re.IGNORECASE).strip()


COMMANDS = [
    BotCommand("ask", "Ask a question about the articles"),
    BotCommand("new", "Start afresh: the next question is read on its own"),
    BotCommand("sources", "List the articles I quote"),
    BotCommand("help", "How to ask, in chats, groups and inline"),
    BotCommand("start", "What this bot does"),
]


def register(app: Application, state: BotState) -> None:
    app.bot_data["state"] = state
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    to_me = AddressedToMe(state)
    # a question: a text, or the caption of a photo or file, that starts with no command
    caption_ask, caption_cmd = CaptionCommand(state, "ask"), CaptionCommand(state)
    question = (filters.TEXT & ~filters.COMMAND) | (filters.CAPTION & ~caption_cmd)
    migration = filters.StatusUpdate.MIGRATE
    app.add_handler(MessageHandler(migration, on_migration), group=-2)
    app.add_handler(TypeHandler(Update, gate), group=-1)
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CommandHandler("new", on_new))
    app.add_handler(CommandHandler("unanswered", on_unanswered))
    app.add_handler(CommandHandler("help", on_help))
    app.add_handler(CommandHandler("sources", on_sources))
    app.add_handler(CommandHandler("ask", on_ask))
    app.add_handler(CommandHandler("reload", on_reload))
    app.add_handler(CommandHandler("stats", on_stats))
    app.add_handler(CommandHandler("add", uploads.on_add))
    app.add_handler(CommandHandler("remove", uploads.on_remove))
    app.add_handler(MessageHandler(caption_ask, on_ask))
    # a file from an admin is an article to add; from anyone else, its caption is a question
    document = private & filters.Document.ALL
    admins = filters.User(user_id=state.settings.admin_user_ids)
    app.add_handler(MessageHandler(document & admins, uploads.on_document))
    app.add_handler(MessageHandler(document & ~filters.CAPTION, uploads.on_document_refused))
    app.add_handler(MessageHandler(private & caption_cmd & ~caption_ask, on_caption_command))
    app.add_handler(MessageHandler(private & filters.COMMAND, on_unknown_command))
    app.add_handler(MessageHandler(private & question, on_private_text))
    app.add_handler(MessageHandler(groups & question & to_me, on_group_text))
    app.add_handler(
        MessageHandler(
            private & ~filters.TEXT & ~filters.CAPTION & ~filters.StatusUpdate.ALL, on_private_other
        )
    )
    app.add_handler(CallbackQueryHandler(on_press))
    app.add_handler(InlineQueryHandler(on_inline))
    app.add_error_handler(on_error)
