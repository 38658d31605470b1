"""Word (``.docx``) -> Document, through python-docx.

The body is read in order: paragraphs, headings (styles "Title", "Heading 1".."Heading 9", or an
outline level), list paragraphs as items, and tables as rows (cells joined by `` | ``, a merged
cell once). The title is the document's Title property, else its first "Title" or level-1
paragraph; the source is a custom property named Source/URL, else the Identifier property,
else a URL in the Subject, Keywords or Comments; the date is the Created property.
"""

from __future__ import annotations

import io
import re
import zipfile

from ..documents import ITEM, PARAGRAPH, ROW, Document, UnreadableDocument
from . import TextBuilder, clean_url, find_url, one_line

MAX_UNPACKED = 200 * 1024 * 1024  # a .docx whose parts unpack larger than this is refused
_HEADING_STYLE = re.compile(r"^(?:heading|überschrift|titre|título|titolo)\s*(\d)$", re.I)
_CUSTOM_PROPS = "docProps/custom.xml"
SOURCE_PROPERTY_NAMES = ("source", "url", "source url", "link", "original")


def _custom_source(archive: zipfile.ZipFile) -> str | None:
    """A custom document property named Source (or URL, ...) holding an http(s) URL."""
    if _CUSTOM_PROPS not in archive.namelist():
        return None
    from lxml import etree

    try:
        root = etree.fromstring(archive.read(_CUSTOM_PROPS))
    except etree.XMLSyntaxError:
        return None
    for prop in root:
        if str(prop.get("name", "")).strip().lower() in SOURCE_PROPERTY_NAMES:
            url = clean_url(one_line(" ".join(prop.itertext())))
            if url:
                return url
    return None


def _heading_level(paragraph) -> int:
    """1-9 for a heading paragraph (0 for the Title style), -1 for any other."""
    style = paragraph.style
    while style is not None:
        name = str(style.name or "")
        if name.lower() in ("title",):
            return 0
        m = _HEADING_STYLE.match(name)
        if m:
            return int(m.group(1))
        style = style.base_style
    return -1


def _is_list(paragraph) -> bool:
    p_pr = paragraph._p.pPr
    if p_pr is not None and p_pr.numPr is not None:
        return True
    name = str(paragraph.style.name or "").lower() if paragraph.style is not None else ""
    return name.startswith("list")


def read(name: str, data: bytes) -> Document:
    if not data.startswith(b"PK"):
        kind = "a Windows program" if data[:2] == b"MZ" else "not a zip archive"
        raise UnreadableDocument(f"not really a Word file ({kind}; a .docx is a zip archive)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        unpacked = sum(i.file_size for i in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise UnreadableDocument(f"damaged Word file ({exc})") from None
    if "word/document.xml" not in names:
        raise UnreadableDocument("not really a Word file (no word/document.xml in the archive)")
    if unpacked > MAX_UNPACKED:
        raise UnreadableDocument(f"Word file unpacks too large ({unpacked} bytes)")
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
        props = document.core_properties
        out = TextBuilder()
        title = one_line(props.title) or None
        group = 0
        for item in document.iter_inner_content():
            if isinstance(item, Paragraph):
                text = item.text
                level = _heading_level(item)
                if level >= 0:
                    if title is None and level <= 1 and not out.blocks:
                        title = one_line(text) or None
                    out.heading(text, max(level, 1))
                    group = 0
                elif _is_list(item):
                    group = group or out.new_group()
                    out.add(ITEM, text, group=group)
                else:
                    group = 0
                    out.add(PARAGRAPH, text)
            elif isinstance(item, Table):
                group = 0
                g = out.new_group()
                for row in item.rows:
                    cells: list[str] = []
                    seen: set[int] = set()
                    for cell in row.cells:  # a merged cell is listed once for each grid column
                        if id(cell._tc) in seen:
                            continue
                        seen.add(id(cell._tc))
                        words = one_line(cell.text)
                        if words:
                            cells.append(words)
                    out.add(ROW, " | ".join(cells), group=g)
        source = (
            _custom_source(archive)
            or clean_url(props.identifier)
            or find_url(props.subject)
            or find_url(props.keywords)
            or find_url(props.comments)
        )
        created = props.created.date().isoformat() if props.created else None
    except UnreadableDocument:
        raise
    except Exception as exc:
        detail = one_line(str(exc))[:80] or exc.__class__.__name__
        raise UnreadableDocument(f"damaged Word file ({detail})") from None
    return out.document(name, "docx", title=title, source=source, date=created)
