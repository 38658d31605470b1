"""PDF -> Document, from the text layer through pypdf.

pypdf hands over each run of text with its position, font and size (``visitor_text``), in the
order the authoring program wrote them, which for word processors, LaTeX and report generators
is reading order, column by column. From those runs this module rebuilds:

- lines (runs at one height), then paragraphs: a new one after a vertical gap wider than the
  usual line pitch, after a short line that ends a sentence, at an indented first line, or at a
  change of font size; a paragraph runs on across a column or page break;
- words broken at line ends: ``de-`` + ``pendable`` is joined (``dependable``) unless the
  hyphen is a real one (``heavy-lift``: the document or general English knows the hyphenated
  form, not the joined one);
- headings: lines in a larger font than the body text, or bold, short and without a full stop;
- the page each paragraph starts on (its locator, ``pages 1–2`` when it runs on);
- running heads and feet (a line repeated on two pages or more, digits aside, at the top or
  the bottom of the page) and page numbers are left out.

A PDF without a text layer (scanned pages: images only) is reported as such, never read as
empty; a file that is not a PDF, a damaged or truncated one and an encrypted one each get their
reason.
"""

from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from ..documents import HEADING, PARAGRAPH, Document, Locator, UnreadableDocument
from . import TextBuilder, clean_url, find_url, one_line

_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st"})
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?$", re.I)
_SENTENCE_END = re.compile(r"""[.!?:…]["'”’)\]]*$""")
MARGIN_SHARE = 0.12  # running heads and feet stand in the top or bottom 12 % of the page
MAX_HEADING_WORDS = 14
# a broken word that starts with one of these is one word ("sub-" "station": substation)
_PREFIXES = frozenset(
    [
        "anti",
        "co",
        "counter",
        "de",
        "dis",
        "inter",
        "micro",
        "mid",
        "multi",
        "non",
        "over",
        "post",
        "pre",
        "re",
        "semi",
        "sub",
        "super",
        "trans",
        "un",
        "under",
    ]
)


@dataclass
class _Line:
    page: int
    x: float
    y: float
    size: float
    bold: bool
    text: str = ""
    end: float = 0.0  # estimated right end (x of the last run + its estimated width)
    height: float = 0.0  # the page's height


@dataclass
class _Para:
    kind: str
    lines: list[_Line] = field(default_factory=list)


def _runs_to_lines(page, number: int) -> list[_Line]:
    lines: list[_Line] = []
    height = float(page.mediabox.height or 842)

    def visit(text, cm, tm, font, size) -> None:
        if not text or not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = (abs(tm[0] * cm[0] + tm[1] * cm[2]) + abs(tm[2] * cm[1] + tm[3] * cm[3])) / 2
        size = round(float(size or 0) * (scale or 1), 1)
        name = str((font or {}).get("/BaseFont", ""))
        bold = bool(re.search(r"bold|black|heavy|semibold", name, re.I))
        text = text.translate(_LIGATURES).replace("\n", " ")
        last = lines[-1] if lines else None
        if last is not None and abs(last.y - y) <= 0.3 * max(size, 1) and x >= last.x - 1:
            gap = x - last.end
            # (a hyphen or a stop set as a run of its own belongs to the word before it)
            glued = text.strip() in ("-", "\u00ad", "\u2010") or text[:1] in ".,;:!?)]”’"
            if (
                gap > 0.15 * max(size, 1)
                and not glued
                and not last.text.endswith(" ")
                and text[:1] != " "
            ):
                last.text += " "
            last.text += text
            last.end = x + 0.5 * size * len(text)
            last.bold = last.bold and bold
            return
        lines.append(_Line(number, x, y, size, bold, text, x + 0.5 * size * len(text), height))

    page.extract_text(visitor_text=visit)
    for ln in lines:
        ln.text = one_line(ln.text)
    return [ln for ln in lines if ln.text]


