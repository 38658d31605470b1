"""Articles that come from outside the corpus folder (a file sent to the bot, a URL): checked,
then saved into CORPUS_DIR; and articles taken out of it.

Contract: nothing of the corpus is lost or half-written.

- A new file is staged in a hidden folder inside CORPUS_DIR (``.upload-*``: same file system, not
  an article file, so the index never reads it) and enters the folder only after it was read the
  way the index reads it (:func:`check_document`) and found to hold an article.
- It enters by one hard link under a name no file has yet (:func:`place`): the folder never
  holds a partial file, and no article is overwritten — a taken name gets ``-2``, ``-3``, ...
  and the caller says so.
- A removed article is moved, not deleted, to ``CORPUS_DIR/.removed/`` (:func:`take_out`), so a
  mistaken ``/remove`` can be undone by moving the file back.

Every refusal is an :class:`Refused` with a one-line reason for the person who sent the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from .corpus import Article, CorpusProblem, load_article
from .documents import SUPPORTED_SUFFIXES

# Bot API getFile: "bots can download files of up to 20MB in size"; a URL is held to the same.
# Beyond it the corpus reader's own limits (MAX_FILE_BYTES) apply, with its reason.
UPLOAD_LIMIT = 20 * 1024 * 1024
STAGING_PREFIX = ".upload-"
REMOVED_FOLDER = ".removed"
STALE_STAGING_SECONDS = 3600.0  # a staging folder this old was left by a stopped bot
MAX_STEM = 100  # characters of a file name before its suffix

# What each article format is called in a reason, the content types a server may send it
# as, and the content type that names a format when the URL does not.
FORMAT_NAMES = {
    ".txt": "a text file",
    ".md": "a Markdown file",
    ".html": "a web page",
    ".htm": "a web page",
    ".pdf": "a PDF",
    ".docx": "a Word (.docx) file",
}
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
CONTENT_TYPES: dict[str, frozenset[str]] = {
    ".txt": frozenset({"text/plain"}),
    ".md": frozenset({"text/markdown", "text/x-markdown", "text/plain"}),
    ".html": _HTML_TYPES,
    ".htm": _HTML_TYPES,
    ".pdf": frozenset({"application/pdf", "application/x-pdf"}),
    ".docx": frozenset({"application/vnd.openxmlformats-officedocument.wordprocessingml.document"}),
}
SUFFIX_OF_TYPE = {
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/x-markdown": ".md",
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "application/x-pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
# what servers send when they do not say: the file's first bytes decide
GENERIC_TYPES = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "application/download"}
)
# first bytes of files that are not articles, for the reason a file is refused
_SIGNATURES = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"\xcf\xfa\xed\xfe", "a macOS program"),
    (b"%PDF-", "a PDF"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (.doc, .xls, .ppt)"),
    (b"{\\rtf", "an RTF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)


class Refused(Exception):
    """A file was not added (or removed); ``str(exc)`` is the one-line reason."""


def readable_suffixes() -> tuple[str, ...]:
    """The suffixes of the files the corpus reader reads (lower case)."""
    return tuple(sorted(SUPPORTED_SUFFIXES))


def megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def suffix_of(name: str) -> str:
    """The lower-cased suffix of ``name`` ("" for none; ``.bashrc`` has none)."""
    i = name.rfind(".")
    return name[i:].lower() if 0 < i < len(name) - 1 else ""


def check_suffix(name: str) -> str:
    """The suffix of ``name`` when it is an article format the corpus reads, else Refused."""
    suffix = suffix_of(name)
    if suffix in readable_suffixes():
        return suffix
    kinds = ", ".join(readable_suffixes())
    what = f"{suffix} files" if suffix else "files without a suffix such as .pdf"
    raise Refused(f"I can't add {what}; I read {kinds}.")


def safe_name(raw: str | None, default_stem: str = "article", suffix: str = "") -> str:
    """A file name for ``raw`` that stays inside the folder: the last path part only, letters,
    digits, ``.``, ``-`` and ``_`` (spaces become ``_``), no leading dot, at most
    :data:`MAX_STEM` characters before its lower-cased suffix (``suffix`` when given)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    found = suffix_of(name)
    if not re.fullmatch(r"\.[a-z0-9]{1,5}", found):  # "india.us-defense" has no suffix
        found = ""
    stem = name[: len(name) - len(found)] if found else name
    suffix = (suffix or found).lower()
    stem = re.sub(r"\s+", "_", stem.strip())
    stem = re.sub(r"[^\w.-]+", "", stem).strip("._-")[:MAX_STEM].strip("._-")
    return (stem or default_stem) + suffix


def what_it_is(head: bytes) -> str | None:
    """What a file that starts with ``head`` is, when its first bytes say (None: they don't)."""
    for magic, kind in _SIGNATURES:
        if head.startswith(magic):
            return kind
    return None


def content_mismatch(head: bytes, suffix: str) -> str | None:
    """Why a file starting with ``head`` is not the format ``suffix`` names (None: it may be)."""
    kind = what_it_is(head)
    if suffix == ".pdf":
        ok = b"%PDF-" in head[:1024]  # readers accept a few bytes of junk before the header
    elif suffix == ".docx":
        ok = head.startswith(b"PK\x03\x04")  # a Word file is a ZIP archive
    else:  # a text format
        ok = kind is None and b"\x00" not in head
    if ok:
        return None
    expected = FORMAT_NAMES.get(suffix, f"a {suffix} file")
    if kind is not None:
        return f"it is not {expected} but {kind}"
    return f"it is not {expected} (its first bytes are not one)"


