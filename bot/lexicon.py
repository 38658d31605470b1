"""General-language knowledge the articles cannot teach: word specificity and synonyms.

- ``specificity(word)``: how much of a question's meaning a word carries, from its frequency in
  general English (``data/english_zipf.tsv``, from wordfreq): ``7 - zipf``, so "use" (5.8) weighs
  1.2 and "carbonara" (2.3) 4.7; words rarer than the table (names, jargon) weigh 6.
- ``synonyms()``: small groups of interchangeable general English words (talks ~ discussion,
  start ~ began, annual ~ every year): no thing, name or role of any corpus. Questions are
  paraphrases; these let BM25 see the article's wording.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from .analysis import terms
from .dates import NUMBER_NAMES

_ZIPF_FILE = Path(__file__).with_name("data") / "english_zipf.tsv"
RARE_ZIPF = 1.0
WORD_CACHE = 1 << 16  # words whose frequency and specificity are kept once looked up
MIN_WEIGHT = 0.3
SMALL_NUMBER_WEIGHT = 2.0
NUMBER_WEIGHT = 4.0

# Groups of general English words used interchangeably (verbs, abstract nouns, adjectives; no
# thing, name or role of any corpus). A hyphenated entry stands for its words: a phrase when
# they are several terms ("every-year"), else the one term ("kick-off": kick, "off" a stopword).
_GROUPS = """
start begin began begun beginning commence launch kick-off inaugurate open
talks talk discussion discussions discuss discussed conversation dialogue negotiation
ties relations relationship relationships bond
thank thanked thanks gratitude grateful appreciation appreciate
remark remarked remarks comment comments
praise praised commend commended laud hail hailed
greet greeted welcome welcomed receive received host hosted
annual annually yearly every-year each-year
buy bought purchase purchased procure procurement acquire acquisition
sell sold sale sales export exports
agreement agreements pact pacts accord accords treaty treaties deal deals
help helped assist assistance support aid backing
country countries nation nations
goal goals aim aims objective objectives purpose target
important crucial vital key critical significant pivotal
strengthen strengthened bolster bolstering reinforce reinforcing enhance enhancing boost deepen
produce produced production manufacture manufacturing
develop developed development
threat threats danger risk risks
war conflict conflicts
leader leaders head
company companies firm firms business businesses startup startups
cooperation collaboration collaborate cooperate partnership
visit visited trip tour
join joined participate participating participation take-part engage engaging
increase increased rise grow growing expand expanding expansion
decrease reduce reduced cut lower
repair repaired repairs fix fixed fixing mend
sign signed ink inked
""".strip()


def _build_synonyms() -> dict[str, tuple[str, ...]]:
    table: dict[str, set[str]] = {}
    for line in _GROUPS.splitlines():
        members = [w.replace("-", " ") for w in line.split()]
        analysed = [tuple(terms(m)) for m in members]
        group = {t for a in analysed for t in a}
        for a in analysed:
            if len(a) == 1:
                table.setdefault(a[0], set()).update(group - {a[0]})
    return {k: tuple(sorted(v)) for k, v in table.items()}


@cache
def synonyms() -> dict[str, tuple[str, ...]]:
    """Term -> the other terms of its synonym groups, sorted (a question's terms come in the
    same order in every process, so its BM25 sums do too)."""
    return _build_synonyms()


@cache
def phrase_synonyms() -> list[tuple[tuple[str, ...], str]]:
    """Multi-word entries (analysed) and a one-word member of their group."""
    out: list[tuple[tuple[str, ...], str]] = []
    for line in _GROUPS.splitlines():
        members = [w.replace("-", " ") for w in line.split()]
        single = next((terms(m)[0] for m in members if len(terms(m)) == 1), None)
        for m in members:
            a = tuple(terms(m))
            if len(a) > 1 and single:
                out.append((a, single))
    return out


@cache
def _zipf() -> dict[str, str]:
    """Word -> its zipf*10 as written (made a number when asked for: converting all 29k at
    the first question took half of the table's load)."""
    try:
        text = _ZIPF_FILE.read_text(encoding="utf-8")
    except OSError:
        return {}
    # "word<TAB>zipf*10" lines after a comment line: one split, no per-line parsing
    fields = text[text.index("\n") + 1 :].split() if text.startswith("#") else text.split()
    return dict(zip(fields[0::2], fields[1::2], strict=True))


@lru_cache(maxsize=WORD_CACHE)
def zipf(word: str) -> float:
    w = word.lower().replace("’", "'")
    z = _zipf()
    if w in z:
        return int(z[w]) / 10
    if w.endswith("'s") and w[:-2] in z:
        return int(z[w[:-2]]) / 10
    # a plural the table lacks is as common as its singular ("pacts", "militaries")
    for cut, add in (("ies", "y"), ("es", ""), ("s", "")):
        if w.endswith(cut) and len(w) > len(cut) + 2 and w[: -len(cut)] + add in z:
            return int(z[w[: -len(cut)] + add]) / 10
    return RARE_ZIPF


@lru_cache(maxsize=WORD_CACHE)
def specificity(word: str) -> float:
    """Weight of a question word for deciding whether a passage answers the question."""
    parts = [p for p in re.split(r"[\s\-‐‑‒–—/+]+", word) if p]
    if not parts:
        return MIN_WEIGHT
    if all(p.isdigit() for p in parts):
        # a small number ("10 years") is as common as an everyday word; a year or a large
        # number says more; the frequency table has no digits
        return SMALL_NUMBER_WEIGHT if all(len(p) <= 2 for p in parts) else NUMBER_WEIGHT
    # a compound is as specific as its rarest part ("INDUS-X", "Singh-Hegseth")
    return max(MIN_WEIGHT, max(7.0 - zipf(p) for p in parts))


# -- numbers in words and in digits ------------------------------------------------------------


NUMBER_FORMS_FROM = 10


@cache
def number_forms() -> dict[str, tuple[str, ...]]:
    """Term -> the same number's other written form ("twenti" -> "20", "20" -> "twenti"), from
    ten up: the words of smaller numbers are more often determiners ("the two countries") than
    quantities, and "2" is also part of "2+2"."""
    table: dict[str, tuple[str, ...]] = {}
    for word, value in NUMBER_NAMES.items():
        if value < NUMBER_FORMS_FROM:
            continue
        (t,) = terms(word) or (None,)
        if t is not None:
            table[t] = (str(value),)
            table[str(value)] = (t,)
    return table


# -- irregular forms (tools/make_lemma_table.py) ------------------------------------------------

_IRREGULAR_FILE = _ZIPF_FILE.with_name("irregular_forms.txt")


@cache
def irregular_forms() -> dict[str, tuple[str, ...]]:
    """Term -> the other terms of its lemma's forms (met -> meet, bought -> buy), sorted: the
    whole table (tests, tools); the question path asks :func:`irregular_forms_of` instead."""
    table: dict[str, set[str]] = {}
    for line in _irregular_lines()[0]:
        group = {t for w in line.split() for t in terms(w)}
        for t in group:
            table.setdefault(t, set()).update(group - {t})
    return {k: tuple(sorted(v)) for k, v in table.items()}


@cache
def _irregular_lines() -> tuple[list[str], dict[str, tuple[int, ...]]]:
    """The table's groups, and which groups hold a word starting with each letter (a term
    starts with its words' letter, also when spelling is made American, "tyre" -> tire):
    analysing all 6,000 words at the first question cost 30 ms)."""
    try:
        text = _IRREGULAR_FILE.read_text(encoding="utf-8")
    except OSError:
        return [], {}
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    by_start: dict[str, set[int]] = {}
    for i, line in enumerate(lines):
        for w in line.split():
            by_start.setdefault(w[:1].lower(), set()).add(i)
    return lines, {k: tuple(sorted(v)) for k, v in by_start.items()}


@lru_cache(maxsize=WORD_CACHE)
def irregular_forms_of(term: str) -> tuple[str, ...]:
    """The other terms of ``term``'s lemma's forms, sorted (met -> meet): what
    :func:`irregular_forms` says of it, from the few groups that can hold it."""
    return _irregular_by_start(term[:1]).get(term, ())


@cache
def _irregular_by_start(letter: str) -> dict[str, tuple[str, ...]]:
    """:func:`irregular_forms` for the terms of the groups that hold a word starting with
    ``letter``: worked out once per letter (a few hundred words, about a millisecond), not
    once per question word that is not in the table (every group of its letter analysed again:
    0.24 ms for each new word a question brings)."""
    lines, by_start = _irregular_lines()
    table: dict[str, set[str]] = {}
    for i in by_start.get(letter, ()):
        group = {t for w in lines[i].split() for t in terms(w)}
        for t in group:
            table.setdefault(t, set()).update(group - {t})
    return {t: tuple(sorted(v)) for t, v in table.items()}


# -- static word vectors (tools/make_word_vectors.py) -------------------------------------------

_VECTOR_WORDS_FILE = _ZIPF_FILE.with_name("word_vectors.txt")
_NEIGHBOURS_FILE = _ZIPF_FILE.with_name("word_neighbours.npy")
_NEIGHBOUR_SIMS_FILE = _ZIPF_FILE.with_name("word_neighbour_sims.npy")
DATA_FILES = (_ZIPF_FILE, _IRREGULAR_FILE, _VECTOR_WORDS_FILE, _NEIGHBOURS_FILE)


class VectorWords:
    """The words of the vector table (one a line, in row order), without a Python object per
    word: a row's word is decoded when asked for, and a word's row found by binary search in
    a sorted byte array."""

    def __init__(self, data: bytes) -> None:
        from .spelling import Lines

        self.words = Lines(data.rstrip(b"\n"))
        keys = np.array(data.split(), dtype=bytes)
        self._order = np.argsort(keys, kind="stable").astype(np.int32)
        self._keys = keys[self._order]

    def __len__(self) -> int:
        return len(self.words)

    def row(self, word: str) -> int | None:
        b = word.encode("utf-8", "surrogatepass")
        if len(b) > self._keys.dtype.itemsize:
            return None
        i = int(self._keys.searchsorted(b))
        if i < self._keys.shape[0] and self._keys[i] == b:
            return int(self._order[i])
        return None


@cache
def _vector_words() -> VectorWords | None:
    try:
        return VectorWords(_VECTOR_WORDS_FILE.read_bytes())
    except (OSError, ValueError):
        return None


@cache
def _neighbour_arrays() -> tuple[np.ndarray, np.ndarray] | None:
    try:
        ids = np.load(_NEIGHBOURS_FILE, mmap_mode="r", allow_pickle=False)
        sims = np.load(_NEIGHBOUR_SIMS_FILE, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return None
    words = _vector_words()
    if words is None or ids.shape != sims.shape or ids.shape[0] != len(words):
        return None
    return ids, sims


def neighbours(word: str) -> list[tuple[str, float]]:
    """The English words nearest to ``word`` by static MiniLM vectors, with cosine similarity,
    best first ([] for a word the table does not have)."""
    words = _vector_words()
    arrays = _neighbour_arrays()
    row = words.row(word.lower()) if words is not None else None
    if row is None or arrays is None or words is None:
        return []
    ids, sims = arrays
    return [
        (words.words[int(i)], int(s) / 100)
        for i, s in zip(ids[row].tolist(), sims[row].tolist(), strict=True)
    ]
