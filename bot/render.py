"""Hits in, text out: Telegram HTML and plain text. Pure functions, no network, no index.

Telegram rules honoured here: only its HTML tags, every ``<``, ``>``, ``&`` of article or user
text escaped, and at most 4096 characters *after* entity parsing, counted in UTF-16 code units.
When hits do not fit, whole hits are dropped from the end; a tag is never cut.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring as _json_str

from .search import Answer, Hit
from .store import ArticleMeta

TELEGRAM_LIMIT = 4096
EXPANDABLE_OVER = 300  # quotes longer than this are sent as expandable blockquotes
INLINE_DESCRIPTION_CHARS = 120
TITLE_MAX_CHARS = 200  # a title is a lead line of the file: a run-on one must not crowd out quotes

NO_ANSWER = "The articles don't answer that."
NO_ANSWER_HINT = "Try other words — names, places, agreements or programmes from the articles."
RELATED_HEADER = "The articles don't say exactly. Closest passages:"
EMPTY_HINT = (
    "Ask me a question about the articles — who, what, when or where — and I'll quote the "
    "passages that answer it. /sources lists the articles."
)
CHITCHAT = (
    "I only answer questions about the articles, by quoting them. Ask me about something they "
    "cover — /sources lists them."
)

_TAG = re.compile(r"<[^>]*>")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def visible_len(html_text: str) -> int:
    """Length Telegram counts for an HTML message: tags removed, entities decoded, UTF-16."""
    return utf16_len(html.unescape(_TAG.sub("", html_text)))


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def short_title(title: str | None) -> str | None:
    if title is None or len(title) <= TITLE_MAX_CHARS:
        return title
    return title[: TITLE_MAX_CHARS - 1].rstrip() + "…"


def cite(hit: Hit, with_title: bool = True) -> str:
    """Plain citation: ``Title — file, line 6`` (or ``lines 6–8``); with the PDF page or the
    section when the article is a structured document (``report.pdf, page 2, line 17``):
    lines count the text extracted from it."""
    lines = (
        f"line {hit.line_start}"
        if hit.line_start == hit.line_end
        else f"lines {hit.line_start}–{hit.line_end}"
    )
    where = f"{hit.file}, {lines}" if hit.locator is None else f"{hit.file}, {hit.locator}, {lines}"
    if with_title and hit.title:
        return f"{short_title(hit.title)} — {where}"
    return where


def highlight_html(hit: Hit) -> str:
    """The quote with matched words in bold and the answer span underlined (each run of text
    closes its own tags, so bold and underline nest correctly wherever they overlap)."""
    cuts = {0, len(hit.text)}
    for s, e in (*hit.highlights, *hit.answers):
        cuts.update((s, e))
    bounds = sorted(c for c in cuts if 0 <= c <= len(hit.text))
    out: list[str] = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        piece = esc(hit.text[a:b])
        if any(s <= a and b <= e for s, e in hit.highlights):
            piece = f"<b>{piece}</b>"
        if any(s <= a and b <= e for s, e in hit.answers):
            piece = f"<u>{piece}</u>"
        out.append(piece)
    return "".join(out)


def link(url: str | None, label_html: str) -> str:
    """``label_html`` as a link to ``url`` when it is an http(s) URL (the only links Telegram
    is given: the href attribute escaped, quotes too), else as it is."""
    if (
        not url
        or not url.lower().startswith(("https://", "http://"))
        or any(c.isspace() for c in url)
    ):
        return label_html
    return f'<a href="{html.escape(url, quote=True)}">{label_html}</a>'


def hit_html(hit: Hit, number: int | None = None, expandable: bool | None = None) -> str:
    exp = len(hit.text) > EXPANDABLE_OVER if expandable is None else expandable
    open_tag = "<blockquote expandable>" if exp else "<blockquote>"
    head = f"<b>{number}.</b> " if number is not None else ""
    title = f"{link(hit.source, f'<i>{esc(short_title(hit.title))}</i>')} · " if hit.title else ""
    where = esc(cite(hit, with_title=False))
    return f"{open_tag}{highlight_html(hit)}</blockquote>\n{head}{title}<code>{where}</code>"


def hit_plain(hit: Hit, number: int | None = None) -> str:
    head = f"{number}. " if number is not None else ""
    quoted = "\n".join("  > " + ln for ln in hit.text.split("\n"))
    source = f"\n   {hit.source}" if hit.source else ""
    return f"{quoted}\n{head}{cite(hit)}{source}"


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer in both forms; ``shown`` is how many hits fitted."""

    html: str
    plain: str
    shown: int


