"""Web pages (``.html``, ``.htm``, as a browser saves them) -> Document, through trafilatura.

trafilatura finds the article's main text and leaves out navigation, cookie banners, ads,
related-story lists and comments (``include_comments=False``); ``favor_precision`` because a
quote of furniture is worse than a missed sentence (measured on 181 real pages, see the README).
The title, canonical URL and date come from the page's own metadata (``<title>``,
``og:``/``twitter:`` tags, ``<link rel="canonical">``, ``article:published_time``, JSON-LD); the
date only from markup, never guessed from the text. Its XML body gives the structure: ``head``
(headings), ``p``, ``list``/``item``, ``table``/``row``/``cell``, ``quote``, ``code``.
"""

from __future__ import annotations

from ..documents import ITEM, PARAGRAPH, ROW, Document, UnreadableDocument
from . import TextBuilder, clean_url, one_line

# the page's date from its markup only (no guessing from the text or the URL)
DATE_PARAMS = {"extensive_search": False, "original_date": True}


def _words(el) -> str:  # lxml element
    return one_line(" ".join(el.itertext()))


def _blocks(el, out: TextBuilder, group: int = 0) -> None:
    for child in el:
        tag = child.tag
        if tag == "head":
            rend = str(child.get("rend") or "h2")
            level = int(rend[1]) if rend[:1] == "h" and rend[1:2].isdigit() else 2
            out.heading(_words(child), level)
        elif tag == "p" or tag == "code":
            out.add(PARAGRAPH, _words(child))
        elif tag == "quote":
            if any(c.tag in ("p", "list", "head") for c in child):
                _blocks(child, out, group)
            else:
                out.add(PARAGRAPH, _words(child))
        elif tag == "list":
            _list(child, out, group or out.new_group())
        elif tag == "table":
            g = out.new_group()
            for row in child.iter("row"):
                cells = [_words(c) for c in row if c.tag == "cell"]
                out.add(ROW, " | ".join(c for c in cells if c), group=g)
        elif len(child):
            _blocks(child, out, group)
        else:
            out.add(PARAGRAPH, _words(child))


def _list(el, out: TextBuilder, group: int) -> None:
    """A list's items, one block each; a nested list's items after their parent's."""
    for item in el:
        if item.tag != "item":
            continue
        own = [item.text or ""]
        for c in item:
            if c.tag != "list":
                own.append(" ".join(c.itertext()))
            own.append(c.tail or "")
        out.add(ITEM, "".join(own), group=group)
        for c in item:
            if c.tag == "list":
                _list(c, out, group)


def read(name: str, data: bytes) -> Document:
    import trafilatura

    head = data[:2048].lstrip().lower()
    if b"\x00" in data[:4096] or b"<" not in head:
        raise UnreadableDocument("not really a web page (no HTML markup)")
    try:
        doc = trafilatura.bare_extraction(
            data,
            include_comments=False,
            include_tables=True,
            favor_precision=True,
            with_metadata=True,
            date_extraction_params=DATE_PARAMS,
        )
    except Exception as exc:  # a library error on a hostile page is a reason, not a crash
        raise UnreadableDocument(
            f"could not read the web page ({exc.__class__.__name__})"
        ) from None
    if doc is None or doc.body is None:
        raise UnreadableDocument("no article text found in the web page")
    out = TextBuilder()
    _blocks(doc.body, out)
    return out.document(name, "html", title=doc.title, source=clean_url(doc.url), date=doc.date)