def _furniture(lines: list[_Line]) -> set[int]:
    """Indexes of running heads and feet, and of page numbers, in ``lines``."""

    def key(ln: _Line) -> str:
        return re.sub(r"\d+", "#", ln.text.casefold())

    def in_margin(ln: _Line) -> bool:
        return ln.y > (1 - MARGIN_SHARE) * ln.height or ln.y < MARGIN_SHARE * ln.height

    on_pages: dict[str, set[int]] = {}
    for ln in lines:
        if in_margin(ln):
            on_pages.setdefault(key(ln), set()).add(ln.page)
    repeated = {k for k, p in on_pages.items() if len(p) >= 2}
    return {
        i
        for i, ln in enumerate(lines)
        if in_margin(ln) and (key(ln) in repeated or _PAGE_NUMBER.match(ln.text))
    }


def _body_size(lines: list[_Line]) -> float:
    sizes: Counter[float] = Counter()
    for ln in lines:
        sizes[ln.size] += len(ln.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _is_heading(ln: _Line, body: float) -> bool:
    words = len(ln.text.split())
    if words > MAX_HEADING_WORDS or ln.text.endswith("."):
        return False
    return ln.size >= body * 1.12 or (ln.bold and ln.size >= body * 0.95 and words <= 10)


def _paragraphs(lines: list[_Line]) -> list[_Para]:
    body = _body_size(lines)
    body_lines = [ln for ln in lines if abs(ln.size - body) < 0.5]
    full = (
        statistics.quantiles([len(ln.text) for ln in body_lines], n=10)[7]
        if len(body_lines) >= 10
        else max((len(ln.text) for ln in body_lines), default=0)
    )
    pitches = [
        a.y - b.y
        for a, b in zip(body_lines, body_lines[1:], strict=False)
        if a.page == b.page and 0 < a.y - b.y < 3 * body and abs(a.x - b.x) < body
    ]
    pitch = statistics.median(pitches) if pitches else 1.2 * body
    left: dict[tuple[int, int], float] = {}  # (page, column bucket) -> left edge of the text
    for ln in body_lines:
        k = (ln.page, int(ln.x // 100))
        left[k] = min(left.get(k, ln.x), ln.x)
    paras: list[_Para] = []
    for ln in lines:
        kind = HEADING if _is_heading(ln, body) else PARAGRAPH
        cur = paras[-1] if paras else None
        if cur is None or cur.kind != kind:
            paras.append(_Para(kind, [ln]))
            continue
        prev = cur.lines[-1]
        if kind == HEADING:
            same = (
                prev.page == ln.page
                and abs(prev.size - ln.size) < 0.5
                and (0 < prev.y - ln.y < 2 * ln.size)
            )
        else:
            down = prev.page == ln.page and prev.y > ln.y and abs(prev.x - ln.x) < 3 * body
            gap = down and prev.y - ln.y > 1.4 * pitch
            ended = bool(_SENTENCE_END.search(prev.text)) and len(prev.text) < 0.85 * full
            indent = ln.x - left.get((ln.page, int(ln.x // 100)), ln.x) > 0.8 * body
            same = abs(prev.size - ln.size) < 0.5 and not gap and not ended and not indent
        if same:
            cur.lines.append(ln)
        else:
            paras.append(_Para(kind, [ln]))
    return paras


def _known(word: str) -> bool:
    """A word of general English (``lexicon``'s frequency table)."""
    from ..lexicon import RARE_ZIPF, zipf

    return zipf(word.casefold()) > RARE_ZIPF


def _join(lines: list[str], vocabulary: Counter[str]) -> str:
    """The lines of one paragraph as one line: a word broken at a line end joined again."""
    out = lines[0]
    for nxt in lines[1:]:
        if out.endswith("\u00ad"):
            out = out[:-1] + nxt
            continue
        m = re.search(r"(\w+)-$", out)
        n = re.match(r"(\w+)", nxt)
        if m and n and nxt[:1].islower():
            head, tail = m.group(1), n.group(1)
            joined, kept = (head + tail).casefold(), f"{head}-{tail}".casefold()
            # a real hyphen when the document has the hyphenated form more often, or when the
            # joined word is unknown and both parts are words ("heavy-lift"; not "por-poises")
            if vocabulary[kept] > vocabulary[joined] or (
                not vocabulary[joined]
                and not _known(joined)
                and _known(tail)
                and len(tail) > 2
                and (_known(head) or len(head) >= 6)
                and head.casefold() not in _PREFIXES
            ):
                out += nxt  # a real hyphen: "heavy-" "lift"
            else:
                out = out[:-1] + nxt
            continue
        out += " " + nxt
    return out


def _pdf_date(raw: object) -> str | None:
    m = re.match(r"D:(\d{4})(\d{2})?(\d{2})?", str(raw or ""))
    if not m:
        return None
    return "-".join(p for p in m.groups() if p)


def _source(reader) -> str | None:
    info = reader.metadata or {}
    for key in ("/Source", "/URL", "/Url", "/SourceURL", "/source", "/url"):
        url = clean_url(str(info.get(key) or ""))
        if url:
            return url
    try:
        xmp = reader.xmp_metadata
    except Exception:  # a malformed XMP packet: no source from it
        xmp = None
    if xmp is not None:
        for values in (xmp.dc_source, xmp.dc_identifier):
            url = clean_url(str(values or ""))
            if url:
                return url
    for key in ("/Subject", "/Keywords"):
        url = find_url(str(info.get(key) or ""))
        if url:
            return url
    return None


def _has_images(page) -> bool:
    try:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        return any(xobjects[k].get_object().get("/Subtype") == "/Image" for k in xobjects)
    except Exception:
        return False


def read(name: str, data: bytes) -> Document:
    start = data[:1024].lstrip()
    if not start.startswith(b"%PDF-"):
        kind = "a Windows program" if data[:2] == b"MZ" else "something else"
        raise UnreadableDocument(f"not really a PDF (the file is {kind}: no %PDF- header)")
    if b"%%EOF" not in data[-4096:]:
        raise UnreadableDocument("damaged PDF (truncated: no end-of-file marker)")
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocument("encrypted PDF (it needs a password)")
        pages = list(reader.pages)
        lines = [ln for n, page in enumerate(pages, 1) for ln in _runs_to_lines(page, n)]
    except UnreadableDocument:
        raise
    except Exception as exc:
        detail = one_line(str(exc))[:80] or exc.__class__.__name__
        raise UnreadableDocument(f"damaged PDF ({detail})") from None
    if not lines:
        if any(_has_images(p) for p in pages):
            raise UnreadableDocument(
                "a scanned PDF without a text layer (only images; run OCR on it first)"
            )
        raise UnreadableDocument("no text found in the PDF")
    drop = _furniture(lines)
    lines = [ln for i, ln in enumerate(lines) if i not in drop]
    paras = _paragraphs(lines)
    vocabulary = Counter(w.casefold() for ln in lines for w in re.findall(r"\w+(?:-\w+)*", ln.text))
    info = reader.metadata or {}
    title = one_line(str(info.get("/Title") or "")) or None
    if title and re.match(r"(?i)untitled|microsoft word|document\d*$", title):
        title = None
    out = TextBuilder()
    for para in paras:
        first, last = para.lines[0].page, para.lines[-1].page
        out.locate(Locator("page", str(first) if first == last else f"{first}–{last}"))
        text = _join([ln.text for ln in para.lines], vocabulary)
        if title is None and para.kind == HEADING and first == 1:
            title = text
        out.add(para.kind, text, level=1 if para.kind == HEADING else 0)
    return out.document(
        name, "pdf", title=title, source=_source(reader), date=_pdf_date(info.get("/CreationDate"))
    )