def _header(n: int, offset: int, related: bool = False) -> str:
    if offset:
        return f"More passages ({offset + 1}–{offset + n}):"
    if related:
        return RELATED_HEADER
    return "From the articles:" if n == 1 else f"From the articles ({n} passages):"


def render_answer(
    answer: Answer, limit: int = TELEGRAM_LIMIT, compact: bool = False, note: str | None = None
) -> Reply:
    """The reply to a question: confident hits, or the closest passages clearly labelled as
    not answering exactly, or a plain "the articles don't answer that". ``note`` as in
    :func:`render_reply`."""
    if answer.chitchat:
        return Reply(html=esc(CHITCHAT), plain=CHITCHAT, shown=0)
    if answer.hits:
        return render_reply(answer.hits, limit=limit, compact=compact, note=note)
    return render_reply(answer.related, limit=limit, compact=compact, related=True, note=note)


def render_reply(
    hits: Sequence[Hit],
    offset: int = 0,
    limit: int = TELEGRAM_LIMIT,
    compact: bool = False,
    related: bool = False,
    note: str | None = None,
) -> Reply:
    """The reply to a question. ``offset`` numbers hits after a "more" press; ``related``
    labels the hits as the closest passages, not an answer. ``note``: a line of interface
    text above it, such as how a follow-up was read ("Reading this with: LEMOA",
    ``conversation.Reading.note``)."""
    top_html = [f"<i>{esc(note)}</i>"] if note else []
    top_plain = [note] if note else []
    if not hits:
        text = f"{NO_ANSWER} {NO_ANSWER_HINT}" if offset == 0 else "No more passages answer that."
        return Reply(
            html="\n".join([*top_html, esc(text)]), plain="\n".join([*top_plain, text]), shown=0
        )
    kept = list(hits)
    while kept:
        n = len(kept)
        parts_html = [*top_html, f"<b>{esc(_header(n, offset, related))}</b>"]
        parts_plain = [*top_plain, _header(n, offset, related)]
        for k, h in enumerate(kept):
            parts_html.append(hit_html(h, offset + k + 1, expandable=True if compact else None))
            parts_plain.append(hit_plain(h, offset + k + 1))
        body = "\n\n".join(parts_html)
        if visible_len(body) <= limit:
            return Reply(html=body, plain="\n\n".join(parts_plain), shown=n)
        kept.pop()
    # a single hit that does not fit (cannot happen with ~400-char excerpts): cite only
    h = hits[0]
    text = f"{_header(1, offset, related)}\n{cite(h)}"
    return Reply(html=esc(text), plain=text, shown=1)


def render_empty_question() -> Reply:
    return Reply(html=esc(EMPTY_HINT), plain=EMPTY_HINT, shown=0)


SOURCES_PER_PAGE = 8  # 8 lines of at most ~480 characters each fit in one message


def render_sources(
    articles: Sequence[ArticleMeta], start: int = 0, per_page: int | None = SOURCES_PER_PAGE
) -> Reply:
    """Articles ``start``.. (at most ``per_page``; ``None``: all, for the console). Linear: each
    line is measured once; ``shown`` is how many fitted in one message."""
    total = len(articles)
    end = total if per_page is None else min(total, start + per_page)
    lines_html: list[str] = []
    lines_plain: list[str] = []
    used = 60  # room for the header
    for k in range(start, end):
        a = articles[k]
        title = short_title(a.title) or "(untitled)"
        date = f" — {a.date}" if a.date else ""
        line = f"{k + 1}. {link(a.source, esc(title))}{esc(date)}\n    <code>{esc(a.file)}</code>"
        cost = visible_len(line) + 1
        if per_page is not None and used + cost > TELEGRAM_LIMIT and lines_html:
            break
        lines_html.append(line)
        source = f"\n    {a.source}" if a.source else ""
        lines_plain.append(f"{k + 1}. {title}{date}\n    {a.file}{source}")
        used += cost
    shown = len(lines_html)
    if start == 0 and shown == total:
        head = f"Articles I quote ({total}):"
    else:
        head = f"Articles I quote ({start + 1}–{start + shown} of {total}):"
    return Reply(
        html="\n".join([f"<b>{esc(head)}</b>", *lines_html]),
        plain="\n".join([head, *lines_plain]),
        shown=shown,
    )


