"""The extracted text of each article file that is not plain text, kept beside the index.

For ``report.pdf`` the folder (``INDEX_DIR/index-*/extracted/``) holds ``report.pdf.txt``, the
extracted text exactly as it is cited (open it to check a citation's lines), and
``report.pdf.json``: the SHA-256 of the source file it was extracted from, the SHA-256 of the
text, the readers' version, and the title, source, date, blocks and locators. Both are written
atomically, the JSON last: a text without its JSON is never used.

:meth:`ExtractedTexts.document` returns the stored document while the source file's checksum
and the readers' version match, else extracts the file again (and stores it). Quotes are
verified against this text (``engine.quote_in_file``), so what is checked is always what was
extracted from the file as it is now. Without a folder (an engine built in memory) the texts
are extracted and not stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from functools import cache
from pathlib import Path

from .documents import (
    MAX_FILE_BYTES_DEFAULT,
    Block,
    Document,
    Locator,
    UnreadableDocument,
    document_from_bytes,
    format_of,
    read_file_bytes,
    size_limit,
)

log = logging.getLogger(__name__)

EXTRACTED_FOLDER = "extracted"
# the libraries whose output the stored texts are (their versions are part of readers_version)
LIBRARIES = ("markdown-it-py", "trafilatura", "pypdf", "python-docx", "lxml")


@cache
def readers_version() -> str:
    """The readers' code and their libraries' versions: stored texts of another are re-read."""
    from importlib import metadata

    h = hashlib.sha1()
    here = Path(__file__).parent
    for path in [here / "documents.py", *sorted((here / "formats").glob("*.py"))]:
        h.update(path.read_bytes())
    for lib in LIBRARIES:
        try:
            h.update(f"{lib}={metadata.version(lib)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{lib}=none".encode())
    return h.hexdigest()[:16]


def _to_json(doc: Document, source_sha: str) -> dict:
    return {
        "source_sha256": source_sha,
        "text_sha256": hashlib.sha256(doc.text.encode("utf-8", "surrogatepass")).hexdigest(),
        "readers": readers_version(),
        "format": doc.format,
        "title": doc.title,
        "source": doc.source,
        "date": doc.date,
        "blocks": [[b.line, b.kind, b.level, b.group] for b in doc.blocks],
        "locators": [[line, loc.kind, loc.label] for line, loc in doc.locators],
    }


def _from_json(name: str, meta: dict, text: str) -> Document:
    return Document(
        name,
        str(meta["format"]),
        text,
        title=meta.get("title"),
        source=meta.get("source"),
        date=meta.get("date"),
        blocks=tuple(Block(int(a), str(k), int(lv), int(g)) for a, k, lv, g in meta["blocks"]),
        locators=tuple((int(line), Locator(str(k), str(lb))) for line, k, lb in meta["locators"]),
    )


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class ExtractedTexts:
    """Extracted texts of one corpus, stored in ``folder`` (None: not stored)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def document(
        self, path: Path, corpus: Path, max_bytes: int = MAX_FILE_BYTES_DEFAULT
    ) -> Document:
        """The document of article file ``path`` (of the folder ``corpus``), from the store
        when it was extracted from these very bytes; :class:`UnreadableDocument` if it cannot
        be read."""
        fmt = format_of(path.name)
        data, reason = read_file_bytes(path, corpus, size_limit(fmt, max_bytes))
        if data is None:
            raise UnreadableDocument(reason or "unreadable")
        if fmt in (None, "txt"):
            return document_from_bytes(path.name, data, max_bytes)
        sha = hashlib.sha256(data).hexdigest()
        stored = self._stored(path.name, sha)
        if stored is not None:
            return stored
        doc = document_from_bytes(path.name, data, max_bytes)
        self._store(doc, sha)
        return doc

    def _stored(self, name: str, sha: str) -> Document | None:
        if self.folder is None:
            return None
        try:
            meta = json.loads((self.folder / f"{name}.json").read_text("utf-8"))
            if meta.get("source_sha256") != sha or meta.get("readers") != readers_version():
                return None
            raw = (self.folder / f"{name}.txt").read_bytes()
            if hashlib.sha256(raw).hexdigest() != meta.get("text_sha256"):
                return None
            return _from_json(name, meta, raw.decode("utf-8", "surrogatepass"))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _store(self, doc: Document, sha: str) -> None:
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            text = doc.text.encode("utf-8", "surrogatepass")
            _write_atomic(self.folder / f"{doc.file}.txt", text)
            meta = json.dumps(_to_json(doc, sha), ensure_ascii=False)
            _write_atomic(self.folder / f"{doc.file}.json", meta.encode("utf-8"))
        except OSError as exc:
            log.warning("could not store the extracted text of %s (%s)", doc.file, exc)

    def prune(self, keep: set[str]) -> None:
        """Remove the stored texts of files no longer in the corpus (``keep``: their names)."""
        if self.folder is None or not self.folder.is_dir():
            return
        for p in self.folder.iterdir():
            base = p.name.removesuffix(".json").removesuffix(".txt")
            if p.suffix in (".json", ".txt") and base not in keep and p.is_file():
                p.unlink(missing_ok=True)
