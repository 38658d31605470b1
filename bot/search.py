"""Query plan -> answer: candidates, evidence, selection, excerpts.

Three steps, each a function below:

1. **Candidates**: BM25Okapi over the plan's weighted terms (``index.py``; scores equal
   rank-bm25's for the same weighted tokens), the best :data:`CANDIDATES` passages exactly as
   exhaustive scoring ranks them (``BM25Index.top_k``), reordered by BM25 x sqrt(coverage) and
   a bonus for holding the kind of answer asked for.
2. **Evidence**: for each candidate, the share of the question's meaning it holds
   (``coverage``: each question word's specificity times the credit of the best of its terms the
   passage contains: 1 for the word itself, less for expansions; a passage also holds, at a
   discount, the words of its article's lead paragraph and, when it opens with a pronoun, of the
   passage before it) and whether its excerpt holds the kind of answer asked for (a date for
   "when", a number for "how many", ...).
3. **Selection**, three tiers: a question is answered when a candidate holds most of it and
   the kind of answer asked for; then its *confident* hits are the candidates (and the sentence
   model's nearest passages, ``dense.py``) in the learned order of ``ranker.py``. When none
   does, *related* passages (clearly labelled by every front end as "the articles don't say
   exactly") hold a fair part of it and are near it in meaning; else nothing. A fitted gate
   (``ranker.py``) gives nothing at all to questions off the articles' topic. Chit-chat gets
   neither.

The one object that leaves for the front ends is :class:`Answer` (a list of :class:`Hit`);
front ends never see the index.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .analysis import terms
from .answers import STRICT_KINDS, answer_spans
from .corpus import Passage, reading_text
from .dense import PassageVectors
from .documents import Locator
from .excerpt import Excerpt, make_excerpt, sentence_spans
from .features import DEFAULT, Features
from .index import BM25Index
from .query import QueryPlan, Vocabulary, make_plan
from .ranker import Gate, Ranker, feature_names, gate_features, load_gate, load_ranker
from .spelling import SpellIndex
from .store import PassageStore

try:  # compiled helpers of the question path (bot/_native_query.c); optional, same results
    from . import _native_query
except ImportError:  # pragma: no cover - built by `pip install -e .` where a compiler is
    _native_query = None

CANDIDATES = 30
# A confident hit holds this share of the question's meaning (specificity-weighted).
MIN_COVERAGE = 0.4
MIN_COVERAGE_SHORT = 0.5  # ... for questions of at most SHORT_QUESTION words
SHORT_QUESTION = 3
# A related passage (shown only when nothing answers confidently) holds this share.
RELATED_COVERAGE = 0.3
SELECTED_ARTICLE_BONUS = 2.0  # ranking: a passage of the article the question names
KIND_CHECKED = 10  # the best this many by BM25 are checked for the kind of answer asked for
SENTENCE_MEMO = 50_000  # passages whose sentences' terms are kept (a few KB each)
DENSE_CANDIDATES = 10  # passages the sentence model adds to the BM25 stage's candidates
# hits after the first need at least these log-odds from the ranker (p >= 0.27): the same
# S@3 on every dev set as no floor, without a third quote that merely shares a word
LATER_HIT_FLOOR = -1.0
# a related passage ("the articles don't say exactly; closest:") needs this similarity to the
# question (sentence model): the nearest passage of 92 % of natural.jsonl's answerable
# questions and 98 % of SQuAD's is nearer; of tests/data/offtopic.jsonl's, 7 % and 43 %
RELATED_MIN_COS = 0.3


@dataclass(frozen=True, slots=True)
class Hit:
    """One quote: where it stands, how well it matched, which words matched, and where in the
    quote the answer of the asked kind stands (``answers``, spans of ``text``)."""

    file: str
    line_start: int
    line_end: int
    score: float
    text: str
    title: str | None
    date: str | None = None
    matched_terms: tuple[str, ...] = ()
    highlights: tuple[tuple[int, int], ...] = ()
    answers: tuple[tuple[int, int], ...] = ()
    source: str | None = None  # the article's URL
    locator: Locator | None = None  # the PDF page or the section the quote stands in

    @property
    def lines(self) -> tuple[int, int]:
        return (self.line_start, self.line_end)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the search says to a question: confident ``hits``; else, maybe, ``related``
    passages (the closest, which don't clearly answer); ``chitchat`` when the message has
    nothing to search for."""

    question: str
    hits: tuple[Hit, ...] = ()
    related: tuple[Hit, ...] = ()
    chitchat: bool = False


