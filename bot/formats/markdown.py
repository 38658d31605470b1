"""Markdown (``.md``) -> Document, through markdown-it-py (CommonMark, with tables).

Front matter between ``---`` lines at the top gives ``title:``, ``source:`` (or ``url:``,
``link:``, ``canonical:``) and ``date:``; without a title the first level-1 heading is the
title. Headings, paragraphs, list items, block quotes, code blocks and table rows become blocks;
emphasis marks, link targets, images and raw HTML are not part of the text.
"""

from __future__ import annotations

import re

from ..documents import ITEM, PARAGRAPH, ROW, Document, UnreadableDocument, article_text
from . import TextBuilder, clean_url

_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_KEY = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:[ \t]*(.*)$")
SOURCE_KEYS = ("source", "url", "link", "canonical", "canonical_url", "original")


def front_matter(text: str) -> tuple[dict[str, str], str]:
    """(``key: value`` pairs of the front matter, lower-cased keys; the text after it). Only
    simple one-line values are read (quotes around them removed); other YAML is ignored."""
    m = _FRONT.match(text)
    if not m:
        return {}, text
    meta: dict[str, str] = {}
    for line in m.group(1).splitlines():
        k = _KEY.match(line)
        if not k:
            continue
        value = k.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if value:
            meta.setdefault(k.group(1).lower(), value)
    return meta, text[m.end() :]


def _inline_text(token) -> str:  # markdown_it.token.Token
    """The words of an inline token: text, code spans, image alt text left out, breaks as
    spaces; markup and link targets dropped."""
    out: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
    return "".join(out)


def read(name: str, data: bytes) -> Document:
    from markdown_it import MarkdownIt

    text, reason = article_text(data)
    if text is None:
        raise UnreadableDocument(reason or "unreadable")
    meta, body = front_matter(text)
    tokens = MarkdownIt("commonmark").enable("table").parse(body)
    out = TextBuilder()
    title = meta.get("title")
    group = 0
    lists = 0  # depth of the list being read
    row: list[str] = []
    for i, tok in enumerate(tokens):
        t = tok.type
        if t == "heading_open":
            words = _inline_text(tokens[i + 1])
            if title is None and not out.blocks and tok.tag == "h1":
                title = words
            out.heading(words, int(tok.tag[1]))
        elif t in ("bullet_list_open", "ordered_list_open"):
            if lists == 0:
                group = out.new_group()
            lists += 1
        elif t in ("bullet_list_close", "ordered_list_close"):
            lists -= 1
        elif t == "inline" and tokens[i - 1].type == "paragraph_open":
            out.add(ITEM if lists else PARAGRAPH, _inline_text(tok), group=group if lists else 0)
        elif t in ("fence", "code_block"):
            out.add(PARAGRAPH, tok.content)
        elif t == "table_open":
            group = out.new_group()
        elif t == "tr_open":
            row = []
        elif t == "inline" and tokens[i - 1].type in ("th_open", "td_open"):
            row.append(" ".join(_inline_text(tok).split()))
        elif t == "tr_close":
            out.add(ROW, " | ".join(row), group=group)
    source = None
    for key in SOURCE_KEYS:
        source = clean_url(meta.get(key))
        if source:
            break
    return out.document(name, "md", title=title, source=source, date=meta.get("date"))
