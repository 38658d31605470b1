"""search(question) -> hits: analysis, ranking, abstention, excerpts.

The one object that leaves this module is :class:`Hit`; front ends never see the index.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from .analysis import analyze_word, tokenize
from .corpus import DATE_RE
from .excerpt import make_excerpt
from .index import BM25Index
from .lexicon import phrase_synonyms, specificity, synonyms
from .store import PassageStore

MAX_QUERY_TERMS = 32  # a 5000-word message is cut to its first terms before ranking
MAX_QUESTION_CHARS = 2000
CANDIDATES = 30
# A passage answers only if it holds this share of the question's content (idf-weighted;
# words the articles never use weigh like the rarest word). Below it the bot abstains.
MIN_COVERAGE = 0.5
# Later hits must score at least this share of the best one: no padding with loose matches.
MIN_RELATIVE_SCORE = 0.35
FUZZY_WEIGHT = 0.8
EXPANSION_WEIGHT = 1.0
DATE_BONUS = 1.15  # "when" questions: passages that hold a date or year rank higher
SYNONYM_WEIGHT = 0.5

_WHEN = re.compile(
    r"^\s*(?:when|what (?:year|date|day|month|time)|on what date|since when)\b", re.I
)


@dataclass(frozen=True, slots=True)
class Hit:
    """One quote: where it stands, how well it matched, and which words matched."""

    file: str
    line_start: int
    line_end: int
    score: float
    text: str
    title: str | None
    date: str | None = None
    matched_terms: tuple[str, ...] = ()
    highlights: tuple[tuple[int, int], ...] = ()

    @property
    def lines(self) -> tuple[int, int]:
        return (self.line_start, self.line_end)

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "lines": [self.line_start, self.line_end],
            "score": round(self.score, 6),
            "text": self.text,
            "title": self.title,
        }


@dataclass(slots=True)
class QueryPlan:
    """The analysed question: its content words and the weighted terms to score.

    Each question word has a bit; a passage "holds" a word when any of the word's terms, its
    fuzzy name match, its synonyms or its acronym expansion occur in it.
    """

    words: list[str] = field(default_factory=list)  # surface forms of the content words
    word_weights: list[float] = field(default_factory=list)  # specificity (lexicon.py)
    ids: list[int] = field(default_factory=list)  # term ids to score
    masks: list[int] = field(default_factory=list)  # word bits each id stands for
    weights: list[float] = field(default_factory=list)  # BM25 weight of each id
    highlight_terms: dict[str, float] = field(default_factory=dict)  # index terms -> weight
    resolved: dict[str, str] = field(default_factory=dict)  # fuzzy: question word -> index term

    def add(self, tid: int, mask: int, weight: float) -> None:
        if tid in self.ids:
            k = self.ids.index(tid)
            self.masks[k] |= mask
            self.weights[k] = max(self.weights[k], weight)
            return
        self.ids.append(tid)
        self.masks.append(mask)
        self.weights.append(weight)


def clean_question(question: str) -> str:
    """Drop control/format characters (RTL marks, zero-width) and cap the length."""
    head = question[:MAX_QUESTION_CHARS]
    if head.isascii() and head.isprintable():  # the common case: nothing to drop
        return " ".join(head.split())
    q = "".join(
        " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c
        for c in question[:MAX_QUESTION_CHARS]
        if unicodedata.category(c) not in ("Cf", "Cs", "Co", "Cn")
    )
    return " ".join(q.split())


class Searcher:
    """Ranks passages of a :class:`PassageStore` with a :class:`BM25Index`."""

    def __init__(self, index: BM25Index, store: PassageStore) -> None:
        self.index = index
        self.store = store

    # -- query analysis ---------------------------------------------------------------------

    def plan(self, question: str) -> QueryPlan:
        q = clean_question(question)
        groups = _word_groups(q)[:MAX_QUERY_TERMS]
        vocab, idf = self.index.vocab, self.index.idf
        plan = QueryPlan()
        syn = synonyms()
        all_terms: list[str] = []
        for bit, (surface, word_terms) in enumerate(groups):
            mask = 1 << bit
            plan.words.append(surface)
            plan.word_weights.append(specificity(surface))
            for term in word_terms:
                all_terms.append(term)
                tid = vocab.get(term)
                w = 1.0
                if tid is None and len(word_terms) == 1:
                    alt = self.store.fuzzy_name(surface)
                    if alt is not None and alt in vocab:
                        plan.resolved[term] = alt
                        term, tid, w = alt, vocab[alt], FUZZY_WEIGHT
                if tid is None:
                    continue
                plan.add(tid, mask, w)
                plan.highlight_terms[term] = float(idf[tid])
                for st in syn.get(term, ()):
                    sid = vocab.get(st)
                    if sid is not None:
                        plan.add(sid, mask, SYNONYM_WEIGHT)
                        plan.highlight_terms.setdefault(st, float(idf[sid]) * SYNONYM_WEIGHT)
                for exp in self.store.expansions(term):
                    # the long form as a whole weighs like one word
                    ew = EXPANSION_WEIGHT / len(exp)
                    for et in exp:
                        eid = vocab.get(et)
                        if eid is not None:
                            plan.add(eid, mask, ew)
                            plan.highlight_terms.setdefault(et, float(idf[eid]) * ew)
        # phrases of the synonym table ("every year" -> annual)
        for phrase, single in phrase_synonyms():
            k = _find_phrase(all_terms, phrase)
            if k >= 0 and single in vocab:
                plan.add(vocab[single], _bits_for(groups, phrase), SYNONYM_WEIGHT)
                plan.highlight_terms.setdefault(single, float(idf[vocab[single]]) * SYNONYM_WEIGHT)
        # a question that spells out a defined long form also finds the acronym
        present = set(all_terms)
        candidates = [pair for t in present for pair in self.store.long_forms_starting(t)]
        for acro, long_terms in candidates:
            if acro not in present and set(long_terms) <= present:
                tid = vocab.get(acro)
                if tid is not None:
                    plan.add(tid, _bits_for(groups, long_terms), 1.0)
                    plan.highlight_terms.setdefault(acro, float(idf[tid]))
        return plan

    # -- search -----------------------------------------------------------------------------

    def search(self, question: str, top: int = 3, highlight: bool = True) -> list[Hit]:
        """The best ``top`` hits, or none when the articles don't answer. ``highlight=False``
        skips the bold spans (front ends that show no bold: JSON, plain text)."""
        plan = self.plan(question)
        if not plan.words or not plan.ids:
            return []
        # the best CANDIDATES passages, exactly as exhaustive BM25 ranks them (index.top_k)
        docs, scores = self.index.top_k(plan.ids, plan.weights, CANDIDATES)
        if docs.size == 0:
            return []
        total = sum(plan.word_weights)
        weights = plan.word_weights
        part = np.arange(docs.size)
        # which question words each of these candidates holds (for coverage)
        top_docs = docs[part]
        held = np.zeros(part.size, dtype=np.int64)
        for tid, bits in zip(plan.ids, plan.masks, strict=True):
            held[self.index.contains(tid, top_docs)] |= bits
        word_mask = dict(zip(part.tolist(), held.tolist(), strict=True))
        want_date = bool(_WHEN.search(question))
        if want_date:
            scores = scores.copy()
            for i in part.tolist():
                if _has_date(self.store.text(int(docs[i]))):
                    scores[i] *= DATE_BONUS
        cands = sorted(part.tolist(), key=lambda i: (-scores[i], int(docs[i])))
        hits: list[Hit] = []
        seen_sentences: set[str] = set()
        best = None
        for i in cands:
            # coverage: the specificity-weighted share of the question's words it holds
            m = word_mask[i]
            cov = sum(w for b, w in enumerate(weights) if m >> b & 1) / total
            if cov < MIN_COVERAGE:
                continue
            sc = float(scores[i])
            if best is None:
                best = sc
            elif sc < MIN_RELATIVE_SCORE * best:
                break
            hit = self._hit(int(docs[i]), sc, plan, want_date, highlight)
            if hit is None:
                continue
            key = _norm(hit.text)
            if key in seen_sentences:
                continue
            seen_sentences.add(key)
            hits.append(hit)
            if len(hits) >= top:
                break
        return hits

    def _hit(
        self, doc: int, score: float, plan: QueryPlan, want_date: bool, highlight: bool = True
    ) -> Hit | None:
        p = self.store.passage(doc)
        text, pieces, matched, marks = make_excerpt(
            p.text, plan.highlight_terms, want_date, highlight=highlight
        )
        if not text:
            return None
        first_line = p.line_start + p.text.count("\n", 0, pieces[0][0])
        last_line = p.line_start + p.text.count("\n", 0, pieces[-1][1])
        art = self.store.article_meta(p.file)
        return Hit(
            file=p.file,
            line_start=first_line,
            line_end=last_line,
            score=score,
            text=text,
            title=art.title,
            date=art.date,
            matched_terms=tuple(sorted(matched)),
            highlights=tuple(marks),
        )


_YEAR = re.compile(r"\b(?:1[89]|20)\d{2}\b")
_DIGIT = re.compile(r"\d")


def _has_date(text: str) -> bool:
    # every date form we know has a digit: most passages are ruled out by one cheap scan
    return bool(_DIGIT.search(text) and (_YEAR.search(text) or DATE_RE.search(text)))


def _word_groups(q: str) -> list[tuple[str, list[str]]]:
    """Content words of the question: (surface, its distinct terms), overlapping spans merged."""
    groups: list[tuple[int, int, list[str]]] = []
    for t in tokenize(q):
        if groups and t.start < groups[-1][1]:
            s, e, ts = groups[-1]
            if t.term not in ts:
                ts.append(t.term)
            groups[-1] = (s, max(e, t.end), ts)
        else:
            groups.append((t.start, t.end, [t.term]))
    out: list[tuple[str, list[str]]] = []
    seen: set[tuple[str, ...]] = set()
    for s, e, ts in groups:
        key = tuple(ts)
        if key in seen:
            continue
        seen.add(key)
        out.append((q[s:e], ts))
    return out


def _find_phrase(seq: list[str], phrase: tuple[str, ...]) -> int:
    n = len(phrase)
    for i in range(len(seq) - n + 1):
        if tuple(seq[i : i + n]) == phrase:
            return i
    return -1


def _bits_for(groups: list[tuple[str, list[str]]], wanted: tuple[str, ...] | list[str]) -> int:
    bits = 0
    for bit, (_, ts) in enumerate(groups):
        if any(t in wanted for t in ts):
            bits |= 1 << bit
    return bits


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


__all__ = ["Hit", "Searcher", "clean_question", "analyze_word"]