def inline_description(hit: Hit) -> str:
    t = " ".join(hit.text.split())
    return t if len(t) <= INLINE_DESCRIPTION_CHARS else t[: INLINE_DESCRIPTION_CHARS - 1] + "…"


def hit_json(hit: Hit) -> dict[str, object]:
    """A hit for ``ask --json``: ``answers`` are [start, end) offsets in ``text`` of the span of
    the asked kind (a date for "when", a number for "how many", ...)."""
    return {
        "file": hit.file,
        "lines": [hit.line_start, hit.line_end],
        "score": round(hit.score, 6),
        "text": hit.text,
        "title": hit.title,
        "answers": [list(span) for span in hit.answers],
        "source": hit.source,
        "page": hit.locator.label if hit.locator and hit.locator.kind == "page" else None,
        "section": hit.locator.label if hit.locator and hit.locator.kind == "section" else None,
    }


def answer_json(answer: Answer) -> dict[str, object]:
    """``hits`` are confident answers (the metrics count only these); ``related`` the closest
    passages when nothing answers confidently."""
    return {
        "question": answer.question,
        "hits": [hit_json(h) for h in answer.hits],
        "related": [hit_json(h) for h in answer.related],
    }


def answer_json_text(
    answer: Answer, question: str | None = None, carried: Sequence[str] | None = None
) -> str:
    """``json.dumps(obj, ensure_ascii=False)`` of :func:`answer_json`'s object (its question
    ``question`` when given, then ``carried`` when given), written directly: the same text at
    half the cost, for ``ask --json`` (a test compares the two on hostile hits)."""
    q = answer.question if question is None else question
    out = (
        f'{{"question": {_json_str(q)}, "hits": [{", ".join(map(_hit_json_text, answer.hits))}], '
        f'"related": [{", ".join(map(_hit_json_text, answer.related))}]'
    )
    if carried is not None:
        out += f', "carried": [{", ".join(map(_json_str, carried))}]'
    return out + "}"


def _json_or_null(text: str | None) -> str:
    return "null" if text is None else _json_str(text)


def _hit_json_text(hit: Hit) -> str:
    answers = ", ".join(f"[{int(a)}, {int(b)}]" for a, b in hit.answers)
    loc = hit.locator
    page = loc.label if loc is not None and loc.kind == "page" else None
    section = loc.label if loc is not None and loc.kind == "section" else None
    return (
        f'{{"file": {_json_str(hit.file)}, "lines": [{int(hit.line_start)}, '
        f'{int(hit.line_end)}], "score": {_json_float(round(hit.score, 6))}, '
        f'"text": {_json_str(hit.text)}, "title": {_json_or_null(hit.title)}, '
        f'"answers": [{answers}], "source": {_json_or_null(hit.source)}, '
        f'"page": {_json_or_null(page)}, "section": {_json_or_null(section)}}}'
    )


def _json_float(x: float) -> str:
    """A float as ``json.dumps`` writes it (NaN and infinities as JavaScript names)."""
    return float.__repr__(x) if math.isfinite(x) else json.dumps(x)


UNANSWERED_OFF = "The log of unanswered questions is off (UNANSWERED_LOG=off)."


def render_unanswered(rows: Sequence[tuple[str, int]], enabled: bool = True) -> Reply:
    """Questions that got no confident answer, most frequent first, with counts (the admin
    ``/unanswered`` command and ``python -m bot unanswered``)."""
    if not enabled:
        return Reply(html=esc(UNANSWERED_OFF), plain=UNANSWERED_OFF, shown=0)
    if not rows:
        text = "No unanswered questions in the last 90 days."
        return Reply(html=esc(text), plain=text, shown=0)
    head = f"Questions the articles didn't answer (last 90 days, {len(rows)} most asked):"
    lines_html = [f"<b>{esc(head)}</b>"]
    lines_plain = [head]
    for question, count in rows:
        lines_html.append(f"{count}× {esc(question)}")
        lines_plain.append(f"{count}× {question}")
    while visible_len("\n".join(lines_html)) > TELEGRAM_LIMIT and len(lines_html) > 2:
        lines_html.pop()
        lines_plain.pop()
    return Reply(
        html="\n".join(lines_html), plain="\n".join(lines_plain), shown=len(lines_html) - 1
    )
