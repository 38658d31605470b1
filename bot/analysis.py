"""Text analysis: the same tokens for passages and questions.

Steps (each measured on the dev set, see README "Search quality"):

- Unicode NFKC, case folding, curly quotes and apostrophes made straight.
- Possessives (``India's`` -> india) and contractions split off.
- A stopword written in capitals or as a dotted abbreviation is an acronym and a term of its own
  (``US``, ``U.S.`` -> us; ``IT``; ``WHO``); lower-case ``us`` stays the pronoun, a stopword.
- Compounds with ``-``, ``+``, ``/`` (``INDUS-X``, ``co-production``, ``2025-2035``, ``P-8I``):
  the joined form plus the parts, so ``INDUS-X``, ``Indus X`` and ``indusx`` meet.
- Model designations written with a space (``MH 60R``, ``P 8I``, ``MQ 9Bs``) also give the
  joined form (``mh60r``), so ``MH-60R`` finds ``MH 60R``.
- British -> American spelling (``defence`` -> defense, ``-ise`` -> ``-ize``), English stopwords,
  Snowball (Porter 2) stemming.

Everything here is pure and deterministic; results are cached per surface word, which makes
indexing large corpora and analysing questions cheap.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections import ChainMap
from functools import lru_cache
from itertools import chain
from typing import NamedTuple

import numpy as np
import Stemmer

try:  # compiled tokenizer and indexing pass (bot/_native.c); optional, same results
    from . import _native
except ImportError:  # pragma: no cover - built by `pip install -e .` where a compiler is
    _native = None

# No cache in the stemmer: each word reaches it once (results are cached per surface word
# above it), and with a large vocabulary PyStemmer's own cache only costs (about 5x per word).
_stemmer = Stemmer.Stemmer("english", 0)

# NLTK's English stopword list plus question/filler words that carry no content in a question.
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "aren't",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "couldn't",
        "did",
        "didn't",
        "do",
        "does",
        "doesn't",
        "doing",
        "don't",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "hadn't",
        "has",
        "hasn't",
        "have",
        "haven't",
        "having",
        "he",
        "he'd",
        "he'll",
        "he's",
        "her",
        "here",
        "here's",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "how's",
        "i",
        "i'd",
        "i'll",
        "i'm",
        "i've",
        "if",
        "in",
        "into",
        "is",
        "isn't",
        "it",
        "it's",
        "its",
        "itself",
        "let's",
        "me",
        "more",
        "most",
        "mustn't",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "ought",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "shan't",
        "she",
        "she'd",
        "she'll",
        "she's",
        "should",
        "shouldn't",
        "so",
        "some",
        "such",
        "than",
        "that",
        "that's",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "there's",
        "these",
        "they",
        "they'd",
        "they'll",
        "they're",
        "they've",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "wasn't",
        "we",
        "we'd",
        "we'll",
        "we're",
        "we've",
        "were",
        "weren't",
        "what",
        "what's",
        "when",
        "when's",
        "where",
        "where's",
        "which",
        "while",
        "who",
        "who's",
        "whom",
        "why",
        "why's",
        "with",
        "won't",
        "would",
        "wouldn't",
        "you",
        "you'd",
        "you'll",
        "you're",
        "you've",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "also",
        "can",
        "could",
        "may",
        "might",
        "must",
        "shall",
        "will",
        "just",
        "us",
        "re",
        "ve",
        "ll",
        "d",
        "s",
        "t",
        "m",
        "o",
        "y",
        "ain",
        "tell",
        "please",
        "know",
        "kind",
        "sort",
        "anything",
        "something",
        "thing",
        "things",
        "does",
        "did",
        "done",
        "get",
        "got",
    ]
)

# British -> American spellings that stemming alone does not bring together.
_SPELLING = {
    "defence": "defense",
    "defences": "defenses",
    "offence": "offense",
    "offences": "offenses",
    "licence": "license",
    "pretence": "pretense",
    "programme": "program",
    "programmes": "programs",
    "centre": "center",
    "centres": "centers",
    "centred": "centered",
    "theatre": "theater",
    "metre": "meter",
    "metres": "meters",
    "litre": "liter",
    "fibre": "fiber",
    "calibre": "caliber",
    "manoeuvre": "maneuver",
    "manoeuvres": "maneuvers",
    "aluminium": "aluminum",
    "tyre": "tire",
    "grey": "gray",
    "cheque": "check",
    "catalogue": "catalog",
    "analyse": "analyze",
    "analysed": "analyzed",
    "paralyse": "paralyze",
    "travelled": "traveled",
    "travelling": "traveling",
    "labelled": "labeled",
    "signalled": "signaled",
    "cancelled": "canceled",
    "modelling": "modeling",
    "fuelled": "fueled",
    "jewellery": "jewelry",
    "ageing": "aging",
    "judgement": "judgment",
    "enrol": "enroll",
    "fulfil": "fulfill",
    # month abbreviations ("07-Feb-2025") meet the full names
    "jan": "january",
    "feb": "february",
    "apr": "april",
    "jun": "june",
    "jul": "july",
    "aug": "august",
    "sep": "september",
    "sept": "september",
    "oct": "october",
    "nov": "november",
    "dec": "december",
}
_OUR_WORDS = {
    "arbour", "ardour", "armour", "behaviour", "candour", "clamour", "colour", "demeanour",
    "endeavour", "favour", "fervour", "flavour", "harbour", "honour", "humour", "labour",
    "neighbour", "odour", "parlour", "rancour", "rigour", "rumour", "saviour", "splendour",
    "succour", "tumour", "valour", "vapour", "vigour",
}  # fmt: skip
_ISE_KEEP = {
    "advise", "apprise", "arise", "chastise", "circumcise", "comprise", "compromise", "concise",
    "demise", "despise", "devise", "disguise", "enterprise", "excise", "exercise", "expertise",
    "franchise", "improvise", "incise", "merchandise", "noise", "otherwise", "paradise", "poise",
    "praise", "precise", "premise", "promise", "raise", "reprise", "revise", "rise", "supervise",
    "surmise", "surprise", "televise", "treatise", "wise", "likewise", "clockwise", "cruise",
    "bruise", "guise", "anise", "mortise", "erise", "vise", "valise", "sunrise", "uprise",
}  # fmt: skip
_ISE_RE = re.compile(r"^(\w{3,}?)is(e|es|ed|ing|ation|ations|er|ers)$")
_OUR_RE = re.compile(r"^(\w+?our)(s|ed|ing|ful|able|ite|ites|less)?$")

# A token: a spaced model designation ("MH 60R", "P 8I"), or letters/digits with inner
# joiners (apostrophes, hyphens, dots, plus, slash, ampersand).
_TOKEN_RE = re.compile(
    r"(?=[A-Z])(?<!\w)[A-Z]{1,4} \d+[A-Za-z]{0,3}(?![\w-])"
    r"|\w+(?:['’‘`´\-‐‑‒–+./&]\w+)*",
    re.UNICODE,
)
_JOINERS_RE = re.compile(r"[\-‐‑‒–+/&.]")
_QUOTES = str.maketrans(
    {"’": "'", "‘": "'", "`": "'", "´": "'", "‐": "-", "‑": "-", "‒": "-", "–": "-"}
)
_PLURAL_DESIGNATION = re.compile(r"^([a-z]*\d+[a-z]*?)s$")


class Token(NamedTuple):
    """One analysed term and the character span of the word it came from."""

    term: str
    start: int
    end: int


def _spelling(word: str) -> str:
    w = _SPELLING.get(word)
    if w is not None:
        return w
    if "our" in word:
        m = _OUR_RE.match(word)
        if m and m.group(1) in _OUR_WORDS:
            return m.group(1)[:-2] + "r" + (m.group(2) or "")
    if "is" in word:
        m = _ISE_RE.match(word)
        if m and (m.group(1) + "ise") not in _ISE_KEEP and word not in _ISE_KEEP:
            return m.group(1) + "iz" + m.group(2)
    if word.endswith("yse") and len(word) > 5:
        return word[:-3] + "yze"
    return word


def _stem(word: str) -> str:
    if word.isdigit():
        return word
    return _stemmer.stemWord(_spelling(word))


@lru_cache(maxsize=200_000)
def analyze_word(surface: str) -> tuple[str, ...]:
    """Terms for one surface token (as matched by the tokenizer), in order, stopwords removed."""
    if surface.isascii() and surface.isalpha():  # fast path: a plain word
        w = surface.lower()
        if w in STOPWORDS:
            # written in capitals it is an acronym ("US", "IT", "WHO"), not a function word
            return (w,) if len(w) > 1 and surface.isupper() else ()
        return (_stem(w),)
    orig = unicodedata.normalize("NFKC", surface).translate(_QUOTES)
    w = orig.casefold()
    # possessive and trailing apostrophes
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'")
    if not w:
        return ()
    if " " in w:
        # "MH 60R": the joined designation, then the parts
        head, _, tail = orig.partition(" ")
        out = [_finish(head.lower() + tail.lower(), head + tail)]
        for part in (head, tail):
            out.extend(t for t in analyze_word(part) if t not in out)
        return tuple(out)
    if "'" in w:  # contractions and O'Neil-like names: parts
        out: list[str] = []
        for part in w.split("'"):
            out.extend(analyze_word(part))
        return tuple(out)
    if _JOINERS_RE.search(w):
        raw_parts = [p for p in _JOINERS_RE.split(w) if p]
        # dotted abbreviations: U.S, U.K, e.g -> us, uk, eg (an abbreviation, never a stopword)
        if "." in w and all(len(p) == 1 for p in raw_parts):
            return ("".join(raw_parts),)
        sep = "+" if "+" in w and all(p.isdigit() for p in raw_parts) else ""
        joined = sep.join(raw_parts)
        out = []
        if len(raw_parts) > 1 and len(joined) <= 40:
            out.append(_finish(joined, surface))
        orig_parts = [p for p in _JOINERS_RE.split(orig) if p]
        if len(orig_parts) != len(raw_parts):  # casefolding changed the shape: use lower forms
            orig_parts = raw_parts
        for p in orig_parts:
            out.extend(analyze_word(p))
        # keep order, drop empties and duplicates
        seen: set[str] = set()
        return tuple(t for t in out if t and not (t in seen or seen.add(t)))
    if w in STOPWORDS:
        # an acronym, as above ("US's" too)
        return (w,) if len(w) > 1 and orig.partition("'")[0].isupper() else ()
    return (_finish(w, surface),)


def _finish(w: str, surface: str) -> str:
    if any(c.isdigit() for c in w):
        # "9Bs" / "MQ-9Bs": plural of a model designation
        m = _PLURAL_DESIGNATION.match(w)
        if m and surface.endswith("s") and not surface[:-1].islower():
            return m.group(1)
        return w
    return _stem(w)


def tokenize(text: str) -> list[Token]:
    """Analysed tokens with the character spans (in ``text``) of the words they come from."""
    out: list[Token] = []
    for m in _TOKEN_RE.finditer(text):
        start, end = m.span()
        for term in analyze_word(m.group(0)):
            out.append(Token(term, start, end))
    return out


def matches(text: str, wanted: dict[str, float] | set[str]) -> list[tuple[str, int, int]]:
    """(term, start, end) for the words of ``text`` whose terms are in ``wanted``."""
    keys = wanted.keys() if isinstance(wanted, dict) else wanted
    surfaces = _TOKEN_RE.findall(text)
    analysed = [analyze_word(w) for w in surfaces]
    hits = [k for k, ts in enumerate(analysed) if ts and not keys.isdisjoint(ts)]
    if not hits:
        return []
    out: list[tuple[str, int, int]] = []
    # exact spans by chained find: the text between two tokens holds no word character
    find = text.find
    pos = 0
    wanted_k = iter(hits)
    k_next = next(wanted_k)
    for k, w in enumerate(surfaces):
        start = find(w, pos)
        pos = start + len(w)
        if k == k_next:
            out.extend((t, start, pos) for t in analysed[k] if t in keys)
            k_next = next(wanted_k, -1)
            if k_next < 0:
                break
    return out


def terms(text: str) -> list[str]:
    """Just the terms of ``text`` (the indexing fast path: same terms as ``tokenize``)."""
    out: list[str] = []
    extend = out.extend
    for surface in _TOKEN_RE.findall(text):
        extend(analyze_word(surface))
    return out


class TermIds:
    """Passage texts -> term ids, for indexing many passages.

    One object serves a whole indexing process (a worker builds many chunks): each distinct
    word is analysed once for its life (up to ``max_words`` words are kept) and its terms get
    ids of this object (``terms`` in the order they were met). :meth:`chunk` then numbers a
    chunk's terms in order of first appearance (the order rank-bm25's dictionaries have, which
    its idf average depends on). With the compiled helpers (bot/_native.c) the per-word work
    is one C pass; without them, ``map``/``chain`` and numpy."""

    def __init__(self, max_words: int = 2_000_000) -> None:
        self.vocab: dict[str, int] = {}  # term -> id
        self.terms: list[str] = []  # id -> term
        self.surfaces: dict[str, tuple[int, ...]] = {}  # word -> its terms' ids
        self.max_words = max_words
        self._table = None  # the compiled pass's (bot/_native.c) word -> ids table
        self.name = uuid.uuid4().hex  # tells this object's ids from another's

    def _add(self, word: str) -> tuple[int, ...]:
        vocab, terms = self.vocab, self.terms
        ids = []
        for t in analyze_word.__wrapped__(word):
            i = vocab.get(t)
            if i is None:
                i = vocab[t] = len(terms)
                terms.append(t)
            ids.append(i)
        return tuple(ids)

    def chunk(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
        """A chunk of texts: the ids (of this object) of its terms in order of first
        appearance (chunk ids are positions in this array), the texts' chunk term ids one after
        another, each text's number of ids, and the words first seen by this object in this
        chunk that are one term, with its chunk id."""
        if _native is not None:
            return self._chunk_compiled(texts)
        surfaces = self.surfaces
        once: dict[str, tuple[int, ...]] = {}  # analysed for this chunk only (the cache is full)
        one_term: dict[str, int] = {}
        words_of = [_TOKEN_RE.findall(text) for text in texts]
        for w in dict.fromkeys(chain.from_iterable(words_of)):  # in order of first appearance
            if w in surfaces:
                continue
            ids = self._add(w)
            if len(surfaces) < self.max_words:
                surfaces[w] = ids
            else:
                once[w] = ids
            if len(ids) == 1:
                one_term[w] = ids[0]
        get = ChainMap(surfaces, once).__getitem__ if once else surfaces.__getitem__
        per_text = [list(chain.from_iterable(map(get, words))) for words in words_of]
        lens = np.fromiter(map(len, per_text), dtype=np.int32, count=len(per_text))
        ids = np.fromiter(chain.from_iterable(per_text), dtype=np.int32, count=int(lens.sum()))
        # renumber: the chunk's terms in order of first appearance
        uniq, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
        by_first = np.argsort(first, kind="stable")
        rank = np.empty(uniq.shape[0], dtype=np.int32)
        rank[by_first] = np.arange(uniq.shape[0], dtype=np.int32)
        own = np.fromiter(one_term.values(), dtype=np.int64, count=len(one_term))
        own_chunk = rank[np.searchsorted(uniq, own)].tolist()
        order = uniq[by_first].astype(np.int32)
        return order, rank[inverse.reshape(-1)], lens, dict(zip(one_term, own_chunk, strict=True))

    def _chunk_compiled(
        self, texts: list[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
        """:meth:`chunk` in one compiled pass (bot/_native.c): the words' ids are kept in a C
        table (``surfaces`` stays empty), ASCII texts are tokenized without the regex, and the
        renumbering is one linear pass. Same results, tested."""
        if self._table is None:
            self._table = _native.WordTable(self.max_words)
        table = self._table
        once: dict[str, tuple[int, ...]] = {}  # analysed for this chunk only (the table is full)
        one_term: dict[str, int] = {}

        def miss(w: str) -> tuple[int, ...]:
            ids = once.get(w)
            if ids is None:
                ids = self._add(w)
                if table.full:
                    once[w] = ids
                if len(ids) == 1:
                    one_term[w] = ids[0]
            return ids

        ids_b, lens_b = table.chunk_ids(texts, miss, _TOKEN_RE.findall)
        order_b, local_b, where_b = _native.first_appearance(ids_b, len(self.terms))
        where = np.frombuffer(where_b, dtype=np.int32)
        own = np.fromiter(one_term.values(), dtype=np.int64, count=len(one_term))
        return (
            np.frombuffer(order_b, dtype=np.int32),
            np.frombuffer(local_b, dtype=np.int32),
            np.frombuffer(lens_b, dtype=np.int32),
            dict(zip(one_term, where[own].tolist(), strict=True)),
        )
