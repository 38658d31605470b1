"""Admins add articles from a private chat — a file sent to the bot, or ``/add URL`` — and take
them out with ``/remove FILE``; the corpus is re-indexed and the reply says what was read.

The file handling and its guarantees (checked before saved, saved whole, never over another
article, nothing lost on a refusal) are :mod:`bot.intake`'s; fetching a URL is
:mod:`bot.fetch`'s. Here: the Telegram side (``getFile`` and the download from
``TELEGRAM_BASE_FILE_URL``, Telegram's 20 MB limit), the re-indexing, and one-line replies.
Corpus changes are made one at a time (:attr:`BotState.corpus_lock`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import urllib.parse
from pathlib import Path

from telegram import Bot, Document, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from .. import intake
from ..fetch import FetchRefused, fetch
from ..intake import Refused
from ..logs import scrub
from ..render import esc
from .policies import admin_only, private_report, rate_limited
from .state import BotState, state_of

log = logging.getLogger("bot.telegram")

NOT_AN_ADMIN = (
    "Sorry, only the bot's admins can add articles. Send me a question as text, or see /help."
)
IN_PRIVATE = "what you add or remove would show in the group"


def usage(state: BotState) -> str:
    kinds = ", ".join(intake.readable_suffixes())
    limit = intake.megabytes(intake.UPLOAD_LIMIT)
    return (
        f"Send me an article as a file ({kinds}; up to {limit}), or "
        "<code>/add https://…</code> to fetch one. <code>/remove FILE</code> takes one out."
    )


def argument(update: Update) -> str:
    """What follows the command (file names may hold spaces)."""
    msg = update.effective_message
    text = (msg.text or "") if msg is not None else ""
    parts = text.split(None, 1)
    return parts[1].strip() if len(parts) > 1 else ""


# -- adding --------------------------------------------------------------------------------------


async def admit(state: BotState, staged: Path, source: str | None) -> str:
    """Check ``staged`` (named as it is to be saved), save it into the corpus, re-index; the
    reply. Refused, with the corpus as it was, when anything fails."""
    settings = state.settings
    folder = settings.corpus_dir
    size = staged.stat().st_size
    if size > intake.UPLOAD_LIMIT:
        raise Refused(too_big(size))
    if size == 0:
        raise Refused(f"{staged.name} is empty.")
    with staged.open("rb") as fh:
        head = fh.read(1024)
    mismatch = intake.content_mismatch(head, intake.suffix_of(staged.name))
    if mismatch is not None:
        raise Refused(f"{staged.name}: {mismatch}.")
    same = await asyncio.to_thread(intake.same_file_in, folder, staged)
    if same is not None:
        return f"Already in the corpus as <code>{esc(same)}</code>; nothing changed."
    article = await asyncio.to_thread(intake.check_document, staged, settings.max_file_bytes)
    source = article.source or source
    name = await asyncio.to_thread(intake.place, staged, folder)
    try:
        await reindex(state)
    except Exception as exc:
        intake.unplace(folder, name)
        log.warning("re-indexing with %s failed (%s); the file was taken out again", name, exc)
        raise Refused(f"re-indexing failed ({scrub(str(exc))}); the corpus is as it was.") from exc
    meta = next((a for a in state.engine.articles() if a.file == name), None)
    if meta is None:  # read alone it held an article, beside the others only furniture
        why = next((p.reason for p in state.engine.problems if p.file == name), "not indexed")
        intake.unplace(folder, name)
        try:
            await reindex(state)
        except Exception:  # the engine serving never held the file: nothing is wrong with it
            log.exception("re-indexing without %s failed", name)
        raise Refused(f"{staged.name} was not indexed: {why}.")
    log.info("added %s (%d passages)", name, meta.passages)
    parts = [f"Added: <b>{esc(meta.title or name)}</b> — {plural(meta.passages, 'passage')}"]
    if source:
        parts.append(f"source {esc(source)}")
    saved = f"saved as <code>{esc(name)}</code>"
    if name != staged.name:
        saved += f" ({esc(staged.name)} is another article)"
    parts.append(saved)
    return ", ".join(parts) + "."


async def reindex(state: BotState) -> None:
    if state.reload is None:
        raise RuntimeError("the bot cannot re-index now")
    await state.reload(True)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def too_big(size: int | None) -> str:
    """Why a file of ``size`` bytes (None: not known, but too big) is not added."""
    what = f"is {intake.megabytes(size)}" if size is not None else "is too big"
    limit = intake.megabytes(intake.UPLOAD_LIMIT)
    return f"the file {what}; Telegram lets bots download files of up to {limit}."


def document_name(doc: Document) -> str:
    """The name to save ``doc`` under: its own, made safe; by its type when it has none."""
    suffix = "" if doc.file_name else intake.SUFFIX_OF_TYPE.get(doc.mime_type or "", "")
    return intake.safe_name(doc.file_name, f"upload-{doc.file_unique_id}", suffix)


async def add_document(state: BotState, bot: Bot, doc: Document) -> str:
    """Download a document sent to the bot and :func:`admit` it; the reply."""
    name = document_name(doc)
    intake.check_suffix(name)
    if doc.file_size and doc.file_size > intake.UPLOAD_LIMIT:
        raise Refused(too_big(doc.file_size))
    try:
        file = await bot.get_file(doc.file_id)
    except BadRequest as exc:
        if "too big" in exc.message.lower():
            raise Refused(too_big(doc.file_size)) from None
        raise Refused(f"Telegram did not hand the file over ({scrub(exc.message)}).") from None
    except TelegramError as exc:
        why = scrub(exc.message)
        raise Refused(f"I could not reach Telegram ({why}); send it again.") from None
    if file.file_size and file.file_size > intake.UPLOAD_LIMIT:
        raise Refused(too_big(file.file_size))
    with intake.staging(state.settings.corpus_dir) as where:
        staged = where / name
        try:
            await file.download_to_drive(staged)
        except (TelegramError, OSError) as exc:
            why = scrub(exc.message if isinstance(exc, TelegramError) else str(exc))
            raise Refused(f"the download from Telegram failed ({why}); send it again.") from None
        return await admit(state, staged, None)


def url_file_name(url: str, filename: str | None, content_type: str) -> str:
    """The name to save a fetched document under: the server's name for it, else the host and
    the last part of the path; the suffix by the name, else by the content type."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "page").removeprefix("www.")
    if filename:
        raw = filename
    else:
        last = urllib.parse.unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
        raw = f"{host}-{last}" if last else host
    suffix = intake.suffix_of(raw)
    if suffix not in intake.readable_suffixes():
        suffix = intake.SUFFIX_OF_TYPE.get(content_type, suffix)
    return intake.safe_name(raw, host, suffix)


