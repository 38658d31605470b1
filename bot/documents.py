"""Article files of every supported format -> :class:`Document`: the text the bot quotes.

``read_document(path)`` reads one file and returns its *extracted text* (the only text that is
ever quoted: citations count its lines, quotes are verified against it), the article's title,
source URL and date as the file itself states them, its format, and locators (the PDF page or
the section heading each line stands under). A file that cannot be read raises
:class:`UnreadableDocument` with a one-line human reason ("a scanned PDF without a text layer",
"not really a Word file: ...").

Layouts of the extracted text:

- ``.txt``: the file's text itself, unchanged (the plain-text reader in ``corpus.py`` finds its
  title, passages and furniture, as it always has); no blocks, no locators.
- every other format: one block a line (a heading, a paragraph, a list item, a table row with
  its cells joined by `` | ``), blocks separated by a blank line; markup is never in the text.
  ``Document.blocks`` says what each line is, so the passages follow the document's structure
  instead of guessing it.

To check a file before adding it to the corpus (the chat upload): ``read_document(path)``
raises the reason it cannot be used; ``corpus.document_article(doc)`` gives its title, source
and passages. A file is an article by its suffix (:data:`SUPPORTED_SUFFIXES`): a partial
download kept in the corpus folder must carry another one (``.part``).

Libraries (imported only when a file of their format is read): markdown-it-py for Markdown,
trafilatura for web pages, pypdf for PDF, python-docx for Word.
"""

from __future__ import annotations

import os
import stat
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILE_BYTES_DEFAULT = 5 * 1024 * 1024
# PDF and Word files and saved web pages hold images, fonts, scripts and markup besides their
# text: they may be this large (the Bot API's download limit); the text extracted from them is
# held to ``max_bytes`` like a text file
MAX_CONTAINER_BYTES = 20 * 1024 * 1024
CONTAINERS = frozenset({"pdf", "docx", "html"})

# suffix -> format name
FORMATS = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
SUPPORTED_SUFFIXES = frozenset(FORMATS)

# kinds of Block
HEADING, PARAGRAPH, ITEM, ROW = "heading", "paragraph", "item", "row"


class UnreadableDocument(Exception):
    """A file that yields no article text; ``reason`` is one line for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Locator:
    """Where a line of the extracted text stands in the original: ``kind`` "page" (a PDF page
    number, as a string) or "section" (the heading the line stands under)."""

    kind: str
    label: str

    def __str__(self) -> str:
        if self.kind == "page":
            return f"pages {self.label}" if "–" in self.label else f"page {self.label}"
        return f"section “{self.label}”"


@dataclass(frozen=True, slots=True)
class Block:
    """One line of a structured document's extracted text (1-based ``line``) and what it is:
    :data:`HEADING` (``level`` 1-6), :data:`PARAGRAPH`, :data:`ITEM` (of a list), :data:`ROW`
    (of a table). ``group`` numbers the list or table an item or row belongs to."""

    line: int
    kind: str
    level: int = 0
    group: int = 0


@dataclass(frozen=True, slots=True)
class Document:
    """One article file, read. ``text`` is what is quoted and cited (lines split as
    ``corpus.split_lines`` splits them); ``locators`` are (first line, locator) in line order,
    each holding until the next."""

    file: str
    format: str
    text: str
    title: str | None = None
    source: str | None = None
    date: str | None = None
    blocks: tuple[Block, ...] = ()
    locators: tuple[tuple[int, Locator], ...] = ()
    _starts: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", tuple(line for line, _ in self.locators))

    def locator(self, line: int) -> Locator | None:
        """The page or section line ``line`` (1-based) of the text stands in, if known."""
        k = bisect_right(self._starts, line) - 1
        return self.locators[k][1] if k >= 0 else None


def size_limit(fmt: str | None, max_bytes: int) -> int:
    """The largest file of format ``fmt`` that is read, given the text limit ``max_bytes``."""
    return max(max_bytes, MAX_CONTAINER_BYTES) if fmt in CONTAINERS else max_bytes


def format_of(name: str) -> str | None:
    """The format of a file name by its suffix (case ignored), None when unsupported."""
    i = name.rfind(".")
    return FORMATS.get(name[i:].lower()) if 0 < i < len(name) - 1 else None


# --- reading a file's bytes safely ------------------------------------------------------------


def _regular_file_size(path: Path) -> int | None:
    """The size of a regular file that is not a symlink (one ``lstat``), else None."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def read_file_bytes(
    path: Path, folder: Path, max_bytes: int = MAX_FILE_BYTES_DEFAULT
) -> tuple[bytes | None, str | None]:
    """(bytes, None) for a readable file of ``folder``, else (None, reason): a name that is not
    UTF-8, a symlink out of the folder or in a loop, not a regular file, empty, larger than
    ``max_bytes``, unreadable."""
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in the name (surrogateescape)
        return None, "file name is not UTF-8"
    try:
        size = _regular_file_size(path)
        if size is None:  # not a plain file: a symlink (allowed inside the folder), or worse
            if path.is_symlink():
                try:
                    target = path.resolve()
                except RuntimeError:  # Python 3.11 raises this, not OSError, on a symlink loop
                    return None, "symlink loop"
                if not target.is_relative_to(folder.resolve()):
                    return None, "symlink points outside the corpus folder"
            if not path.is_file():
                return None, "not a regular file"
            size = path.stat().st_size
        if size == 0:
            return None, "empty file"
        if size > max_bytes:
            return None, f"larger than the limit ({size} > {max_bytes} bytes)"
        with path.open("rb") as fh:
            data = fh.read(size + 1)
            if len(data) > size:  # the file grew meanwhile: read on, still capped
                data += fh.read(max_bytes - size)
        if len(data) > max_bytes:
            return None, f"larger than the limit (> {max_bytes} bytes)"
    except OSError as exc:
        return None, f"unreadable ({exc.strerror or exc.__class__.__name__})"
    return data, None


