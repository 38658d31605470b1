"""Corpus files -> articles -> passages (line spans).

An article file is plain text: one paragraph a line, or paragraphs hard-wrapped at a fixed width
(lines that end near a common width and run on into the next are joined back into their
paragraph; a passage then spans lines a..b of the file). Besides the article body a scraped page
carries furniture: site banners, repeated title lines, "Read More" blocks of other stories'
headlines, comment forms, widget credits.

Every non-empty line is indexed, or set aside with its reason (:attr:`Article.not_indexed`, which
``python -m bot check`` lists). A line is set aside only on evidence, never for its shape alone
(a paragraph that ends in "[citation needed]", a colon, a number or a quote is text):

- the title, and the title repeated (kept as metadata, with the date);
- a generic web-page phrase: share, comments, newsletters, cookies, credits
  (``data/furniture.txt``, no word of any one site);
- a short line found in several files of the corpus (site chrome: :func:`shared_lines`);
- the short headline-like lines after a link-list marker ("Read More", "Related News");
- a trailing run of short headline-like lines after the article's last paragraph (other
  stories' headlines), and the lines above the headline of a page that opens with furniture;
- a line without a single word.

A short heading (a few words, no sentence-final stop) is quoted with the paragraph right under
it; the title is a first line that is not long prose (or, below furniture at the top of a page,
the longest such line before the first paragraph), whatever its length.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .dates import DATE_RE
from .documents import (
    HEADING,
    ITEM,
    MAX_FILE_BYTES_DEFAULT,
    ROW,
    SUPPORTED_SUFFIXES,
    Document,
    Locator,
    UnreadableDocument,
    read_article_file,
)
from .extracted import ExtractedTexts

log = logging.getLogger(__name__)

FURNITURE_FILE = Path(__file__).with_name("data") / "furniture.txt"


@dataclass(frozen=True, slots=True)
class Passage:
    """A paragraph of an article: the unit that is ranked.

    ``text`` is lines ``line_start..line_end`` (1-based, inclusive) of the file, each without its
    trailing whitespace, joined by ``\\n``; a trailing byline/credit suffix of the last line
    (``–News Desk``) is cut. Lines of one hard-wrapped paragraph are thus joined by a single
    ``\\n`` (:func:`reading_text` reads it as a space), separate paragraphs (a heading and the
    paragraph under it) by a blank line or, in a file without blank lines, a single ``\\n`` too.
    A quote is verified in the cited lines with whitespace folded (``engine.quote_in_file``).
    """

    file: str
    line_start: int
    line_end: int
    text: str


@dataclass(slots=True)
class Article:
    file: str
    title: str | None
    date: str | None
    passages: list[Passage] = field(default_factory=list)
    # every non-empty line no passage holds: (1-based line, reason), in file order
    not_indexed: list[tuple[int, str]] = field(default_factory=list)
    source: str | None = None  # the article's URL (the file's own metadata, or sources.csv)
    format: str = "txt"
    # (first line, page or section) of a structured document's extracted text, in line order
    locators: tuple[tuple[int, Locator], ...] = ()


@dataclass(slots=True)
class CorpusProblem:
    file: str
    reason: str

    def __post_init__(self) -> None:
        # a file name that is not UTF-8 is reported printably (U+FFFD), never as lone surrogates
        self.file = self.file.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclass(slots=True)
class Corpus:
    folder: Path
    articles: list[Article]
    problems: list[CorpusProblem]

    @property
    def passages(self) -> list[Passage]:
        return [p for a in self.articles for p in a.passages]

    def article(self, file: str) -> Article | None:
        for a in self.articles:
            if a.file == file:
                return a
        return None


class CorpusError(Exception):
    """The corpus cannot be served at all (missing folder, no usable article)."""


# --- why a line is not indexed -----------------------------------------------------------------

TITLE = "title (kept as the article's title)"
TITLE_AGAIN = "title, repeated"
ABOVE_HEADLINE = "above the headline of a page that opens with furniture (site header)"
DATE_ABOVE = "the article's date, above the headline (kept as its date)"
FURNITURE = "page furniture (a web-page phrase, data/furniture.txt)"
LINK_LIST = 'a headline in a link list (after "Read More", "Related News", ...)'
TRAILING = "a headline-like line after the article's last paragraph (other stories)"
SHARED = "a short line that is in several files of the corpus (site furniture)"
NO_WORDS = "no words"

# --- line classification -----------------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)
# "…future.–News Desk", "… region. - Staff Reporter": a credit glued to the end of the last line.
_BYLINE_SUFFIX = re.compile(
    r"""(?<=[.!?"”’])\s*[–—-]\s*(?:[A-Z][\w.&']*\s?){1,4}\s*$""",
)
_DATELINE = re.compile(
    r"^\W*(?:(?:mon|tue|wed|thu|fri|sat|sun)\w*,?\s*)?" + DATE_RE.pattern + r"[\s,|:-]*"
    r"(?:\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?\s*(?:[A-Z]{2,4})?)?\W*$",
    re.IGNORECASE,
)
# a sentence ends inside the text: "… in 2019. The …"
_INNER_SENTENCE_END = re.compile(r"""[a-z0-9)\]][.!?…]["'”’)\]]*\s+["'“‘(\[]?[A-Z]""")
# a bullet of a list: "- apples", "* pears", "• plums"
_LIST_ITEM = re.compile(r"\s*[-*•]\s")

SHORT_WORDS = 20  # a headline-like line: at most this many words, and no sentence-final stop
PARAGRAPH_WORDS = 25  # a paragraph: this many words, or a sentence of SENTENCE_WORDS or more
SENTENCE_WORDS = 8
HEADING_WORDS = 8  # a heading quoted with the text under it: at most this many words
MARKER_MAX_CHARS = 240  # furniture lines are short; long lines are never checked for markers
SHARED_MAX_CHARS = 200  # only lines this short are compared across files
SHARED_MIN_FILES = 3  # ... and are furniture when in this many files (or in most, at least 2)
MAX_WRAP_WIDTH = 200  # nobody hard-wraps wider: longer lines are paragraphs of their own


def _read_furniture(path: Path) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {"line": [], "links": [], "anywhere": []}
    current = None
    for raw in path.read_text("utf-8").splitlines():
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        if entry.startswith("[") and entry.endswith("]") and entry[1:-1] in sections:
            current = sections[entry[1:-1]]
        elif current is None:
            raise ValueError(f"{path.name}: an entry before the first [section]: {entry!r}")
        else:
            current.append(entry)
    return sections


def _whole_line(patterns: list[str]) -> re.Pattern[str]:
    return re.compile(r"^\W*(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\W*$", re.I)


_FURNITURE_LISTS = _read_furniture(FURNITURE_FILE)
_FURNITURE_LINE = _whole_line(_FURNITURE_LISTS["line"] + _FURNITURE_LISTS["links"])
_LINKS_LINE = _whole_line(_FURNITURE_LISTS["links"])
# every line _FURNITURE_ANYWHERE matches holds one of these, lower-cased (exactly so for an
# ASCII line; other lines go to the pattern): most lines are ruled out without it
_ANYWHERE_HINTS = tuple(p.lower() for p in _FURNITURE_LISTS["anywhere"])
_FURNITURE_ANYWHERE = re.compile(
    r"\b(?:" + "|".join(re.escape(p) for p in _FURNITURE_LISTS["anywhere"]) + r")\b", re.I
)


def strip_byline(line: str) -> str:
    """The line without a trailing credit such as ``–News Desk``."""
    return _BYLINE_SUFFIX.sub("", line)


_CLOSERS = "\"'”’»)]"


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends with a sentence-final stop (closing quotes and brackets aside)."""
    t = text.rstrip().rstrip(_CLOSERS)
    return bool(t) and t[-1] in ".!?…"


def is_furniture_marker(line: str) -> bool:
    """A generic web-page phrase (``data/furniture.txt``): the whole line, or a short line
    holding an [anywhere] phrase."""
    s = line.strip()
    if len(s) > MARKER_MAX_CHARS:
        return False
    if _FURNITURE_LINE.match(s):
        return True
    if s.isascii():
        low = s.lower()
        if not any(h in low for h in _ANYWHERE_HINTS):
            return False
    return bool(_FURNITURE_ANYWHERE.search(s))


def is_link_list_marker(line: str) -> bool:
    """A line that opens a list of links to other pages ("Read More", "Related News")."""
    s = line.strip()
    return len(s) <= MARKER_MAX_CHARS and bool(_LINKS_LINE.match(s))


def is_dateline(line: str) -> bool:
    s = line.strip()
    return 0 < len(s) <= 60 and bool(_DATELINE.match(s))


def line_key(line: str) -> str:
    """A line as it is compared across files: whitespace folded, case ignored."""
    return " ".join(line.split()).casefold()


_SOFT_BREAK = re.compile(r"(?<=[^\n])\n(?=[^\n])")
_HYPHEN_BREAK = re.compile(r"(?<=\w-)\n(?=\w)")  # "US-\nIndia": a line broken after a hyphen


def reading_text(text: str) -> str:
    """A passage's text as it reads: a line break inside a paragraph (a single ``\\n`` between
    two lines, as in hard-wrapped text) becomes a space; a blank line stays. One character for
    one, so offsets (and the lines they fall on) are those of ``text``."""
    if "\n" not in text:
        return text
    return _SOFT_BREAK.sub(" ", text)


# --- parsing -----------------------------------------------------------------------------------


def split_lines(text: str) -> list[str]:
    """The file's lines, as citations number them: LF, CRLF and CR-only endings alike."""
    if "\r" not in text:  # the common case: nothing to replace
        return text.split("\n")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def wrapped_breaks(lines: list[str], apart: list[bool]) -> set[int]:
    """Lines ``i`` that run on into line ``i + 1`` because the text is hard-wrapped.

    ``apart[i]``: line ``i`` is never joined to a neighbour (blank, furniture, a date). A file is
    hard-wrapped when most of its lines that are followed by another are full: the next line's
    first word would not have fitted in the width of the longest of them (outliers aside, at
    most :data:`MAX_WRAP_WIDTH`), or, ragged, the line ends within a quarter of that width while
    its sentence runs on — and most full lines run on mid-sentence (lines of a file of one
    paragraph a line end their sentences). Lengths are measured in characters and in UTF-8
    bytes (``fold`` counts bytes); either will do. Then each full line is joined to the next,
    unless that one opens a list item; where most full lines keep a blank at their end
    (``fold -s``), a line without one ends its paragraph."""
    inner = [
        i
        for i in range(len(lines) - 1)
        if not apart[i] and not apart[i + 1] and lines[i].strip() and lines[i + 1].strip()
    ]
    if len(inner) < 3:
        return set()
    full = _full_lines(lines, inner, len)
    if not all(lines[i].isascii() for i in inner):
        full |= _full_lines(lines, inner, lambda s: len(s.encode("utf-8", "surrogatepass")))
    # most lines followed by another are full, and most full lines run on mid-sentence (in a
    # file of one paragraph a line, lines end their sentences)
    running_on = sum(1 for i in full if not ends_sentence(lines[i]))
    if len(full) < 3 or 2 * len(full) < len(inner) or 2 * running_on < len(full):
        return set()
    # ``fold -s`` breaks after a space and keeps it: where most full lines end in one, a line
    # that does not is the end of its paragraph
    spaced = [i for i in full if lines[i].rstrip("\r\n")[-1:].isspace()]
    if 5 * len(spaced) >= 4 * len(full):
        return set(spaced)
    return full