class Candidate(NamedTuple):
    """A passage worth a look: its BM25 score, the share of the question it holds, and the
    key it is ranked by (score, coverage and the asked-for kind together); its
    :class:`Evidence` too, for the learned order (``ranker.py``)."""

    doc: int
    score: float
    coverage: float
    rank: float
    # holds every word the question requires and numbers nothing otherwise (else: related)
    complete: bool = True
    topical: float = 0.0  # coverage with the article lead's words in full
    selected: bool = False  # of the article the question names


# (a NamedTuple's own __new__ is a Python function: 30 calls a question)
_new_candidate = tuple.__new__


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the candidates hold of the question, one entry per candidate.

    ``coverage``: the share of the question's meaning the passage holds (the words of its
    article's lead paragraph count at ``Features.lead_credit``): what a confident answer needs.
    ``topical``: the same with the lead's words at ``Features.rank_lead_credit``, for ranking: the
    people and things an article is about are named in its lead and rarely repeated, so
    within an article what tells passages apart is the rest of the question.
    ``selected``: the passage's article is the one the question names ("the Hicks readout").
    ``complete``: the passage holds the words the question requires (what the person of "who
    replaced X?" did; the name of whose words "what did X say?" asks for) and
    does not number otherwise what the question numbers (asked about the first summit, it
    speaks of the third). A passage that is not complete is related at best.
    """

    coverage: list[float]
    topical: list[float]
    selected: list[bool]
    complete: list[bool]


def _share(credit: np.ndarray, weights: Sequence[float], n_own: int) -> list[float]:
    """Specificity-weighted share of the question's words held (``credit``: [docs, words]),
    summed word by word in question order; a follow-up's own words alone may also suffice (the
    first ``n_own`` are the message's, the rest carried)."""

    def share(k: int) -> np.ndarray:
        total, held = 0.0, np.zeros(credit.shape[0])
        for b in range(k):
            total += weights[b]
            held = held + credit[:, b] * weights[b]
        return held / max(total, 1e-9)

    out = share(len(weights))
    if n_own < len(weights):
        out = np.maximum(out, share(n_own))
    return out.tolist()


def _evidence_numpy(
    found: np.ndarray,
    plan: QueryPlan,
    weights: list[float],
    lead_credit: float,
    rank_lead_credit: float,
    carried_over: float,
    sel: list[int],
    req: list[int],
) -> tuple[list[float], list[float], list[bool], list[bool]]:
    """:meth:`Searcher._evidence`'s four lists without the compiled module (the same
    operations in the same order: bit for bit its figures)."""
    n_terms, n_words, n = found.shape[0], len(weights), found.shape[2]
    # each question word holds at the credit of the best of its terms
    term_credit = np.zeros((n_terms, n_words))
    row = {tid: r for r, tid in enumerate(plan.ids)}
    for (tid, b), cr in plan.word_credits.items():
        term_credit[row[tid], b] = cr

    def holding(via_lead: float) -> np.ndarray:
        # [d, w]: the best of (how passage d holds a term) x (that term's credit for word w),
        # where a term is held at the best of itself, its lead and its antecedent
        via = np.full(n_words, via_lead)
        via[sel] = 1.0
        held = np.maximum(
            np.maximum(found[:, 0, :, None] * 1.0, found[:, 1, :, None] * via),
            found[:, 2, :, None] * carried_over,
        )
        return (held * term_credit[:, None, :]).max(axis=0)

    credit = holding(lead_credit)
    topical = holding(rank_lead_credit)
    return (
        _share(credit, weights, plan.own_words),
        _share(topical, weights, n_words),
        (credit[:, sel] > 0).all(axis=1).tolist() if sel else [False] * n,
        (credit[:, req] > 0).all(axis=1).tolist() if req else [True] * n,
    )


class _SpansMemo:
    """:func:`answers.answer_spans` worked out once per text, for one question: a candidate's
    kind bonus and its excerpt look at the same passage."""

    __slots__ = ("_memo",)

    def __init__(self) -> None:
        self._memo: dict[tuple[str, str | None, Collection[str]], list[tuple[int, int]]] = {}

    def __call__(
        self, text: str, kind: str | None, question_terms: Collection[str] = ()
    ) -> list[tuple[int, int]]:
        key = (text, kind, question_terms)
        got = self._memo.get(key)
        if got is None:
            got = self._memo[key] = answer_spans(text, kind, question_terms)
        return got


class Searcher:
    """Ranks passages of a :class:`PassageStore` with a :class:`BM25Index`, with the heuristics
    ``features`` switches on (the sentence model's ``vectors`` only with ``features.dense``)."""

    def __init__(
        self,
        index: BM25Index,
        store: PassageStore,
        spell: SpellIndex | None = None,
        vectors: PassageVectors | None = None,
        features: Features = DEFAULT,
    ) -> None:
        self.index = index
        self.store = store
        self.spell = spell
        self.vectors = vectors
        self.heuristics = features  # (self.features() is the ranker's features of candidates)
        self.dense = vectors if features.dense else None  # the sentence model, if used
        self.ranker: Ranker = load_ranker(self.dense is not None)
        self.gate: Gate | None = load_gate(self.dense is not None)
        self._sentences: dict[int, list[frozenset[str]]] = {}  # _sentence_terms's memo
        self._lex = Vocabulary(
            vocab=index.vocab,
            correct=spell.correct if spell is not None else (lambda w: None),
            complete=spell.completions if spell is not None else (lambda w: []),
            features=features,
        )

    def variant(self, features: Features) -> Searcher:
        """A searcher of the same index, store and vectors with other ``features``."""
        return Searcher(self.index, self.store, self.spell, self.vectors, features)

    def plan(self, question: str, context: Sequence[str] = ()) -> QueryPlan:
        """The query plan; ``context``: words carried from earlier turns of a conversation
        (``conversation.py``), added at :data:`query.CONTEXT_WEIGHT` after the message's own."""
        return make_plan(question, self._lex, context)

    def search(
        self, question: str, top: int = 3, highlight: bool = True, context: Sequence[str] = ()
    ) -> list[Hit]:
        """The confident hits only (the metrics' view)."""
        return list(self.answer(question, top, highlight, context).hits)

    def answer(
        self, question: str, top: int = 3, highlight: bool = True, context: Sequence[str] = ()
    ) -> Answer:
        """The best ``top`` hits, or related passages, or nothing. ``highlight=False`` skips
        the bold and answer spans (front ends that show no bold: JSON, plain text)."""
        plan = self.plan(question, context)
        if plan.chitchat:
            return Answer(question, chitchat=True)
        # carried words never answer a message none of whose own words the articles use
        if not plan.own_terms_found:
            return Answer(question)
        spans = _SpansMemo()
        # a short question must be held nearly whole; a long one carries words of context
        need = MIN_COVERAGE_SHORT if plan.own_words <= SHORT_QUESTION else MIN_COVERAGE
        answered = False  # a candidate holds most of the question and the kind asked for
        held_back: list[Candidate] = []  # related, excerpted only if nothing answers
        made: dict[int, tuple[Passage, Excerpt] | None] = {}  # excerpts made, by passage
        seen: set[str] = set()
        cands = list(self.candidates(plan, spans))
        for c in cands:
            if c.coverage < RELATED_COVERAGE:
                continue
            if c.coverage < need or not c.complete:
                held_back.append(c)
                continue
            got = made[c.doc] = self._excerpt(c.doc, plan, highlight, spans)
            if got is None:
                continue
            if not self._has_answer_kind(got[1], plan):
                held_back.append(c)
                continue
            answered = True
            break  # one confident passage answers the question; the ranker orders the hits
        if not (answered or held_back):
            return Answer(question)
        # BM25's evidence and the sentence model's weighed together (``ranker.py``)
        docs, scores, x = self.features(plan, question, context, cands)
        fused = self.ranker.score(x)
        if self.gate is not None and not self.gate.open(
            gate_features(x, fused, self.dense is not None)
        ):
            return Answer(question)  # off the articles' topic: no quote in any tier
        if answered:  # the passages that answer it best, best first (the confident one among
            # them: its excerpt is made, so the list is never empty)
            ranked = self._ranked_hits(plan, docs, scores, fused, top, highlight, spans, made)
            return Answer(question, hits=tuple(ranked))
        related: list[Hit] = []
        near = self._similarity(docs, x)
        for c in held_back:
            if near is not None and near.get(c.doc, 0.0) < RELATED_MIN_COS:
                continue  # a closest passage must be about what was asked, not share a word
            got = made[c.doc] if c.doc in made else self._excerpt(c.doc, plan, highlight, spans)
            if got is None:
                continue
            hit = self._hit(c.doc, c.score, *got)
            if self._new(hit, seen):
                related.append(hit)
                if len(related) >= top:
                    break
        return Answer(question, related=tuple(related))

    def features(
        self, plan: QueryPlan, question: str, context: Sequence[str], cands: list[Candidate]
    ) -> tuple[list[int], list[float], np.ndarray]:
        """The candidates of the BM25 stage and those the sentence model adds: their passages,
        BM25 scores and :data:`ranker.FEATURES` (one row each)."""
        docs = [c.doc for c in cands]
        scores = [c.score for c in cands]
        top_rank = cands[0].rank if cands and cands[0].rank > 0 else 1.0
        top_score = cands[0].score if cands and cands[0].score > 0 else 1.0
        rows = [
            [
                1 / (1 + k),
                c.rank / top_rank,
                c.score / top_score,
                c.coverage,
                float(c.complete),
                1.0,
                c.topical,
                float(c.selected),
            ]
            for k, c in enumerate(cands)
        ]
        if self.dense is not None:
            text = question if not context else question + " " + " ".join(context)
            sims = self.dense.similarities(text)
            order = np.argsort(-sims, kind="stable")
            seen = set(docs)
            extra = [int(d) for d in order[: DENSE_CANDIDATES + len(docs)] if int(d) not in seen]
            extra = extra[:DENSE_CANDIDATES]
            if extra:  # the sentence model's own candidates: their evidence, no BM25 stage
                ev = self._evidence(plan, np.array(extra, dtype=np.int32))
                for j, d in enumerate(extra):
                    docs.append(d)
                    scores.append(0.0)
                    rows.append([0.0, 0.0, 0.0, ev.coverage[j], float(ev.complete[j]), 0.0,
                                 ev.topical[j], float(ev.selected[j])])  # fmt: skip
            place = np.empty(len(order), dtype=np.int64)
            place[order] = np.arange(len(order))
            best = float(sims[order[0]]) if len(order) else 0.0
            for k, d in enumerate(docs):
                rows[k] += [float(sims[d]), float(sims[d]) - best, 1 / (1 + float(place[d]))]
        best = self._sentence_share(plan, docs)
        for k in range(len(rows)):
            rows[k].insert(8, best[k])
        width = len(feature_names(self.dense is not None))
        x = np.array(rows, dtype=np.float64).reshape(len(rows), width)
        return docs, scores, x

    def _sentence_share(self, plan: QueryPlan, docs: list[int]) -> list[float]:
        """For each passage, the largest share of the question's own words (by weight) that
        one of its sentences holds: an answer usually stands in the sentence that holds the
        question's words together, not scattered over a paragraph."""
        words = plan.words[: plan.own_words]
        total = sum(w.weight for w in words) or 1.0
        out = []
        for d in docs:
            best = 0.0
            for held in self._sentence_terms(d):
                share = sum(w.weight for w in words if not held.isdisjoint(w.terms))
                best = max(best, share)
            out.append(best / total)
        return out

    def _sentence_terms(self, doc: int) -> list[frozenset[str]]:
        """The terms of each sentence of a passage, worked out once (a bounded memo)."""
        got = self._sentences.get(doc)
        if got is None:
            if len(self._sentences) >= SENTENCE_MEMO:
                self._sentences.clear()
            text = reading_text(self.store.text(doc))
            got = self._sentences[doc] = [
                frozenset(terms(text[s:e])) for s, e in sentence_spans(text)
            ]
        return got

    def _similarity(self, docs: list[int], x: np.ndarray) -> dict[int, float] | None:
        """The sentence model's similarity of each candidate to the question (None without)."""
        if self.dense is None:
            return None
        column = x[:, feature_names(True).index("cos")]
        return dict(zip(docs, column.tolist(), strict=True))

    def _ranked_hits(
        self,
        plan: QueryPlan,
        docs: list[int],
        scores: list[float],
        fused: np.ndarray,
        top: int,
        highlight: bool,
        spans: _SpansMemo,
        made: dict[int, tuple[Passage, Excerpt] | None],
    ) -> list[Hit]:
        """The best ``top`` passages by the ranker's log-odds ``fused``, as hits (``made``:
        the excerpts already made, by passage)."""
        hits: list[Hit] = []
        seen: set[str] = set()
        for k in np.argsort(-fused, kind="stable").tolist():
            if hits and fused[k] < LATER_HIT_FLOOR:
                break  # no padding with passages the ranker thinks unlikely to answer
            d = docs[k]
            got = made[d] if d in made else self._excerpt(d, plan, highlight, spans)
            if got is None:
                continue
            hit = self._hit(d, scores[k], *got)
            if self._new(hit, seen):
                hits.append(hit)
                if len(hits) >= top:
                    break
        return hits

    @staticmethod
    def _new(hit: Hit, seen: set[str]) -> bool:
        """False for a quote already given (the same sentences cited twice)."""
        key = " ".join(hit.text.split()).casefold()
        if key in seen:
            return False
        seen.add(key)
        return True

    # -- steps --------------------------------------------------------------------------------

    def candidates(self, plan: QueryPlan, spans: _SpansMemo | None = None) -> Iterator[Candidate]:
        """The best distinct passages by BM25 with their coverage, best first.

        Made as they are taken: whether a passage holds the kind of answer asked for (its
        rank's bonus) is looked up only when it may come next, ranked meanwhile as if it did
        (an upper bound), so a question that stops after its first few candidates does not
        look through the other passages; the order is the same."""
        # the best CANDIDATES passages, exactly as exhaustive BM25 ranks them (index.top_k)
        docs, scores = self.index.top_k(plan.ids, plan.weights, CANDIDATES)
        if docs.size == 0:
            return
        ev = self._evidence(plan, docs)  # (int32 like the postings: no casts in searches)
        # an article the question names ("in the Hicks readout") comes first, if one is there
        selected = ev.selected
        prefer = any(selected)
        # final order: BM25 times the square root of how much of the question the passage
        # holds in its article, with a bonus for passages that hold the kind of answer asked for
        docs_l, sc = docs.tolist(), scores.tolist()
        coverage = ev.coverage
        power = self.heuristics.coverage_power
        base = [
            s * (t if t >= 1e-3 else 1e-3) ** power for s, t in zip(sc, ev.topical, strict=True)
        ]
        ranks = base[:]
        unknown: set[int] = set()  # ranked with the bonus until looked up
        if plan.answer_type is not None:
            unknown = {
                k for k in range(min(KIND_CHECKED, len(base))) if coverage[k] >= RELATED_COVERAGE
            }
            bonus = self.heuristics.answer_bonus
            for k in unknown:
                ranks[k] *= bonus
        if prefer:
            for k, sel in enumerate(selected):
                if sel:
                    base[k] *= SELECTED_ARTICLE_BONUS
                    ranks[k] *= SELECTED_ARTICLE_BONUS
        # best rank first, ties by the lower passage number (two stable sorts)
        order = sorted(range(len(docs_l)), key=docs_l.__getitem__)
        order.sort(key=ranks.__getitem__, reverse=True)
        whole, topical = ev.complete, ev.topical
        i = 0
        while i < len(order):
            k = order[i]
            if k in unknown:
                unknown.discard(k)
                if not self._holds_kind(docs_l[k], plan, spans):
                    # without the bonus: after every passage ranked above it now
                    del order[i]
                    ranks[k] = base[k]
                    at = bisect_right(
                        order, (-base[k], docs_l[k]), i, key=lambda j: (-ranks[j], docs_l[j])
                    )
                    order.insert(at, k)
                    continue
            yield _new_candidate(
                Candidate,
                (docs_l[k], sc[k], coverage[k], ranks[k], whole[k], topical[k], selected[k]),
            )
            i += 1

    def _evidence(self, plan: QueryPlan, docs: np.ndarray) -> Evidence:
        """For each doc, the specificity-weighted share of the question's words it holds
        (:class:`Evidence`)."""
        n_terms, n = len(plan.ids), docs.size
        # every passage of a news article is about whom its lead paragraph names ("the talks",
        # "both leaders"): it holds the lead's words too, at a larger discount; and a passage
        # that opens with a pronoun ("He said on X ...") is about whom the passage before it
        # names: it holds that passage's words too, at a discount
        probe = self.store.with_related(docs)
        # one binary search per term for all three: found[term, how, doc]
        found = self.index.contains_each(plan.ids, probe).reshape(n_terms, 3, n)
        # a word that says which article is meant is held by all of that article: its lead
        # credit is 1 in both views
        sel = [b for b, w in enumerate(plan.words) if w.selects_article]
        req = [b for b in range(len(plan.words)) if plan.required >> b & 1]
        weights = [w.weight for w in plan.words]
        f = self.heuristics
        how = (f.lead_credit, f.rank_lead_credit, f.pronoun_carry_over, sel, req)
        if _native_query is not None and n_terms:  # the same, compiled (_native_query.c)
            ev = _native_query.evidence(found, plan.ids, plan.word_credits, weights,
                                        plan.own_words, *how)  # fmt: skip
        else:
            ev = _evidence_numpy(found, plan, weights, *how)
        coverage, topical, selected, complete = ev
        for b in range(len(plan.words) if plan.speakers else 0):
            if plan.speakers >> b & 1:
                # a name, held by name (in the passage, its lead or the passage before): the
                # nearest words of a country or a person are other countries and people
                row = {tid: r for r, tid in enumerate(plan.ids)}
                own = [row[t] for t in map(self.index.vocab.get, plan.words[b].terms) if t in row]
                named = found[own].any(axis=(0, 1)).tolist() if own else [False] * n
                complete = [c and x for c, x in zip(complete, named, strict=True)]
        return Evidence(coverage, topical, selected, complete)

    def _holds_kind(self, doc: int, plan: QueryPlan, spans: _SpansMemo | None = None) -> bool:
        """Whether a passage holds a span of the kind of answer asked for
        (``Features.answer_bonus`` in ranking)."""
        of = answer_spans if spans is None else spans
        return bool(of(reading_text(self.store.text(doc)), plan.answer_type, plan.question_terms))

    def _has_answer_kind(self, ex: Excerpt, plan: QueryPlan) -> bool:
        """Typed questions: the quote holds a span of the asked kind in a sentence that holds
        the question's words (``Excerpt.answers``), not just anywhere in the passage; a count of
        "how many X" in a sentence that speaks of X ("the two nations" counts no startups)."""
        if plan.answer_type not in STRICT_KINDS or not self.heuristics.answer_required:
            return True
        if plan.counted and plan.answer_type == "count":
            return any(
                plan.counted.intersection(terms(ex.text[s:e]))
                for s, e in sentence_spans(ex.text)
                if any(s <= a < e for a, _ in ex.answers)
            )
        return bool(ex.answers)

    def _excerpt(
        self, doc: int, plan: QueryPlan, highlight: bool, spans: _SpansMemo | None = None
    ) -> tuple[Passage, Excerpt] | None:
        """The passage and its excerpt for the question; None when nothing of it is quoted."""
        p = self.store.passage(doc)
        ex = make_excerpt(
            reading_text(p.text),  # a hard-wrapped paragraph read as one (offsets kept)
            plan.highlight_terms,
            plan.answer_type,
            highlight=highlight,
            question_terms=plan.question_terms,
            answers_of=answer_spans if spans is None else spans,
        )
        return (p, ex) if ex.text else None

    def _hit(self, doc: int, score: float, p: Passage, ex: Excerpt) -> Hit:
        first_line = p.line_start + p.text.count("\n", 0, ex.pieces[0][0])
        last_line = p.line_start + p.text.count("\n", 0, ex.pieces[-1][1])
        art = self.store.article_of(doc)
        return Hit(
            file=p.file,
            line_start=first_line,
            line_end=last_line,
            score=score,
            text=ex.text,
            title=art.title,
            date=art.date,
            matched_terms=tuple(sorted(ex.matched)),
            highlights=ex.highlights,
            answers=ex.answers,
            source=art.source,
            locator=art.locator(first_line),
        )


__all__ = ["Answer", "Hit", "Searcher"]
