"""Corpus files -> articles -> passages (line spans).

An article file is plain text, one paragraph per line, as scraped from a news site. Besides the
article body it carries page furniture: repeated title lines, site banners, tag lines,
"Read More" / "Related News" blocks with other stories' headlines, comment forms, widget credits.
Furniture is recognised by general rules (where it stands, whether it reads as prose, known
markers: generic web-page phrases listed in ``data/furniture.txt``) and is never indexed. The
headline and date of an article are kept as metadata.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .dates import DATE_RE

log = logging.getLogger(__name__)

MAX_FILE_BYTES_DEFAULT = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Passage:
    """A paragraph of an article: the unit that is ranked.

    ``text`` is exactly lines ``line_start..line_end`` (1-based, inclusive) of the file joined by
    ``\\n``, except that a trailing byline/credit suffix of the last line (``–News Desk``) is cut.
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
    furniture_lines: list[int] = field(default_factory=list)


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


# --- line classification -------------------------------------------------------------------

_TERMINAL = re.compile(r"""[.!?…]["'”’»)\]]*\s*$""")
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
FURNITURE_FILE = Path(__file__).with_name("data") / "furniture.txt"


def _read_furniture(path: Path) -> dict[str, list[str]]:
    """The sections of the furniture list (see its header): {section: entries}."""
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


# Markers of page furniture (generic web-page phrases, case ignored): whole-line forms, and
# phrases anywhere in a short line
_FURNITURE_LISTS = _read_furniture(FURNITURE_FILE)
_FURNITURE_MARKERS = _whole_line(_FURNITURE_LISTS["line"] + _FURNITURE_LISTS["links"])
_FURNITURE_ANYWHERE = re.compile(
    r"\b(?:" + "|".join(re.escape(p) for p in _FURNITURE_LISTS["anywhere"]) + r")\b", re.I
)


def strip_byline(line: str) -> str:
    """The line without a trailing credit such as ``–News Desk``."""
    return _BYLINE_SUFFIX.sub("", line)


_CLOSERS = "\"'”’»)]"
MARKER_MAX_CHARS = 240  # furniture lines are short; long lines are never checked for markers


def _ends_sentence(text: str) -> bool:
    t = text.rstrip().rstrip(_CLOSERS)
    return bool(t) and t[-1] in ".!?…"


def is_prose(line: str, marker: bool | None = None) -> bool:
    """A line that reads as article prose: several words and sentence-final punctuation.
    (``marker``: ``is_furniture_marker(line)`` when the caller has it already.)"""
    text = line.strip()
    if not _ends_sentence(text):
        text = strip_byline(text)  # "…a secure future.–News Desk"
        if not _ends_sentence(text):
            return False
        marker = None  # asked of the line without its credit
    if len(text) < 200 and len(_WORD.findall(text)) < 6:
        return False
    return not (is_furniture_marker(text) if marker is None else marker)


# every line _FURNITURE_ANYWHERE matches holds one of these, lower-cased (exactly so for an
# ASCII line; other lines go to the pattern): most lines are ruled out without it
_ANYWHERE_HINTS = tuple(p.lower() for p in _FURNITURE_LISTS["anywhere"])


def is_furniture_marker(line: str) -> bool:
    s = line.strip()
    if len(s) > MARKER_MAX_CHARS:
        return False
    if _FURNITURE_MARKERS.match(s):
        return True
    if s.isascii():
        low = s.lower()
        if not any(h in low for h in _ANYWHERE_HINTS):
            return False
    return bool(_FURNITURE_ANYWHERE.search(s))


def is_dateline(line: str) -> bool:
    s = line.strip()
    return 0 < len(s) <= 60 and bool(_DATELINE.match(s))


# --- parsing ---------------------------------------------------------------------------------


def split_lines(text: str) -> list[str]:
    """The file's lines, as citations number them: LF, CRLF and CR-only endings alike."""
    if "\r" not in text:  # the common case: nothing to replace
        return text.split("\n")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_article(file: str, text: str) -> Article:
    """Split one article file into passages and metadata, dropping furniture."""
    lines = split_lines(text)
    n = len(lines)
    blank = [not ln.strip() for ln in lines]
    marker = [not b and is_furniture_marker(ln) for ln, b in zip(lines, blank, strict=True)]
    prose = [not b and is_prose(ln, m) for ln, b, m in zip(lines, blank, marker, strict=True)]

    # Body = first prose line .. last prose line; everything around it is lead or tail.
    first = next((i for i in range(n) if prose[i]), None)
    if first is None:
        return Article(file=file, title=_pick_title(lines), date=_find_date(lines), passages=[])
    last = max(i for i in range(n) if prose[i])

    lead = lines[:first]
    title = _pick_title(lead)
    date = _find_date(lead)

    passages: list[Passage] = []
    furniture: list[int] = [i + 1 for i in range(first) if not blank[i]]
    # A dateline right above the first paragraph belongs to the lead: it is quotable with it.
    lead_start = first
    j = first - 1
    while j >= 0 and blank[j]:
        j -= 1
    if j >= 0 and is_dateline(lines[j]):
        lead_start = j
        furniture.remove(j + 1)

    in_tail_block = False  # after a "Read More"-like marker until the next prose line
    for i in range(first, last + 1):
        if blank[i]:
            continue
        if marker[i]:
            furniture.append(i + 1)
            in_tail_block = True
            continue
        if not prose[i]:
            # Headings, tag lines and "related story" headlines: not quoted.
            furniture.append(i + 1)
            continue
        in_tail_block = False
        start = lead_start if i == first else i
        body = "\n".join(lines[start : i + 1])
        if not _ends_sentence(body):
            body = strip_byline(body)
        body = body.rstrip()
        passages.append(Passage(file=file, line_start=start + 1, line_end=i + 1, text=body))
    del in_tail_block
    furniture.extend(i + 1 for i in range(last + 1, n) if not blank[i])
    if date is None and passages:
        m = DATE_RE.search(passages[0].text[:200])
        date = m.group(0) if m else None
    if title is None and passages:
        title = opening_label(passages[0].text)
    return Article(file=file, title=title, date=date, passages=passages, furniture_lines=furniture)