def article_text(data: bytes) -> tuple[str | None, str | None]:
    """(text, None) for the bytes of a usable plain-text article, else (None, reason)."""
    if b"\x00" in data:
        return None, "binary file (contains NUL bytes)"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 (bad byte at offset {exc.start})"
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        return None, "empty file (only whitespace)"
    return text, None


def read_article_file(
    path: Path, folder: Path, max_bytes: int = MAX_FILE_BYTES_DEFAULT
) -> tuple[str | None, str | None]:
    """(text, None) for a usable plain-text article file, else (None, reason)."""
    data, reason = read_file_bytes(path, folder, max_bytes)
    if data is None:
        return None, reason
    return article_text(data)


# --- the one entry point ----------------------------------------------------------------------


def read_document(
    path: Path, max_bytes: int = MAX_FILE_BYTES_DEFAULT, folder: Path | None = None
) -> Document:
    """The :class:`Document` of one article file, or :class:`UnreadableDocument`.

    ``max_bytes`` caps a text file (``.txt``, ``.md``) and the text extracted from a PDF, a
    Word file or a web page (whose own size is capped at the larger of ``max_bytes`` and
    :data:`MAX_CONTAINER_BYTES`: :func:`size_limit`). ``folder``: the corpus folder a symlink
    may point within (default: the file's own folder)."""
    path = Path(path)
    fmt = format_of(path.name)
    if fmt is None:
        suffix = path.suffix or "(none)"
        raise UnreadableDocument(
            f"unsupported file type {suffix}: articles are "
            + ", ".join(sorted(SUPPORTED_SUFFIXES))
            + " files"
        )
    limit = size_limit(fmt, max_bytes)
    data, reason = read_file_bytes(path, folder if folder is not None else path.parent, limit)
    if data is None:
        raise UnreadableDocument(reason or "unreadable")
    return document_from_bytes(path.name, data, max_bytes)


def document_from_bytes(
    name: str, data: bytes, max_bytes: int = MAX_FILE_BYTES_DEFAULT
) -> Document:
    """:func:`read_document` of bytes already read (``name`` gives the format)."""
    fmt = format_of(name)
    if fmt == "txt":
        text, reason = article_text(data)
        if text is None:
            raise UnreadableDocument(reason or "unreadable")
        return Document(name, "txt", text)
    from . import formats  # (the readers and their libraries: only when needed)

    doc = formats.READERS[fmt](name, data)
    size = len(doc.text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise UnreadableDocument(
            f"extracted text larger than the limit ({size} > {max_bytes} bytes)"
        )
    if not doc.text.strip():
        raise UnreadableDocument("no text found in the file")
    return doc
