"""Question-set evaluation: the format of ``shared/eval`` and SQuAD-style sets (see its README).

Three kinds of line, told apart by their fields:

- the shared format: a question ``{"id", "question", "answers": [{"file", "quote"}, ...]}``
  (``answers: []`` = unanswerable) or a conversation ``{"id", "turns": [{"question",
  "answers"}, ...]}``, each turn scored like a question in the context of the turns before it
  (``conversation.py``). A hit is correct when it comes from ``file`` and holds ``quote``;
- SQuAD-style answerable: ``{"id", "question", "file", "line", "answers": [texts]}``. Strict: a
  hit from ``file`` whose lines cover ``line`` (1-based); lenient: a hit whose text holds one of
  ``answers`` (case ignored);
- SQuAD-style unanswerable: ``{"id", "question"}`` (no ``answers``): the right reply quotes
  nothing. (Not in a file of the shared format, where a missing ``answers`` is a mistake.)

Measures over the top 3 hits: success@1, success@3 and MRR@3 (strict), lenient success@3 (the
SQuAD-style questions only), false-abstain rate, abstain accuracy.

``Bm25sPeer`` is the reference system of ``eval --peers``: bm25s over the non-empty lines of each
article file. bm25s is a dev extra, imported only there; the bot never needs it.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .search import Hit

_STRAIGHT = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "′": "'", "″": '"'})

HALVES = ("all", "odd", "even")


def normalize(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).translate(_STRAIGHT)
    return " ".join(t.split()).casefold()


def is_correct(hit: Hit, answers: list[dict[str, str]]) -> bool:
    """The shared format: a hit from an answer's ``file`` that holds its ``quote``."""
    text = normalize(hit.text)
    return any(hit.file == a["file"] and normalize(a["quote"]) in text for a in answers)


def covers_line(hit: Hit, file: str, line: int) -> bool:
    """SQuAD-style strict: a hit from ``file`` whose lines cover ``line``."""
    return hit.file == file and hit.line_start <= line <= hit.line_end


def holds_answer(hit: Hit, answers: list[str]) -> bool:
    """SQuAD-style lenient: a hit whose text holds one of ``answers`` (case ignored)."""
    text = normalize(hit.text)
    return any(normalize(a) in text for a in answers)


def is_squad(q: dict[str, Any]) -> bool:
    """A SQuAD-style line: it names its gold ``file`` and ``line``, or has no ``answers``."""
    return "turns" not in q and ("file" in q or "line" in q or "answers" not in q)


@dataclass
class EvalResult:
    answerable: int = 0
    unanswerable: int = 0
    success1: int = 0
    success3: int = 0
    rr: float = 0.0
    false_abstain: int = 0
    abstain_ok: int = 0
    lenient_answerable: int = 0  # SQuAD-style answerable questions (lenient success is theirs)
    lenient3: int = 0
    missed: list[dict[str, Any]] = field(default_factory=list)

    def figures(self) -> dict[str, float | None]:
        """:meth:`metrics` with None where nothing was measured (no answerable or no
        unanswerable question): what the reports show."""
        m = self.metrics()
        if not self.answerable:
            for key in ("success@1", "success@3", "MRR@3", "false_abstain_rate"):
                m[key] = None
        if not self.unanswerable:
            m["abstain_accuracy"] = None
        return m

    def metrics(self) -> dict[str, float | None]:
        a = max(self.answerable, 1)
        u = max(self.unanswerable, 1)
        return {
            "success@1": self.success1 / a,
            "success@3": self.success3 / a,
            "MRR@3": self.rr / a,
            "false_abstain_rate": self.false_abstain / a,
            "abstain_accuracy": self.abstain_ok / u,
            "lenient_success@3": (
                self.lenient3 / self.lenient_answerable if self.lenient_answerable else None
            ),
        }


def combined(results: Iterable[EvalResult]) -> EvalResult:
    """The results of several sets as one: every question pooled."""
    out = EvalResult()
    for res in results:
        for f in fields(EvalResult):
            setattr(out, f.name, getattr(out, f.name) + getattr(res, f.name))
    return out


# -- reading a set -----------------------------------------------------------------------------


def _id_number(q: dict[str, Any]) -> int | None:
    """The numeric part of an id (``n001`` -> 1; the last run of digits)."""
    digits = re.findall(r"\d+", str(q.get("id", "")))
    return int(digits[-1]) if digits else None