async def add_url(state: BotState, url: str) -> str:
    """Fetch ``url`` (:func:`bot.fetch.fetch`) and :func:`admit` it; the reply."""
    with intake.staging(state.settings.corpus_dir) as where:
        try:
            got = await fetch(url, where / "download.part", intake.UPLOAD_LIMIT)
        except FetchRefused as exc:
            raise Refused(str(exc).rstrip(".") + ".") from None
        name = url_file_name(got.url, got.filename, got.content_type)
        suffix = intake.check_suffix(name)
        mismatch = intake.type_mismatch(got.content_type, suffix)
        if mismatch is not None:
            raise Refused(mismatch + ".")
        staged = where / name
        os.replace(got.path, staged)
        return await admit(state, staged, got.url)


def refusal(exc: Refused) -> str:
    return f"Not added: {esc(str(exc))}"


@rate_limited
async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file an admin sent in a private chat: added to the corpus, or the reason it was not."""
    msg = update.effective_message
    if msg is None or msg.document is None:
        return
    state = state_of(context)
    async with state.corpus_lock:
        try:
            reply = await add_document(state, context.bot, msg.document)
        except Refused as exc:
            log.info("upload %r refused: %s", msg.document.file_name, exc)
            reply = refusal(exc)
    await msg.reply_text(reply, do_quote=True)


@rate_limited
async def on_document_refused(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file without a question from someone who is not an admin."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(NOT_AN_ADMIN, do_quote=True)


@rate_limited
@admin_only
@private_report(IN_PRIVATE)
async def on_add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/add URL``: fetch a document and add it (``/add`` alone: how to add articles)."""
    msg = update.effective_message
    if msg is None:
        return
    state = state_of(context)
    url = argument(update)
    if not url:
        await msg.reply_text(usage(state), do_quote=True)
        return
    async with state.corpus_lock:
        try:
            reply = await add_url(state, url)
        except Refused as exc:
            log.info("/add refused: %s", exc)
            reply = refusal(exc)
    await msg.reply_text(reply, do_quote=True)


# -- removing ------------------------------------------------------------------------------------


async def remove(state: BotState, name: str) -> str:
    folder = state.settings.corpus_dir
    intake.corpus_file(folder, name)
    articles = state.engine.articles()
    meta = next((a for a in articles if a.file == name), None)
    if meta is not None and len(articles) == 1:
        raise Refused(f"{name} is the only article; the bot needs at least one.")
    kept = await asyncio.to_thread(intake.take_out, folder, name)
    try:
        await reindex(state)
    except Exception as exc:
        intake.put_back(folder, kept, name)
        raise Refused(f"re-indexing failed ({scrub(str(exc))}); {name} was put back.") from exc
    log.info("removed %s (kept as %s)", name, kept)
    title = (
        f"<b>{esc(meta.title)}</b> (<code>{esc(name)}</code>)"
        if meta and meta.title
        else (f"<code>{esc(name)}</code>")
    )
    left = plural(state.engine.n_articles, "article")
    return (
        f"Removed: {title}; {left} left. The file is kept in "
        f"<code>{intake.REMOVED_FOLDER}/</code> of the corpus folder."
    )


@rate_limited
@admin_only
@private_report(IN_PRIVATE)
async def on_remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/remove FILE``: take an article out of the corpus."""
    msg = update.effective_message
    if msg is None:
        return
    state = state_of(context)
    name = argument(update)
    if not name:
        await msg.reply_text(
            "Add the article's file name, e.g. <code>/remove 003_report.pdf</code> "
            "(/sources lists them).",
            do_quote=True,
        )
        return
    async with state.corpus_lock:
        try:
            reply = await remove(state, name)
        except Refused as exc:
            reply = f"Not removed: {esc(str(exc))}"
    await msg.reply_text(reply, do_quote=True)
