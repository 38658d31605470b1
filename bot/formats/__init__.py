"""One reader per structured format: bytes in, :class:`bot.documents.Document` out.

Each reader turns its format into blocks (headings, paragraphs, list items, table rows) through
:class:`TextBuilder`, which lays them out one a line with a blank line between them and keeps
the page or section each line stands in. A reader raises
:class:`bot.documents.UnreadableDocument` with a one-line reason for a file it cannot read.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable

from ..documents import HEADING, Block, Document, Locator, UnreadableDocument

# format -> module of this package with ``read(name, data) -> Document``
_MODULES = {"md": "markdown", "html": "web", "pdf": "pdf", "docx": "word"}


class _Readers(dict):
    """format -> reader, each module imported when its format is first read."""

    def __missing__(self, fmt: str) -> Callable[[str, bytes], Document]:
        if fmt not in _MODULES:
            raise UnreadableDocument(f"no reader for {fmt} files")
        reader = importlib.import_module(f"{__name__}.{_MODULES[fmt]}").read
        self[fmt] = reader
        return reader


READERS: dict[str, Callable[[str, bytes], Document]] = _Readers()


def one_line(text: str | None) -> str:
    """Text with every run of whitespace (line breaks, tabs, no-break spaces) as one space."""
    return " ".join(text.split()) if text else ""


_URL = re.compile(r"https?://[^\s<>\"'`]+", re.I)
MAX_URL_CHARS = 2000


def clean_url(value: str | None) -> str | None:
    """``value`` when it is an http(s) URL (the only links a citation makes), else None."""
    if not value:
        return None
    value = value.strip().strip("<>")
    m = _URL.fullmatch(value)
    return value if m and len(value) <= MAX_URL_CHARS else None


def find_url(value: str | None) -> str | None:
    """The first http(s) URL within ``value`` (a PDF's subject, a Word file's comments)."""
    m = _URL.search(value or "")
    return clean_url(m.group(0).rstrip(".,;:)]")) if m else None


class TextBuilder:
    """Blocks in document order -> the extracted text (one block a line, blank lines between),
    its :class:`Block` list and its locators."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.blocks: list[Block] = []
        self.locators: list[tuple[int, Locator]] = []
        self._groups = 0

    def new_group(self) -> int:
        """A number for the next list or table."""
        self._groups += 1
        return self._groups

    def locate(self, locator: Locator) -> None:
        """The lines added from now on stand in ``locator`` (a page, a section)."""
        line = len(self.lines) + (2 if self.lines else 1)  # where the next block will stand
        if self.locators and self.locators[-1][0] == line:
            self.locators[-1] = (line, locator)
        elif not self.locators or self.locators[-1][1] != locator:
            self.locators.append((line, locator))

    def add(self, kind: str, text: str, level: int = 0, group: int = 0) -> bool:
        """Add a block (whitespace folded); False when it holds no text."""
        text = one_line(text)
        if not text:
            return False
        if self.lines:
            self.lines.append("")
        self.lines.append(text)
        self.blocks.append(Block(len(self.lines), kind, level, group))
        return True

    def heading(self, text: str, level: int, section: bool = True) -> bool:
        """A heading; with ``section``, the lines from it on stand in its section."""
        text = one_line(text)
        if text and section:
            self.locate(Locator("section", text))
        return self.add(HEADING, text, level)

    def document(
        self,
        name: str,
        fmt: str,
        title: str | None = None,
        source: str | None = None,
        date: str | None = None,
    ) -> Document:
        # a locator with no line after it is dropped, and so is the title's own heading at the
        # top (the title is no section of the article)
        n, title = len(self.lines), one_line(title)
        locators = tuple(
            (line, loc)
            for line, loc in self.locators
            if line <= n and not (line == 1 and loc.kind == "section" and loc.label == title)
        )
        text = "\n".join(self.lines) + ("\n" if self.lines else "")
        return Document(
            name,
            fmt,
            text,
            title=title or None,
            source=source,
            date=date,
            blocks=tuple(self.blocks),
            locators=locators,
        )