def _check_line(q: Any, where: str) -> None:
    """Raise ValueError (``FILE:LINE: what is wrong``) unless ``q`` is a usable set line."""
    if not isinstance(q, dict):
        raise ValueError(f"{where}: not a JSON object")
    if "turns" in q:
        turns = q["turns"]
        if not isinstance(turns, list) or not turns:
            raise ValueError(f"{where}: 'turns' must be a non-empty list")
        for t in turns:
            if not isinstance(t, dict) or "question" not in t or "answers" not in t:
                raise ValueError(f"{where}: each turn needs 'question' and 'answers'")
            _check_shared_answers(t["answers"], where)
            if not isinstance(t["question"], str):
                raise ValueError(f"{where}: 'question' must be a string")
        return
    if not isinstance(q.get("question"), str):
        raise ValueError(f"{where}: needs 'question' (a string)")
    answers = q.get("answers")
    texts = isinstance(answers, list) and any(isinstance(a, str) for a in answers)
    if "file" in q or "line" in q or texts:  # SQuAD-style answerable
        for key in ("file", "line", "answers"):
            if key not in q:
                raise ValueError(f"{where}: needs 'file', 'line' and 'answers' (SQuAD style)")
        if not isinstance(q["file"], str) or not q["file"]:
            raise ValueError(f"{where}: 'file' must be a file name")
        line = q["line"]
        if not isinstance(line, int) or isinstance(line, bool) or line < 1:
            raise ValueError(f"{where}: 'line' must be a line number (1-based)")
        if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
            raise ValueError(f"{where}: 'answers' must be a list of texts (SQuAD style)")
    elif "answers" in q:
        _check_shared_answers(answers, where)


def _check_shared_answers(answers: Any, where: str) -> None:
    if not isinstance(answers, list):
        raise ValueError(f"{where}: 'answers' must be a list")
    for a in answers:
        if not (isinstance(a, dict) and isinstance(a.get("file"), str)):
            raise ValueError(f"{where}: each answer needs 'file' and 'quote'")
        if not isinstance(a.get("quote"), str):
            raise ValueError(f"{where}: each answer needs 'file' and 'quote'")


def read_set(path: Path, half: str = "all") -> list[dict[str, Any]]:
    """The questions of a set file (a conversation line is kept whole: it has ``turns``).

    ``half`` keeps the tuning half ``odd`` or ``even``: by the numeric part of the id in the
    shared format (``n001`` is odd), by the line number in the file (1-based) for SQuAD-style
    lines. Raises ValueError naming ``FILE:LINE`` for a line that is not a usable question."""
    if half not in HALVES:
        raise ValueError(f"half must be one of {', '.join(HALVES)}, not {half!r}")
    out = []
    shared_line = bare_line = None
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            q = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: not JSON ({exc.msg})") from None
        _check_line(q, where)
        squad = is_squad(q)
        if not squad:
            shared_line = shared_line or n
        elif "answers" not in q:
            bare_line = bare_line or n
        if half != "all":
            number = n if squad else _id_number(q)
            if number is None:
                raise ValueError(f"{where}: --half needs a number in the id, got {q.get('id')!r}")
            if number % 2 != (1 if half == "odd" else 0):
                continue
        out.append(q)
    if shared_line and bare_line:
        raise ValueError(
            f"{path}:{bare_line}: needs 'answers' (a file of the shared format, as line "
            f"{shared_line} is; only a SQuAD-style set has lines without it)"
        )
    return out


def load_questions(path: Path) -> list[dict[str, Any]]:
    """All the questions of a set file (see :func:`read_set`)."""
    return read_set(path)


def gold_files(questions: Iterable[dict[str, Any]]) -> set[str]:
    """The article files the questions' answers are in."""
    out = set()
    for q in questions:
        for t in q.get("turns", [q]):
            if "file" in t:
                out.add(t["file"])
            elif "answers" in t:
                out.update(a["file"] for a in t["answers"])
    return out


# -- scoring -----------------------------------------------------------------------------------


def _score(res: EvalResult, qid: Any, q: dict[str, Any], question: str, hits: list[Hit]) -> None:
    squad = is_squad(q)
    if squad and "file" in q:
        file, line = q["file"], q["line"]

        def strict(h: Hit) -> bool:
            return covers_line(h, file, line)
    elif not squad and q["answers"]:

        def strict(h: Hit) -> bool:
            return is_correct(h, q["answers"])
    else:
        res.unanswerable += 1
        if not hits:
            res.abstain_ok += 1
        else:
            res.missed.append({"id": qid, "question": question, "got": hits[:1]})
        return
    res.answerable += 1
    if not hits:
        res.false_abstain += 1
    rank = next((k for k, h in enumerate(hits[:3], 1) if strict(h)), None)
    if rank == 1:
        res.success1 += 1
    if rank is not None:
        res.success3 += 1
        res.rr += 1 / rank
    if squad:
        res.lenient_answerable += 1
        if any(holds_answer(h, q["answers"]) for h in hits[:3]):
            res.lenient3 += 1
    if rank != 1:
        res.missed.append({"id": qid, "question": question, "rank": rank, "got": hits[:1]})


