"""Question-set evaluation in the format of ``shared/eval`` (see its README).

A set holds questions (``{"id", "question", "answers"}``) and/or conversations (``{"id",
"turns": [{"question", "answers"}, ...]}``); each turn of a conversation is scored like a
question, read in the context of the turns before it (``conversation.py``).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .search import Hit

_STRAIGHT = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "′": "'", "″": '"'})


def normalize(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).translate(_STRAIGHT)
    return " ".join(t.split()).casefold()


def is_correct(hit: Hit, answers: list[dict[str, str]]) -> bool:
    text = normalize(hit.text)
    return any(hit.file == a["file"] and normalize(a["quote"]) in text for a in answers)


@dataclass
class EvalResult:
    answerable: int = 0
    unanswerable: int = 0
    success1: int = 0
    success3: int = 0
    rr: float = 0.0
    false_abstain: int = 0
    abstain_ok: int = 0
    missed: list[dict[str, Any]] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        a = max(self.answerable, 1)
        u = max(self.unanswerable, 1)
        return {
            "success@1": self.success1 / a,
            "success@3": self.success3 / a,
            "MRR@3": self.rr / a,
            "false_abstain_rate": self.false_abstain / a,
            "abstain_accuracy": self.abstain_ok / u,
        }


def load_questions(path: Path) -> list[dict[str, Any]]:
    """The questions of a set file; a conversation line is kept whole (it has ``turns``)."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(q, dict):
            raise ValueError(f"{path}:{n}: not a JSON object")
        items = q.get("turns") if "turns" in q else [q]
        if not isinstance(items, list) or not items:
            raise ValueError(f"{path}:{n}: 'turns' must be a non-empty list")
        for t in items:
            if not isinstance(t, dict) or "question" not in t or "answers" not in t:
                raise ValueError(f"{path}:{n}: needs 'question' and 'answers'")
        out.append(q)
    return out


def _score(res: EvalResult, qid: Any, question: str, answers: list, hits: list[Hit]) -> None:
    if not answers:
        res.unanswerable += 1
        if not hits:
            res.abstain_ok += 1
        else:
            res.missed.append({"id": qid, "question": question, "got": hits[:1]})
        return
    res.answerable += 1
    if not hits:
        res.false_abstain += 1
    rank = next((k for k, h in enumerate(hits[:3], 1) if is_correct(h, answers)), None)
    if rank == 1:
        res.success1 += 1
    if rank is not None:
        res.success3 += 1
        res.rr += 1 / rank
    if rank != 1:
        res.missed.append({"id": qid, "question": question, "rank": rank, "got": hits[:1]})


def evaluate(
    search: Any,
    questions: list[dict[str, Any]],
    top: int = 3,
    conversation: Callable[[], Any] | None = None,
) -> EvalResult:
    """Score ``search(question, top)`` on the questions; conversations (items with
    ``turns``) are asked turn by turn through a fresh ``conversation()`` each, whose
    ``ask(message, top)`` returns a ``conversation.Answer``."""
    res = EvalResult()
    for q in questions:
        if "turns" not in q:
            _score(res, q.get("id"), q["question"], q["answers"], search(q["question"], top))
            continue
        if conversation is None:
            raise ValueError(f"{q.get('id')}: a conversation, but no conversation to ask it in")
        chat = conversation()
        for k, turn in enumerate(q["turns"], 1):
            answer = chat.ask(turn["question"], top)
            question = turn["question"]
            if answer.reading.carried:
                question += f"  (read with: {' '.join(answer.reading.carried)})"
            _score(res, f"{q.get('id')}.{k}", question, turn["answers"], answer.hits)
    return res


def report(res: EvalResult) -> str:
    m = res.metrics()
    lines = []
    for q in res.missed:
        got = q["got"][0] if q["got"] else None
        where = f"{got.file}:{got.line_start} {got.text[:70]!r}" if got else "nothing (abstained)"
        rank = q.get("rank")
        tag = "unanswerable, answered" if "rank" not in q else f"rank {rank or '>3'}"
        lines.append(f"  missed {q['id']} [{tag}] {q['question']}\n      top: {where}")
    lines.append(
        f"answerable {res.answerable}, unanswerable {res.unanswerable}\n"
        f"success@1 {m['success@1']:.2f}  success@3 {m['success@3']:.2f}  "
        f"MRR@3 {m['MRR@3']:.2f}\n"
        f"false-abstain rate {m['false_abstain_rate']:.2f}  "
        f"abstain accuracy {m['abstain_accuracy']:.2f} ({res.abstain_ok}/{res.unanswerable})"
    )
    return "\n".join(lines)