def type_mismatch(content_type: str, suffix: str) -> str | None:
    """Why a server's ``content_type`` is not the format ``suffix`` names (None: it agrees, or
    says nothing specific and the first bytes decide)."""
    if content_type in GENERIC_TYPES or content_type in CONTENT_TYPES.get(suffix, ()):
        return None
    expected = FORMAT_NAMES.get(suffix, f"a {suffix} file")
    if content_type in _HTML_TYPES:
        return f"the server sent a web page ({content_type}), not {expected}"
    return f"the server sent {content_type}, not {expected}"


def check_document(path: Path, max_bytes: int) -> Article:
    """The article in ``path`` as the index reads it, or Refused with the reader's reason."""
    got = load_article(path, path.parent, max_bytes)
    if isinstance(got, CorpusProblem):
        raise Refused(f"I could not read {path.name}: {got.reason}.")
    return got


@contextlib.contextmanager
def staging(folder: Path) -> Iterator[Path]:
    """A fresh hidden folder inside ``folder`` for one file on its way in, removed afterwards
    (with any left by a bot that stopped in the middle of an upload)."""
    _sweep_stale(folder)
    try:
        where = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
    except OSError as exc:
        raise Refused(f"I can't write to the corpus folder ({exc.strerror or exc}).") from exc
    try:
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _sweep_stale(folder: Path) -> None:
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for e in entries:
            if e.name.startswith(STAGING_PREFIX) and e.is_dir(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    if now - e.stat(follow_symlinks=False).st_mtime > STALE_STAGING_SECONDS:
                        shutil.rmtree(e.path, ignore_errors=True)


def digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def same_file_in(folder: Path, staged: Path) -> str | None:
    """The name of a file in ``folder`` with exactly the bytes of ``staged``, if there is one
    (only files of the same size are read)."""
    size = staged.stat().st_size
    mine: str | None = None
    with os.scandir(folder) as entries:
        for e in entries:
            if e.name.startswith(".") or not e.is_file(follow_symlinks=False):
                continue
            try:
                if e.stat(follow_symlinks=False).st_size != size:
                    continue
                mine = mine or digest(staged)
                if digest(Path(e.path)) == mine:
                    return e.name
            except OSError:
                continue
    return None


def place(staged: Path, folder: Path) -> str:
    """Put ``staged`` into ``folder`` under its name, or ``name-2``, ``name-3``, ... when the
    name is taken (never over another file), at once and whole; the name it got."""
    with staged.open("rb") as fh:
        os.fsync(fh.fileno())
    stem, suffix = os.path.splitext(staged.name)
    for n in range(1, 1000):
        name = f"{stem}-{n}{suffix}" if n > 1 else staged.name
        try:
            _link_new(staged, folder / name)
        except FileExistsError:
            continue
        except OSError as exc:
            raise Refused(f"I can't write to the corpus folder ({exc.strerror or exc}).") from exc
        _sync_folder(folder)
        return name
    raise Refused(f"the corpus folder holds too many files named like {staged.name}.")


def _link_new(src: Path, dst: Path) -> None:
    """``dst`` becomes ``src``'s content in one step; FileExistsError when ``dst`` exists."""
    try:
        os.link(src, dst)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: claim the name, then replace it whole
        fd = os.open(dst, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        os.close(fd)
        os.replace(src, dst)


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def unplace(folder: Path, name: str) -> None:
    """Take a file :func:`place` just put in back out (its re-indexing failed)."""
    with contextlib.suppress(FileNotFoundError):
        (folder / name).unlink()
    _sync_folder(folder)


def corpus_file(folder: Path, name: str) -> Path:
    """The article file ``name`` of ``folder``: a plain name (no folders, not hidden) of a file
    there with a suffix the corpus reads; else Refused."""
    if not name or "/" in name or "\\" in name or "\x00" in name or name.startswith("."):
        raise Refused(f"{name or 'that'} is not the name of an article file.")
    path = folder / name
    if suffix_of(name) not in readable_suffixes() or not (path.is_file() or path.is_symlink()):
        raise Refused(f"there is no article file named {name}; /sources lists them.")
    return path


def take_out(folder: Path, name: str) -> Path:
    """Move the article file ``name`` out of ``folder`` into ``folder/.removed/`` (a copy
    removed before gets the time added to its name); where it was kept."""
    path = corpus_file(folder, name)
    keep = folder / REMOVED_FOLDER
    try:
        keep.mkdir(exist_ok=True)
        dest = keep / name
        if dest.exists() or dest.is_symlink():
            stem, suffix = os.path.splitext(name)
            dest = keep / f"{stem}.{time.strftime('%Y%m%d-%H%M%S')}{suffix}"
        os.rename(path, dest)
    except OSError as exc:
        raise Refused(
            f"I can't move {name} out of the corpus folder ({exc.strerror or exc})."
        ) from exc
    _sync_folder(folder)
    return dest


def put_back(folder: Path, kept: Path, name: str) -> None:
    """Undo :func:`take_out` (re-indexing without the file failed)."""
    with contextlib.suppress(OSError):
        _link_new(kept, folder / name)
        kept.unlink()