def evaluate(
    search: Callable[[str, int], list[Hit]],
    questions: list[dict[str, Any]],
    top: int = 3,
    conversation: Callable[[], Any] | None = None,
) -> EvalResult:
    """Score ``search(question, top)`` on the questions. Conversations (items with ``turns``)
    are asked turn by turn through a fresh ``conversation()`` each, whose ``ask(message, top)``
    returns a ``conversation.Answer``; without ``conversation``, each turn is asked alone."""
    res = EvalResult()
    for q in questions:
        if "turns" not in q:
            _score(res, q.get("id"), q, q["question"], list(search(q["question"], top)))
            continue
        chat = conversation() if conversation is not None else None
        for k, turn in enumerate(q["turns"], 1):
            question = turn["question"]
            if chat is None:
                hits = list(search(question, top))
            else:
                answer = chat.ask(question, top)
                hits = list(answer.hits)
                if answer.reading.carried:
                    question += f"  (read with: {' '.join(answer.reading.carried)})"
            _score(res, f"{q.get('id')}.{k}", turn, question, hits)
    return res


# -- the peer: bm25s over lines ----------------------------------------------------------------


class PeerMissing(Exception):
    """bm25s (or PyStemmer) is not installed."""


class Bm25sPeer:
    """bm25s (PyStemmer English stemmer, English stopwords, its default BM25) over the
    non-empty lines of each ``.txt`` file of ``folder``; a hit is one line. Never abstains."""

    name = "bm25s"

    def __init__(self, folder: Path) -> None:
        try:
            import bm25s
            import Stemmer
        except ImportError as exc:
            raise PeerMissing(
                f"--peers needs bm25s and PyStemmer ({exc.name} is not installed): "
                "pip install -e '.[dev]'"
            ) from None
        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs each build at DEBUG
        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        self.lines: list[tuple[str, int, str]] = []  # (file, 1-based line, text)
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() != ".txt" or path.name.startswith(".") or not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            for n, line in enumerate(text.split("\n"), 1):
                if line.strip():
                    self.lines.append((path.name, n, line))
        if not self.lines:
            raise ValueError(f"{folder}: no non-empty line in a .txt file for bm25s")
        self.retriever = bm25s.BM25()
        self.retriever.index(self._tokenize([t for _, _, t in self.lines]), show_progress=False)

    def _tokenize(self, texts: list[str]) -> Any:
        return self._bm25s.tokenize(
            texts, stopwords="en", stemmer=self._stemmer, show_progress=False
        )

    def search(self, question: str, top: int = 3) -> list[Hit]:
        k = min(top, len(self.lines))
        tokens = self._bm25s.tokenize(
            [question], stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False
        )
        docs, scores = self.retriever.retrieve(tokens, k=k, show_progress=False)
        out = []
        for d, s in zip(docs[0], scores[0], strict=True):
            file, n, text = self.lines[int(d)]
            out.append(
                Hit(file=file, line_start=n, line_end=n, score=float(s), text=text, title=None)
            )
        return out


# -- reports -----------------------------------------------------------------------------------

COLUMNS = (
    ("success@1", "success@1"),
    ("success@3", "success@3"),
    ("lenient@3", "lenient_success@3"),
    ("MRR@3", "MRR@3"),
    ("false-abstain", "false_abstain_rate"),
    ("abstain accuracy", "abstain_accuracy"),
)


def report_table(results: list[tuple[str, EvalResult]]) -> str:
    """A header line with the question counts, then one row per system."""
    first = results[0][1]
    width = max(len("system"), *(len(name) for name, _ in results))
    squad = first.lenient_answerable
    lines = [
        f"answerable {first.answerable}, unanswerable {first.unanswerable}"
        + (f" (lenient@3 over the {squad} SQuAD-style)" if 0 < squad < first.answerable else ""),
        "  ".join(["system".ljust(width), *(c for c, _ in COLUMNS)]),
    ]
    for name, res in results:
        m = res.figures()
        cells = [name.ljust(width)]
        for title, key in COLUMNS:
            v = m[key]
            cell = "-" if v is None else f"{v:.2f}"
            if key == "abstain_accuracy":
                cell += f" ({res.abstain_ok}/{res.unanswerable})"
            cells.append(cell.ljust(len(title)))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def report_missed(res: EvalResult) -> str:
    """The questions a system missed, with its top hit."""
    lines = []
    for q in res.missed:
        got = q["got"][0] if q["got"] else None
        where = f"{got.file}:{got.line_start} {got.text[:70]!r}" if got else "nothing (abstained)"
        rank = q.get("rank")
        tag = "unanswerable, answered" if "rank" not in q else f"rank {rank or '>3'}"
        lines.append(f"  missed {q['id']} [{tag}] {q['question']}\n      top: {where}")
    return "\n".join(lines)


def report_json(
    results: list[tuple[str, EvalResult]], files: list[str], corpus: str, half: str
) -> str:
    """The measures as one JSON object (``systems`` keyed by name)."""
    systems = {}
    for name, res in results:
        systems[name] = {
            **res.figures(),
            "answerable": res.answerable,
            "unanswerable": res.unanswerable,
            "squad_answerable": res.lenient_answerable,
            "abstain_ok": res.abstain_ok,
            "false_abstain": res.false_abstain,
            "missed": [q["id"] for q in res.missed],
        }
    return json.dumps({"files": files, "corpus": corpus, "half": half, "systems": systems})