def _pick_title(lead: list[str]) -> str | None:
    cands = [
        ln.strip()
        for ln in lead
        if ln.strip()
        and not is_dateline(ln)
        and not is_furniture_marker(ln)
        and len(_WORD.findall(ln)) >= 4
    ]
    if not cands:
        return None
    counts = Counter(cands)
    repeated = [c for c in cands if counts[c] > 1]
    if repeated:
        return repeated[0]
    return max(cands, key=len)


LABEL_WORDS = 10


def opening_label(text: str, words: int = LABEL_WORDS) -> str:
    """A readable stand-in for a missing headline, marked as such: the article's opening
    words (``Untitled, opens “On September 25, 2024, Deputy …”``)."""
    head = text.split()
    quoted = " ".join(head[:words]).rstrip(",;:") + ("…" if len(head) > words else "")
    return f"Untitled, opens “{quoted}”"


def _find_date(lead: list[str]) -> str | None:
    for ln in lead:
        if is_dateline(ln):
            m = DATE_RE.search(ln)
            return m.group(0) if m else ln.strip()
    return None


# --- loading a folder --------------------------------------------------------------------------


ARTICLE_SUFFIX = ".txt"  # article files; other files in the folder are not read


def article_file_names(folder: Path) -> list[str]:
    """Names of the article files in ``folder``, sorted (as their paths sort).

    One ``scandir`` and a sort of strings: at 100k files, sorting ``Path`` objects took 2.6 s."""
    with os.scandir(folder) as entries:
        names = [e.name for e in entries]
    return sorted(n for n in names if _suffix(n).lower() == ARTICLE_SUFFIX)


def _suffix(name: str) -> str:
    """``Path(name).suffix``."""
    i = name.rfind(".")
    return name[i:] if 0 < i < len(name) - 1 else ""


def list_article_files(folder: Path) -> list[Path]:
    return [folder / n for n in article_file_names(folder)]


def check_folder(folder: Path) -> None:
    """Raise CorpusError unless ``folder`` is a folder (saying what it is instead)."""
    if folder.is_dir():
        return
    if folder.exists():
        raise CorpusError(f"corpus path is not a folder: {folder}")
    raise CorpusError(f"corpus folder not found: {folder}")


def read_article_file(
    path: Path, folder: Path, max_bytes: int = MAX_FILE_BYTES_DEFAULT
) -> tuple[str | None, str | None]:
    """(text, None) for a usable article file, else (None, reason)."""
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
    return article_text(data)


def article_text(data: bytes) -> tuple[str | None, str | None]:
    """(text, None) for the bytes of a usable article file, else (None, reason)."""
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


def _regular_file_size(path: Path) -> int | None:
    """The size of a regular file that is not a symlink (one ``lstat``), else None."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def load_article(path: Path, folder: Path, max_bytes: int) -> Article | CorpusProblem:
    """One article file, parsed; or the reason it cannot be used."""
    text, reason = read_article_file(path, folder, max_bytes)
    if text is None:
        return CorpusProblem(path.name, reason or "unusable")
    art = parse_article(path.name, text)
    if not art.passages:
        return CorpusProblem(path.name, "no article text found (only furniture)")
    return art


def load_corpus(folder: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES_DEFAULT) -> Corpus:
    """Read every article in ``folder``. Unusable files are skipped with a warning."""
    root = Path(folder)
    check_folder(root)
    articles: list[Article] = []
    problems: list[CorpusProblem] = []
    for path in list_article_files(root):
        got = load_article(path, root, max_bytes)
        if isinstance(got, CorpusProblem):
            problems.append(got)
            log.warning("skipping corpus file %s: %s", got.file, got.reason)
        else:
            articles.append(got)
    if not articles:
        detail = f" ({len(problems)} unusable file(s))" if problems else ""
        raise CorpusError(f"no usable article in corpus folder {root}{detail}")
    return Corpus(folder=root, articles=articles, problems=problems)