def _full_lines(lines: list[str], inner: list[int], measure: Callable[[str], int]) -> set[int]:
    """Lines among ``inner`` that end near the common width, lengths taken by ``measure``.

    The width is the longest line's (outliers aside), counting the space ``fold -s`` keeps at
    the end of a line. The next word did not fit when ``text + space + word`` exceeds it
    (``textwrap``), or ``text + space + word + space`` (``fold -s`` wants the space after the
    word to fit too): the test takes the second, one character more lenient for the first."""
    lengths = [measure(lines[i].rstrip("\r\n")) for i in inner]
    ordered = sorted(lengths)
    usual = ordered[(9 * (len(ordered) - 1)) // 10]
    width = max(n for n in ordered if 4 * n <= 5 * usual)  # the longest, outliers aside
    if width > MAX_WRAP_WIDTH:
        return set()
    full = set()
    for i, here in zip(inner, lengths, strict=True):
        line, after = lines[i], lines[i + 1]
        if here > width or _LIST_ITEM.match(after):
            continue
        text_len = measure(line.rstrip())
        first_word = measure(after.split(None, 1)[0])
        if text_len + 2 + first_word > width or (
            4 * text_len >= 3 * width and (not ends_sentence(line) or after.lstrip()[:1].islower())
        ):
            full.add(i)
    return full


@dataclass(slots=True)
class _Unit:
    """A run of lines ``a..b`` (0-based) that reads as one: a line, or a wrapped paragraph."""

    a: int
    b: int
    text: str  # the lines, without trailing whitespace, joined by \n
    kind: str  # "text", "marker", "links", "shared", "date", "empty"
    words: int = 0
    ends: bool = False  # ends with a sentence-final stop

    @property
    def paragraph(self) -> bool:
        return self.words >= PARAGRAPH_WORDS or (self.ends and self.words >= SENTENCE_WORDS)

    @property
    def short(self) -> bool:
        """Headline-like: a few words and no sentence-final stop."""
        return self.words <= SHORT_WORDS and not self.ends

    def heading_over(self, below: _Unit) -> bool:
        """A heading quoted with the text right under it: a few words without a sentence-final
        stop over a longer text (not a list bullet)."""
        return (
            self.kind in ("text", "date")
            and self.words <= HEADING_WORDS
            and not self.ends
            and below.words > self.words
            and not _LIST_ITEM.match(self.text)
        )

    @property
    def long_prose(self) -> bool:
        """Sentences, not a headline: many words that end in a full stop or hold one."""
        return self.words >= SHORT_WORDS and (
            self.ends or bool(_INNER_SENTENCE_END.search(self.text))
        )


SET_APART_CHARS = 40  # a furniture line this short is never joined to wrapped text around it


def segment(lines: list[str]) -> list[tuple[int, int, str]]:
    """The runs of non-blank lines that read as one, ``(a, b, text)`` (0-based, inclusive): a
    line, or the lines of a hard-wrapped paragraph (:func:`wrapped_breaks`), each without its
    trailing whitespace, joined by ``\\n``. A date line or a short furniture line ("Read More")
    stands alone."""
    stripped = [ln.rstrip() for ln in lines]
    joins: set[int] = set()
    if sum(1 for i in range(len(lines) - 1) if stripped[i] and stripped[i + 1]) >= 3:
        apart = [
            not s or (len(s) <= SET_APART_CHARS and is_furniture_marker(s)) or is_dateline(s)
            for s in stripped
        ]
        joins = wrapped_breaks(lines, apart)
    runs = []
    i, n = 0, len(lines)
    while i < n:
        if not stripped[i]:
            i += 1
            continue
        j = i
        while j in joins:
            j += 1
        runs.append((i, j, stripped[i] if i == j else "\n".join(stripped[i : j + 1])))
        i = j + 1
    return runs


def _units(lines: list[str], shared: SharedLines) -> list[_Unit]:
    units = []
    for a, b, text in segment(lines):
        # words, as a measure of length (a dash counts too), counted up to what matters
        words = len(text.split(None, PARAGRAPH_WORDS))
        ends = ends_sentence(text)
        one_line = text if a == b else reading_text(text)
        if is_furniture_marker(one_line):
            kind = "links" if is_link_list_marker(one_line) else "marker"
        elif (
            shared.counts
            and len(text) <= SHARED_MAX_CHARS
            and shared.furniture(line_key(text), ends)
        ):
            kind = "shared"
        elif is_dateline(text):
            kind = "date"
        elif words <= 3 and not _WORD.search(text):
            kind = "empty"
        else:
            kind = "text"
        units.append(_Unit(a, b, text, kind, words, ends))
    return units


def _trailing_headlines(units: list[_Unit], body: list[int], body_end: int) -> set[int]:
    """The lines after the article's last paragraph when they are other stories' headlines:
    all headline-like, no more of them than lines of the body above (``body``: its units), and
    page furniture after the last paragraph too (or two or more lines capitalised as
    headlines)."""
    run = [k for k in range(body_end + 1, len(units)) if units[k].kind == "text"]
    if not run or any(not units[k].short for k in run):
        return set()
    furniture = any(u.kind in ("marker", "links", "shared") for u in units[body_end + 1 :])
    headlines = len(run) >= 2 and all(_headline_case(units[k].text) for k in run)
    if len(run) > sum(1 for k in body if k <= body_end) or not (furniture or headlines):
        return set()
    return set(run)


_CASED_WORD = re.compile(r"[^\W\d_][\w'’.-]*")


def _headline_case(text: str) -> bool:
    """Most of its words (three or more) are capitalised, as in "Talks Resume in Geneva"."""
    words = _CASED_WORD.findall(text)
    caps = sum(1 for w in words if w[0].isupper())
    return len(words) >= 3 and 5 * caps >= 3 * len(words)


def _title_like(u: _Unit, after: _Unit | None) -> bool:
    """The first line of an article read as its title: not long prose, and no sentence-final
    stop — or a few words over a longer paragraph."""
    if u.kind != "text" or after is None or u.long_prose:
        return False
    if not u.ends:
        return True
    return u.words <= 12 and after.paragraph and len(after.text) >= 2 * len(u.text)


def parse_article(file: str, text: str, shared: SharedLines | None = None) -> Article:
    """Split one article file into passages and metadata, setting furniture aside.

    ``shared``: :func:`shared_lines` of the corpus (short lines found in several files)."""
    lines = split_lines(text)
    units = _units(lines, shared or NO_SHARED_LINES)
    reasons: dict[int, str] = {}  # unit index -> why it is not indexed

    content = [k for k, u in enumerate(units) if u.kind == "text"]
    paragraphs = [k for k in content if units[k].paragraph]
    body_start = paragraphs[0] if paragraphs else len(units)

    # -- the title: a line repeated before the first paragraph, else the first line when it is
    # title-like; below furniture at the top of the page, the longest title-like line there
    title_k = _pick_title(units, content, body_start)
    title = None
    if title_k is not None:
        title = reading_text(_HYPHEN_BREAK.sub("", units[title_k].text))
        tkey = line_key(units[title_k].text)
        for k in content:
            if k <= body_start and line_key(units[k].text) == tkey:
                reasons[k] = TITLE_AGAIN
        reasons[title_k] = TITLE
        for k in range(title_k):
            if k not in reasons and units[k].kind in ("text", "date"):
                reasons[k] = DATE_ABOVE if units[k].kind == "date" else ABOVE_HEADLINE
        paragraphs = [k for k in paragraphs if k not in reasons]
        body_start = paragraphs[0] if paragraphs else len(units)
    body_end = paragraphs[-1] if paragraphs else len(units)
    date = next(
        (_date_of(units[k].text) for k in range(body_start) if units[k].kind == "date"), None
    )

    # -- furniture in and after the body
    tail_k = _trailing_headlines(units, [k for k in content if k not in reasons], body_end)
    in_links = False  # after a "Read More"-like line, until a line that is not headline-like
    for k, u in enumerate(units):
        if k in reasons:
            continue
        if u.kind in ("marker", "links"):
            reasons[k] = FURNITURE
            in_links = in_links or u.kind == "links"
            continue
        if in_links:
            if u.short:
                reasons[k] = LINK_LIST
                continue
            in_links = False
        if u.kind == "shared":
            reasons[k] = SHARED
        elif u.kind == "empty":
            reasons[k] = NO_WORDS
        elif k in tail_k:
            reasons[k] = TRAILING

    # -- passages: every unit left, a short heading with the text right under it
    passages: list[Passage] = []
    kept = [k for k in range(len(units)) if k not in reasons]
    heading: _Unit | None = None
    for pos, k in enumerate(kept):
        u = units[k]
        nxt = units[kept[pos + 1]] if pos + 1 < len(kept) and kept[pos + 1] == k + 1 else None
        if heading is None and nxt is not None and u.heading_over(nxt):
            heading = u
            continue
        start = heading.a if heading is not None else u.a
        heading = None
        body = "\n".join(ln.rstrip() for ln in lines[start : u.b + 1])
        if not ends_sentence(body):
            body = strip_byline(body)
        passages.append(
            Passage(file=file, line_start=start + 1, line_end=u.b + 1, text=body.rstrip())
        )

    if date is None and passages:
        m = DATE_RE.search(passages[0].text[:200])
        date = m.group(0) if m else None
    if title is None and passages:
        title = opening_label(passages[0].text)
    not_indexed = [
        (i + 1, reason)
        for k, reason in sorted(reasons.items())
        for i in range(units[k].a, units[k].b + 1)
    ]
    return Article(file=file, title=title, date=date, passages=passages, not_indexed=not_indexed)


MAX_GROUP_CHARS = 1200  # a list or a table is quoted as one passage up to about this long


def document_article(doc: Document) -> Article:
    """The passages of a structured document (every format but ``.txt``), following its
    blocks: a paragraph; a heading with the block right under it; a list with the paragraph
    that introduces it (one ending in a colon); a table's rows (a long list or table in pieces
    of about :data:`MAX_GROUP_CHARS`). Its readers have already left furniture out, so nothing
    is set aside but the title heading at the top (kept as the title)."""
    if not doc.blocks:  # a plain text: the plain-text reader finds its structure
        art = parse_article(doc.file, doc.text)
        art.format, art.source = doc.format, doc.source
        return art
    lines = split_lines(doc.text)
    not_indexed: list[tuple[int, str]] = []
    blocks = list(doc.blocks)
    first = blocks[0]
    if (
        first.kind == HEADING
        and doc.title
        and line_key(lines[first.line - 1]) == line_key(doc.title)
    ):
        not_indexed.append((first.line, TITLE))
        blocks = blocks[1:]
    spans: list[tuple[int, int]] = []  # (first line, last line) of each passage
    start: int | None = None  # first line of the headings (and lead-in) waiting for a block
    k = 0
    while k < len(blocks):
        b = blocks[k]
        if b.kind == HEADING:
            start = b.line if start is None else start
            k += 1
            continue
        if b.kind in (ITEM, ROW):
            end, size = k, 0
            while (
                end < len(blocks)
                and blocks[end].kind == b.kind
                and blocks[end].group == b.group
                and (end == k or size < MAX_GROUP_CHARS)
            ):
                size += len(lines[blocks[end].line - 1])
                end += 1
            spans.append((start if start is not None else b.line, blocks[end - 1].line))
            start, k = None, end
            continue
        nxt = blocks[k + 1] if k + 1 < len(blocks) else None
        lead_in = nxt is not None and nxt.kind == ITEM and lines[b.line - 1].rstrip().endswith(":")
        if lead_in:  # quoted with the list it introduces
            start = b.line if start is None else start
            k += 1
            continue
        spans.append((start if start is not None else b.line, b.line))
        start = None
        k += 1
    if start is not None:  # headings at the very end
        spans.append((start, blocks[-1].line))
    passages = [
        Passage(doc.file, a, z, "\n".join(ln.rstrip() for ln in lines[a - 1 : z]).strip())
        for a, z in spans
    ]
    title = doc.title or (opening_label(passages[0].text) if passages else None)
    return Article(
        file=doc.file,
        title=title,
        date=doc.date,
        passages=passages,
        not_indexed=not_indexed,
        source=doc.source,
        format=doc.format,
        locators=doc.locators,
    )


def _pick_title(units: list[_Unit], content: list[int], body_start: int) -> int | None:
    """The unit that is the article's title, if any (see :func:`parse_article`)."""
    if not content:
        return None
    lead = [k for k in content if k < body_start]
    seen: set[str] = set()
    for k in lead:
        key = line_key(units[k].text)
        if key in seen:
            return next(m for m in lead if line_key(units[m].text) == key)
        seen.add(key)

    def after(k: int) -> _Unit | None:
        return next((units[m] for m in content if m > k), None)

    if any(units[k].kind in ("marker", "links", "shared") for k in range(content[0])):
        cands = [k for k in lead if _title_like(units[k], after(k))]
        return max(cands, key=lambda k: len(units[k].text), default=None)
    return content[0] if _title_like(units[content[0]], after(content[0])) else None


def _date_of(line: str) -> str:
    m = DATE_RE.search(line)
    return m.group(0) if m else line.strip()


LABEL_WORDS = 10


def opening_label(text: str, words: int = LABEL_WORDS) -> str:
    """A readable stand-in for a missing headline, marked as such: the article's opening
    words (``Untitled, opens “On September 25, 2024, Deputy …”``)."""
    head = text.split()
    quoted = " ".join(head[:words]).rstrip(",;:") + ("…" if len(head) > words else "")
    return f"Untitled, opens “{quoted}”"


# --- furniture shared by files -----------------------------------------------------------------


def file_line_keys(text: str) -> set[str]:
    """The keys (:func:`line_key`) of a file's short lines (the runs of :func:`segment`), the
    ones compared across files."""
    return {line_key(t) for _, _, t in segment(split_lines(text)) if len(t) <= SHARED_MAX_CHARS}


@dataclass(frozen=True, slots=True)
class SharedLines:
    """The short lines (:func:`file_line_keys`) found in two files of a corpus or more:
    ``counts`` {line key: number of files}; ``files``: the corpus's files (files of the same
    text counted once)."""

    counts: Mapping[str, int]
    files: int

    def furniture(self, key: str, sentence: bool) -> bool:
        """Site furniture: a line in :data:`SHARED_MIN_FILES` files or more, or in most files
        (at least two). A sentence (it ends in a full stop) must be in both: two articles may
        quote the same sentence, only boilerplate stands in most of the files."""
        n = self.counts.get(key, 0)
        most = n >= 2 and 2 * n > self.files
        if sentence:
            return most and n >= SHARED_MIN_FILES
        return most or n >= SHARED_MIN_FILES


NO_SHARED_LINES = SharedLines({}, 0)


def shared_lines(files: Iterable[tuple[str, set[str]]]) -> SharedLines:
    """:class:`SharedLines` of a corpus; ``files``: (a digest of the file's text,
    :func:`file_line_keys`) of each file."""
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    for digest, keys in files:
        if digest not in seen:
            seen.add(digest)
            counts.update(keys)
    return SharedLines({key: n for key, n in counts.items() if n >= 2}, len(seen))


def text_digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


# --- loading a folder --------------------------------------------------------------------------


ARTICLE_SUFFIX = ".txt"  # plain-text articles; the other formats are read by bot/formats
SOURCES_FILE = "sources.csv"  # optional: file name, source URL (for files without their own)


def article_file_names(folder: Path) -> list[str]:
    """Names of the article files in ``folder`` (every supported format), sorted (as their
    paths sort).

    One ``scandir`` and a sort of strings: at 100k files, sorting ``Path`` objects took 2.6 s."""
    with os.scandir(folder) as entries:
        names = [e.name for e in entries]
    return sorted(n for n in names if _suffix(n).lower() in SUPPORTED_SUFFIXES)


def _suffix(name: str) -> str:
    """``Path(name).suffix``."""
    i = name.rfind(".")
    return name[i:] if 0 < i < len(name) - 1 else ""


def is_plain_text(name: str) -> bool:
    return _suffix(name).lower() == ARTICLE_SUFFIX


def list_article_files(folder: Path) -> list[Path]:
    return [folder / n for n in article_file_names(folder)]


def check_folder(folder: Path) -> None:
    """Raise CorpusError unless ``folder`` is a folder (saying what it is instead)."""
    if folder.is_dir():
        return
    if folder.exists():
        raise CorpusError(f"corpus path is not a folder: {folder}")
    raise CorpusError(f"corpus folder not found: {folder}")


def read_sources(folder: Path) -> dict[str, str]:
    """``sources.csv`` of ``folder``: {file name: http(s) URL}; rows that are not a file name
    and a URL (a header, a comment) are skipped; {} without the file."""
    import csv

    from .formats import clean_url

    try:
        text = (folder / SOURCES_FILE).read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return {}
    out: dict[str, str] = {}
    for row in csv.reader(text.splitlines()):
        if len(row) >= 2 and not row[0].lstrip().startswith("#"):
            url = clean_url(row[1])
            if url and row[0].strip():
                out.setdefault(row[0].strip(), url)
    return out


def load_article(
    path: Path,
    folder: Path,
    max_bytes: int,
    shared: SharedLines | None = None,
    extracted: ExtractedTexts | None = None,
    sources: Mapping[str, str] | None = None,
) -> Article | CorpusProblem:
    """One article file, parsed; or the reason it cannot be used. ``shared``: the corpus's
    :func:`shared_lines` (plain-text files); ``extracted``: where the extracted texts of the
    other formats are kept; ``sources``: the folder's ``sources.csv``."""
    if is_plain_text(path.name):
        text, reason = read_article_file(path, folder, max_bytes)
        if text is None:
            return CorpusProblem(path.name, reason or "unusable")
        got = _article_or_problem(path.name, text, shared)
    else:
        try:
            doc = (extracted or ExtractedTexts(None)).document(path, folder, max_bytes)
        except UnreadableDocument as exc:
            return CorpusProblem(path.name, exc.reason)
        got = document_article(doc)
        if not got.passages:
            got = CorpusProblem(path.name, "no article text found")
    if isinstance(got, Article) and got.source is None and sources:
        got.source = sources.get(path.name)
    return got


def _article_or_problem(
    name: str, text: str, shared: SharedLines | None
) -> Article | CorpusProblem:
    art = parse_article(name, text, shared)
    if not art.passages:
        return CorpusProblem(name, "no article text found (only furniture)")
    return art


def shared_lines_of_files(
    paths: Iterable[Path], folder: Path, max_bytes: int = MAX_FILE_BYTES_DEFAULT
) -> SharedLines:
    """:func:`shared_lines` of the usable article files among ``paths``."""
    return shared_lines(file_keys(paths, folder, max_bytes))


def file_keys(paths: Iterable[Path], folder: Path, max_bytes: int) -> list[tuple[str, set[str]]]:
    """(digest, :func:`file_line_keys`) of each usable plain-text article file among
    ``paths`` (the other formats' texts hold no site furniture: their readers leave it out)."""
    out = []
    for path in paths:
        if not is_plain_text(path.name):
            continue
        text, _ = read_article_file(path, folder, max_bytes)
        if text is not None:
            out.append((text_digest(text), file_line_keys(text)))
    return out


def read_corpus(
    folder: str | os.PathLike[str],
    max_bytes: int = MAX_FILE_BYTES_DEFAULT,
    extracted: ExtractedTexts | None = None,
) -> list[Article | CorpusProblem]:
    """Every article file of ``folder`` in name order: parsed (the lines a plain-text file
    shares with other files set aside as furniture), or the reason it cannot be used."""
    root = Path(folder)
    check_folder(root)
    read = [
        (path, *read_article_file(path, root, max_bytes))
        if is_plain_text(path.name)
        else (path, None, None)
        for path in list_article_files(root)
    ]
    shared = shared_lines((text_digest(t), file_line_keys(t)) for _, t, _ in read if t is not None)
    sources = read_sources(root)
    out: list[Article | CorpusProblem] = []
    for path, text, reason in read:
        if not is_plain_text(path.name):
            out.append(load_article(path, root, max_bytes, shared, extracted, sources))
        elif text is None:
            out.append(CorpusProblem(path.name, reason or "unusable"))
        else:
            got = _article_or_problem(path.name, text, shared)
            if isinstance(got, Article) and got.source is None:
                got.source = sources.get(path.name)
            out.append(got)
    return out


def load_corpus(folder: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES_DEFAULT) -> Corpus:
    """Read every article in ``folder``. Unusable files are skipped with a warning."""
    root = Path(folder)
    articles: list[Article] = []
    problems: list[CorpusProblem] = []
    for got in read_corpus(root, max_bytes):
        if isinstance(got, CorpusProblem):
            problems.append(got)
            log.warning("skipping corpus file %s: %s", got.file, got.reason)
        else:
            articles.append(got)
    if not articles:
        detail = f" ({len(problems)} unusable file(s))" if problems else ""
        raise CorpusError(f"no usable article in corpus folder {root}{detail}")
    return Corpus(folder=root, articles=articles, problems=problems)
