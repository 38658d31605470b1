"""The Telegram front end (python-telegram-bot v22): private chats, groups, inline mode.

One :class:`QuoteBot` holds the engine, settings and small caches; :func:`build_application`
wires it into one PTB ``Application``. Searches run in a worker thread, so the event loop never
waits on ranking or an index build. Replies are rendered by :mod:`bot.render` (pure).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import signal
import time
import traceback
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from .config import Settings
from .corpus import CorpusError
from .engine import Engine, corpus_signature, open_engine
from .query import clean_question
from .render import (
    EMPTY_HINT,
    Reply,
    esc,
    hit_html,
    inline_description,
    render_reply,
    render_sources,
)
from .search import Hit

log = logging.getLogger("bot.telegram")

INLINE_RESULTS = 10
INLINE_CACHE_SECONDS = 300
CALLBACK_MAX_BYTES = 64
SEND_RETRIES = 4
ALLOWED_UPDATES = [Update.MESSAGE, Update.INLINE_QUERY, Update.CALLBACK_QUERY]

START_TEXT = (
    "I answer questions about a set of news articles on the US–India defence partnership "
    "by quoting them — exact passages with where they stand.\n"
    "Just send me a question, for example: <i>When was INDUS-X launched?</i>"
)
HELP_TEXT = (
    "<b>How to ask</b>\n"
    "• Here: send any question as a message.\n"
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
ASK_USAGE = "Add a question after /ask, e.g. <code>/ask When was INDUS-X launched?</code>"
NOT_ALLOWED_HERE = "Sorry, this bot is not available in this chat."
RATE_LIMITED = "You're asking faster than I can answer — please wait a few seconds."
NOT_ALLOWED = "Sorry, that command is not available to you."
STALE_BUTTON = "This button has expired — please ask the question again."
ERROR_TEXT = "Sorry, something went wrong while answering. Please try again."


class RetryingRateLimiter(AIORateLimiter):
    """PTB's AIORateLimiter (flood limits, 429 waited out) plus retries of failed sends.

    Network errors and 5xx answers are retried with exponential backoff; a ``BadRequest`` (the
    request itself is wrong) is not. ``getUpdates`` is left to the Updater's own retry loop.
    """

    def __init__(self, network_retries: int = SEND_RETRIES, base_delay: float = 0.5) -> None:
        # a little under Telegram's ~30/s overall and 20/min per group, so bursts stay inside
        super().__init__(overall_max_rate=25, group_max_rate=18, max_retries=5)
        self.network_retries = network_retries
        self.base_delay = base_delay

    async def process_request(  # type: ignore[override]
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if endpoint == "getUpdates":
            return await callback(*args, **kwargs)
        delay = self.base_delay
        for attempt in range(self.network_retries + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except BadRequest:
                raise
            except NetworkError as exc:
                if attempt == self.network_retries:
                    log.error("%s failed after %d tries: %s", endpoint, attempt + 1, exc)
                    raise
                log.warning("%s failed (%s); retrying in %.1f s", endpoint, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")


class UserRateLimit:
    """At most ``count`` questions per ``window`` seconds per user. Over it: one notice, then
    silence until the window has room again. ``count`` 0 turns it off."""

    def __init__(self, count: int, window: float) -> None:
        self.count = count
        self.window = window
        self._seen: dict[int, deque[float]] = {}
        self._notified: set[int] = set()
        self._checks = 0

    def check(self, user_id: int, now: float | None = None) -> str:
        """ "ok", "notify" (first refusal in this window) or "silent"."""
        if self.count <= 0:
            return "ok"
        now = time.monotonic() if now is None else now
        self._checks += 1
        if self._checks % 1000 == 0:  # forget users who went quiet (a bot runs for months)
            self.prune(now)
        q = self._seen.setdefault(user_id, deque())
        while q and now - q[0] >= self.window:
            q.popleft()
        if len(q) < self.count:
            q.append(now)
            self._notified.discard(user_id)
            return "ok"
        if user_id in self._notified:
            return "silent"
        self._notified.add(user_id)
        return "notify"

    def __len__(self) -> int:
        return len(self._seen)

    def prune(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for uid in [u for u, q in self._seen.items() if not q or now - q[-1] >= self.window]:
            self._seen.pop(uid, None)
            self._notified.discard(uid)


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    questions: int = 0
    no_match: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=1000))


class QuoteBot:
    """Handlers and state of the bot (one per Application)."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.page = settings.top
        self.stats = Stats()
        self._questions: OrderedDict[str, str] = OrderedDict()  # callback key -> question
        self.username = ""
        self.bot_id = 0
        self._reload_lock = asyncio.Lock()
        self.limiter = UserRateLimit(settings.rate_limit_count, settings.rate_limit_window)

    # -- searching -----------------------------------------------------------------------

    async def search(self, question: str, top: int) -> list[Hit]:
        t0 = time.perf_counter()
        hits = await asyncio.to_thread(self.engine.search, question, top)
        self.stats.latencies_ms.append((time.perf_counter() - t0) * 1000)
        return hits

    def _remember(self, question: str) -> str:
        key = hashlib.blake2s(question.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
        self._questions[key] = question
        self._questions.move_to_end(key)
        while len(self._questions) > 4096:
            self._questions.popitem(last=False)
        return key

    def _more_data(self, question: str, offset: int) -> str:
        direct = f"q|{offset}|{question}"
        if len(direct.encode("utf-8", "surrogatepass")) <= CALLBACK_MAX_BYTES:
            return direct
        return f"k|{offset}|{self._remember(question)}"

    def _question_of(self, data: str) -> tuple[str, int] | None:
        parts = data.split("|", 2)
        if len(parts) != 3 or parts[0] not in ("q", "k") or not parts[1].isdigit():
            return None
        offset = int(parts[1])
        if parts[0] == "q":
            return parts[2], offset
        q = self._questions.get(parts[2])
        return (q, offset) if q is not None else None

    def _keyboard(self, question: str, offset: int, more: bool) -> InlineKeyboardMarkup | None:
        row = []
        if offset > 0:
            row.append(
                InlineKeyboardButton(
                    "‹ Back", callback_data=self._more_data(question, max(0, offset - self.page))
                )
            )
        if more:
            row.append(
                InlineKeyboardButton(
                    "More passages ›", callback_data=self._more_data(question, offset + self.page)
                )
            )
        return InlineKeyboardMarkup([row]) if row else None

    async def _page(self, question: str, offset: int, compact: bool) -> tuple[Reply, bool]:
        hits = await self.search(question, offset + self.page + 1)
        page_hits = hits[offset : offset + self.page]
        reply = render_reply(page_hits, offset=offset, compact=compact)
        more = len(hits) > offset + reply.shown and reply.shown > 0
        return reply, more

    async def answer(self, ask: Message, question: str, reply_to: Message | None = None) -> None:
        """Answer ``question`` (asked in ``ask``) as a reply to ``reply_to`` (default ``ask``)."""
        target = reply_to or ask
        user = ask.from_user
        verdict = self.limiter.check(user.id if user else ask.chat_id)
        if verdict != "ok":
            if verdict == "notify":
                await ask.reply_text(RATE_LIMITED, do_quote=True)
            log.info("rate limit: %s question from user %s", verdict, user.id if user else "?")
            return
        q = clean_question(question)
        if not q:
            await target.reply_text(EMPTY_HINT, do_quote=True)
            return
        log.debug("question in chat %s: %r", ask.chat_id, q)
        compact = ask.chat.type != ChatType.PRIVATE
        reply, more = await self._page(q, 0, compact)
        self.stats.questions += 1
        if reply.shown == 0:
            self.stats.no_match += 1
        await target.reply_text(reply.html, reply_markup=self._keyboard(q, 0, more), do_quote=True)

    # -- handlers ------------------------------------------------------------------------

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(START_TEXT)  # type: ignore[union-attr]

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        text = START_TEXT + "\n\n" + HELP_TEXT.format(username=esc(self.username))
        await update.effective_message.reply_text(text)  # type: ignore[union-attr]

    async def on_sources(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        reply = render_sources(self.engine.articles())
        await update.effective_message.reply_text(reply.html)  # type: ignore[union-attr]

    async def on_ask(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.effective_message
        if msg is None:
            return
        question = _command_argument(msg)
        if question:
            await self.answer(msg, question)
            return
        replied = msg.reply_to_message
        if replied is not None and not _is_topic_root(replied):
            text = replied.text or replied.caption
            if text:
                await self.answer(msg, text, reply_to=replied)
                return
        await msg.reply_text(ASK_USAGE, do_quote=True)

    async def on_private_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.effective_message
        if msg is not None and msg.text is not None:
            await self.answer(msg, self._strip_mention(msg.text))

    async def on_group_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Only messages addressed to the bot: an @mention or a reply to one of its messages."""
        msg = update.effective_message
        if msg is None or msg.text is None:
            return
        replied = msg.reply_to_message
        to_me = (
            replied is not None
            and not _is_topic_root(replied)
            and replied.from_user is not None
            and replied.from_user.id == self.bot_id
        )
        if not (to_me or self._mentions_me(msg)):
            return  # chatter: never answered
        question = self._strip_mention(msg.text)
        if not clean_question(question) and replied is not None and not to_me:
            question = replied.text or replied.caption or ""
        await self.answer(msg, question)

    async def on_private_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message is not None:
            await update.effective_message.reply_text(NOT_TEXT)

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message is not None:
            await update.effective_message.reply_text(UNKNOWN_COMMAND)

    async def on_more(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        cq = update.callback_query
        if cq is None:
            return
        parsed = self._question_of(cq.data or "")
        msg = cq.message if isinstance(cq.message, Message) else None
        if parsed is None or msg is None:
            await cq.answer(STALE_BUTTON, show_alert=False)
            return
        question, offset = parsed
        compact = msg.chat.type != ChatType.PRIVATE
        reply, more = await self._page(question, offset, compact)
        if reply.shown == 0:
            await cq.answer("No more passages answer that.")
            return
        try:
            await msg.edit_text(reply.html, reply_markup=self._keyboard(question, offset, more))
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                await cq.answer(STALE_BUTTON)
                return
        await cq.answer()

    async def on_inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        iq = update.inline_query
        if iq is None:
            return
        q = clean_question(iq.query)
        results: list[InlineQueryResultArticle] = []
        if not q:
            for a in self.engine.articles()[:50]:
                title = a.title or a.file
                results.append(
                    InlineQueryResultArticle(
                        id=_rid("article", a.file),
                        title=title[:200],
                        description=" · ".join(x for x in (a.date, a.file) if x),
                        input_message_content=InputTextMessageContent(
                            f"<b>{esc(title)}</b>\n<code>{esc(a.file)}</code>"
                        ),
                    )
                )
        else:
            hits = await self.search(q, INLINE_RESULTS)
            self.stats.questions += 1
            seen: set[str] = set()
            for h in hits:
                rid = _rid("hit", f"{h.file}:{h.line_start}:{h.line_end}:{h.text}")
                if rid in seen:
                    continue
                seen.add(rid)
                results.append(
                    InlineQueryResultArticle(
                        id=rid,
                        title=(h.title or h.file)[:200],
                        description=inline_description(h),
                        input_message_content=InputTextMessageContent(hit_html(h)),
                    )
                )
            if not results:
                self.stats.no_match += 1
                shown = q if len(q) <= 200 else q[:199] + "…"
                results.append(
                    InlineQueryResultArticle(
                        id=_rid("none", q),
                        title="No passage matches",
                        description=f"The articles don't answer “{shown[:80]}”",
                        input_message_content=InputTextMessageContent(
                            f"No passage in the articles answers “{esc(shown)}”."
                        ),
                    )
                )
        await iq.answer(results, cache_time=INLINE_CACHE_SECONDS, is_personal=False)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        uid = update.update_id if isinstance(update, Update) else None
        log.error("update %s failed: %r", uid, context.error, exc_info=context.error)
        if isinstance(update, Update) and update.effective_message is not None:
            if isinstance(context.error, (Forbidden, InvalidToken)):
                return
            with contextlib.suppress(TelegramError):
                await update.effective_message.reply_text(ERROR_TEXT)

    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Runs before every handler: chats outside ALLOWED_CHAT_IDS get one refusal."""
        allowed = self.settings.allowed_chat_ids
        if not allowed:
            return
        if update.inline_query is not None:
            if update.inline_query.from_user.id not in allowed:
                await update.inline_query.answer([], cache_time=0, is_personal=True)
                raise ApplicationHandlerStop
            return
        chat = update.effective_chat
        if chat is None or chat.id in allowed:
            return
        if update.callback_query is not None:
            await update.callback_query.answer(NOT_ALLOWED_HERE)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(NOT_ALLOWED_HERE)
            if chat.type != ChatType.PRIVATE:
                with contextlib.suppress(TelegramError):
                    await context.bot.leave_chat(chat.id)
        raise ApplicationHandlerStop

    # -- corpus reload and admin ---------------------------------------------------------

    def is_admin(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self.settings.admin_user_ids

    async def reload(self, force: bool = False) -> str:
        """Rebuild in a worker thread if the corpus changed, then swap engines atomically."""
        async with self._reload_lock:
            current = self.engine
            sig = await asyncio.to_thread(
                corpus_signature, current.corpus_dir, self.settings.max_file_bytes
            )
            if sig == current.signature and not force:
                return "unchanged"
            log.info("corpus changed: building a new index in the background")
            new = await asyncio.to_thread(
                open_engine, current.corpus_dir, self.settings, False, force
            )
            self.engine = new  # questions in flight finish on the old engine
            for p in new.problems:
                log.warning("corpus file %s skipped: %s", p.file, p.reason)
            log.info("now serving %d articles (%d passages)", new.n_articles, new.n_passages)
            return "reloaded"

    async def watch_corpus(self, stop: asyncio.Event) -> None:
        interval = self.settings.reload_interval
        if interval <= 0:
            return
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
            if stop.is_set():
                return
            try:
                await self.reload()
            except CorpusError as exc:
                log.warning("corpus reload failed (%s); still serving the previous index", exc)
            except Exception:
                log.exception("corpus reload failed; still serving the previous index")

    async def _admin_message(self, update: Update) -> Message | None:
        """The message of an admin's command; others get a refusal that says nothing more."""
        msg = update.effective_message
        if msg is None:
            return None
        if not self.is_admin(update):
            await msg.reply_text(NOT_ALLOWED)
            return None
        return msg

    async def on_reload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = await self._admin_message(update)
        if msg is None:
            return
        try:
            outcome = await self.reload(force=False)
        except CorpusError as exc:
            await msg.reply_text(f"Reload failed: {esc(str(exc))}. Still serving the old index.")
            return
        e = self.engine
        what = "Reloaded" if outcome == "reloaded" else "The corpus is unchanged"
        problems = f", {len(e.problems)} file(s) skipped" if e.problems else ""
        await msg.reply_text(f"{what}: {e.n_articles} articles, {e.n_passages} passages{problems}.")

    async def on_stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = await self._admin_message(update)
        if msg is None:
            return
        st = self.stats
        up = int(time.monotonic() - st.started)
        lat = sorted(st.latencies_ms)
        median = f"{lat[len(lat) // 2]:.1f} ms" if lat else "—"
        rate = f"{st.no_match / st.questions:.0%}" if st.questions else "—"
        e = self.engine
        await msg.reply_text(
            "<b>Stats</b>\n"
            f"uptime: {up // 3600}h {up % 3600 // 60}m {up % 60}s\n"
            f"questions answered: {st.questions}\n"
            f"no-match rate: {rate}\n"
            f"median search latency: {median}\n"
            f"articles: {e.n_articles}, passages: {e.n_passages}"
        )

    # -- helpers -------------------------------------------------------------------------

    def _mentions_me(self, msg: Message) -> bool:
        for ent in msg.entities or ():
            if ent.type == MessageEntity.MENTION:
                name = msg.parse_entity(ent)
                if name.lower() == f"@{self.username}".lower():
                    return True
            if ent.type == MessageEntity.TEXT_MENTION and ent.user and ent.user.id == self.bot_id:
                return True
        return False

    def _strip_mention(self, text: str) -> str:
        if not self.username:
            return text
        return re.sub(rf"@{re.escape(self.username)}\b", " ", text, flags=re.IGNORECASE).strip()

    # -- application ---------------------------------------------------------------------

    async def post_init(self, app: Application) -> None:
        me = app.bot
        self.username = me.username or ""
        self.bot_id = me.id
        try:
            await app.bot.set_my_commands(
                [
                    BotCommand("ask", "Ask a question about the articles"),
                    BotCommand("sources", "List the articles I quote"),
                    BotCommand("help", "How to ask, in chats, groups and inline"),
                    BotCommand("start", "What this bot does"),
                ]
            )
        except TelegramError as exc:  # the command menu is a nicety: serve without it
            log.warning("could not register the command menu: %s", exc)
        log.info(
            "serving %d articles (%d passages) as @%s",
            self.engine.n_articles,
            self.engine.n_passages,
            self.username,
        )


def _command_argument(msg: Message) -> str:
    text = msg.text or msg.caption or ""
    for ent in msg.entities or msg.caption_entities or ():
        if ent.type == MessageEntity.BOT_COMMAND and ent.offset == 0:
            # offsets are UTF-16; the command itself is ASCII so lengths agree
            return text[ent.length :].strip()
    return text.partition(" ")[2].strip()


def _is_topic_root(msg: Message) -> bool:
    """In forum topics every message "replies" to the topic's creation message."""
    return msg.forum_topic_created is not None


def _rid(kind: str, key: str) -> str:
    digest = hashlib.blake2s(key.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return f"{kind[0]}{digest}"  # 33 bytes: unique, stable, within Telegram's 64


def build_application(settings: Settings, engine: Engine) -> tuple[Application, QuoteBot]:
    """The one place the PTB Application is built."""
    assert settings.token
    qb = QuoteBot(engine, settings)
    app = (
        Application.builder()
        .token(settings.token)
        .base_url(settings.base_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                allow_sending_without_reply=True,
            )
        )
        .rate_limiter(RetryingRateLimiter())
        .concurrent_updates(64)
        .connect_timeout(10)
        .read_timeout(15)
        .write_timeout(15)
        .pool_timeout(10)
        .get_updates_read_timeout(20)
        .build()
    )
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    app.add_handler(TypeHandler(Update, qb.gate), group=-1)
    app.add_handler(CommandHandler("start", qb.on_start))
    app.add_handler(CommandHandler("help", qb.on_help))
    app.add_handler(CommandHandler("sources", qb.on_sources))
    app.add_handler(CommandHandler("ask", qb.on_ask))
    app.add_handler(CommandHandler("reload", qb.on_reload))
    app.add_handler(CommandHandler("stats", qb.on_stats))
    app.add_handler(MessageHandler(private & filters.COMMAND, qb.on_unknown_command))
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, qb.on_private_text))
    app.add_handler(MessageHandler(groups & filters.TEXT & ~filters.COMMAND, qb.on_group_text))
    app.add_handler(
        MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, qb.on_private_other)
    )
    app.add_handler(CallbackQueryHandler(qb.on_more))
    app.add_handler(InlineQueryHandler(qb.on_inline))
    app.add_error_handler(qb.on_error)
    return app, qb


_SECRETS: set[str] = set()


def install_token_redaction(token: str) -> None:
    """No log record, from any logger, may carry the token (or its secret half): it is
    replaced when the record is made, before any handler sees it. httpx, which logs request
    URLs (they contain the token) at INFO, is kept at WARNING as well."""
    for noisy in ("httpx", "httpcore"):
        lg = logging.getLogger(noisy)
        if lg.getEffectiveLevel() < logging.WARNING:
            lg.setLevel(logging.WARNING)
    if token in _SECRETS:
        return
    first = not _SECRETS
    _SECRETS.add(token)
    if ":" in token:
        _SECRETS.add(token.split(":", 1)[1])
    if not first:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        rec = make(*args, **kwargs)
        msg = rec.getMessage()
        if any(t in msg for t in _SECRETS):
            for t in sorted(_SECRETS, key=len, reverse=True):
                msg = msg.replace(t, "[TOKEN]")
            rec.msg, rec.args = msg, ()
        if rec.exc_info and rec.exc_info[1] is not None:
            text = "".join(traceback.format_exception(*rec.exc_info))
            if any(t in text for t in _SECRETS):
                for t in sorted(_SECRETS, key=len, reverse=True):
                    text = text.replace(t, "[TOKEN]")
                rec.exc_text = text
                rec.exc_info = None
        return rec

    logging.setLogRecordFactory(factory)


async def _initialize_with_retry(app: Application, stop: asyncio.Event) -> bool:
    delay = 1.0
    while not stop.is_set():
        try:
            await app.initialize()
            return True
        except InvalidToken:
            raise
        except (NetworkError, Conflict, RetryAfter) as exc:
            log.warning("Bot API not reachable (%s); retrying in %.0f s", exc, delay)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        delay = min(delay * 2, 30.0)
    return False


async def serve(settings: Settings, engine: Engine, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set or SIGTERM/SIGINT arrives; then finish and confirm updates."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    assert settings.token
    install_token_redaction(settings.token)
    app, qb = build_application(settings, engine)
    if not await _initialize_with_retry(app, stop):
        return
    try:
        await qb.post_init(app)
        if settings.webhook_url:
            await app.updater.start_webhook(  # type: ignore[union-attr]
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path="telegram",
                webhook_url=settings.webhook_url.rstrip("/") + "/telegram",
                secret_token=settings.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
                bootstrap_retries=-1,
            )
        else:
            await app.updater.start_polling(  # type: ignore[union-attr]
                timeout=10,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
                bootstrap_retries=-1,
            )
        await app.start()
        watcher = asyncio.create_task(qb.watch_corpus(stop), name="corpus-watcher")
        await stop.wait()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        log.info("stopping: finishing questions in progress")
    finally:
        with contextlib.suppress(Exception):
            if app.updater and app.updater.running:
                await app.updater.stop()
        with contextlib.suppress(Exception):
            if app.running:
                await app.stop()
        with contextlib.suppress(Exception):
            await app.shutdown()
        log.info("stopped")


def run_bot(settings: Settings) -> int:
    assert settings.token
    install_token_redaction(settings.token)
    engine = open_engine(settings.corpus_dir, settings, progress=False)
    try:
        asyncio.run(serve(settings, engine))
    except InvalidToken:
        log.error("the Bot API rejected TELEGRAM_BOT_TOKEN (unauthorized); check the token")
        return 2
    return 0
