"""Question -> query plan: chat clean-up, spelling, irregular forms, expansion, answer type.

The plan is what the ranking and the evidence checks of ``search.py`` work from. Steps, in order:

1. **Clean-up** (once, for every front end): control and format characters dropped, @mentions,
   a leading ``/ask`` (or any bot command) and links removed; chat shorthand read as the words it
   stands for (``r`` -> are, ``b4`` -> before, ``w`` -> with).
2. **Words**: analysed as passages are (``analysis.py``); greetings, politeness and talk about
   the chat or the articles ("hey bot", "can someone tell me", "according to the article")
   weigh nothing.
3. **Spelling**: a word the corpus does not know that is not common English is read as the
   closest corpus word (``spelling.py``).
4. **Irregular forms** (met ~ meet, bought ~ buy) from a lemma table made with lemminflect.
5. **Expansion**: the synonym table and the nearest words by static MiniLM word vectors
   (``lexicon.py``) add the corpus's own words for the question's, weighted by similarity.
6. **Answer type**: what kind of span answers the question (date, number, person, place, long
   form, yes/no), used for evidence and excerpt choice.

Each question word keeps its own bit: a passage "holds" a word when any of its terms occurs in it,
and the credit it gets is that term's weight (1 for the word itself, less for expansions).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache, partial
from pathlib import Path

from .analysis import _TOKEN_RE, STOPWORDS, analyze_word
from .features import DEFAULT, Features
from .lexicon import (
    irregular_forms_of,
    neighbours,
    number_forms,
    phrase_synonyms,
    specificity,
    synonyms,
    zipf,
)
from .spelling import COMMON_ZIPF

MAX_QUESTION_CHARS = 2000
MAX_QUERY_WORDS = 32  # a 5000-word message is cut to its first words before ranking

CORRECTION_CREDIT = 0.9
COMPLETION_CREDIT = 0.8
IRREGULAR_CREDIT = 1.0
SYNONYM_CREDIT = 0.6
NEIGHBOUR_MIN_SIM = 0.62  # nearest words below this similarity are not used
NEIGHBOUR_MIN_WEIGHT = 1.5
EXPANSION_BM25_SHARE = 0.6  # an expansion's BM25 weight is its credit times this
SELECTOR_WEIGHT = 0.4  # words that say which article is meant ("the Hicks readout")
CONTEXT_WEIGHT = 0.5  # words a follow-up carries from earlier turns (conversation.py)
MAX_CONTEXT_WORDS = 16  # word bits: at most MAX_QUERY_WORDS + this < 63
# a message whose words weigh less than this together has nothing to look up
CHITCHAT_MAX_WEIGHT = 2.5
READINGS_KEPT = 1 << 14  # distinct question words whose reading is kept (questions repeat words)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Chat shorthand (general English, not the articles'): read as the words it stands for.
SHORTHAND = {
    "r": "are", "u": "you", "ur": "your", "n": "and", "w": "with", "w/": "with", "b4": "before",
    "abt": "about", "wat": "what", "wats": "what's", "whats": "what's", "wht": "what",
    "wich": "which", "wen": "when", "whn": "when", "hw": "how", "y": "why", "pls": "please",
    "plz": "please", "thx": "thanks", "ty": "thanks", "mtg": "meeting", "convo": "conversation",
    "yrs": "years", "yr": "year", "rite": "right", "tho": "though", "ppl": "people",
    "govt": "government", "gov": "government", "intl": "international", "info": "information",
    "bc": "because", "coz": "because", "cuz": "because", "msg": "message", "abt.": "about",
    "dept": "department", "nat'l": "national", "natl": "national", "2day": "today",
    "tmrw": "tomorrow", "im": "i'm", "dont": "don't", "didnt": "didn't", "doesnt": "doesn't",
    "isnt": "isn't", "wasnt": "wasn't", "cant": "can't", "wont": "won't", "gonna": "going to",
    "wanna": "want to", "gotta": "got to", "kinda": "kind of", "sorta": "sort of", "vs": "versus",
    "acc": "according", "acc.": "according", "q": "question", "qn": "question",
    "1st": "first", "2nd": "second", "3rd": "third", "4th": "fourth", "5th": "fifth",
    "6th": "sixth", "7th": "seventh", "8th": "eighth", "9th": "ninth", "10th": "tenth",
}  # fmt: skip
HINGLISH_FILE = Path(__file__).with_name("data") / "hinglish.tsv"


def _hinglish() -> dict[str, str]:
    """Romanized Hindi function and question words (``data/hinglish.tsv``): the English they
    stand for, or nothing."""
    out = {}
    for line in HINGLISH_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            word, _, english = line.partition("\t")
            out[word.strip().lower()] = english.strip()
    return out


HINGLISH = _hinglish()


@cache
def _chat_words(shorthand: bool, hinglish: bool) -> dict[str, str]:
    """The words read as others: chat shorthand, romanized Hindi, both or neither."""
    return {**(SHORTHAND if shorthand else {}), **(HINGLISH if hinglish else {})}


# Talk about the chat, the bot or the articles, greetings and politeness: never content.
FRAMING_WORDS = _words(
    """
    according hi hey hello hiya yo howdy greetings thanks thank cheers please pls plz lol lmao
    haha ok okay bot article articles story stories piece text news mention mentions mentioned
    exactly actually really exact precisely basically anyway someone somebody anybody anyone
    explain explained tell tells told show help wondering wonder curious remember recall read
    heard hear says say saying said question questions answer ask asking quick check checking
    sure maybe thing stuff whatever pretty btw fyi imo imho idk tbh ngl eli5 iirc afaik asap
    """
)


@dataclass(frozen=True, slots=True)
class _Shortcut:
    """A case-insensitive pattern with what every match of it holds: one of the lower-case
    strings ``needs`` matches (a pattern of literals). On ASCII text re.I folds A-Z only, so a
    match's words are there in the lower-cased text ``low``; where none is, the pattern is not
    looked for. Other text (``low`` None) is always looked at."""

    pattern: re.Pattern[str]
    needs: re.Pattern[str]

    def may_match(self, low: str | None) -> bool:
        return low is None or self.needs.search(low) is not None


def _lowered(q: str) -> str | None:
    """The lower-cased text :meth:`_Shortcut.may_match` reads; None for text not ASCII."""
    return q.lower() if q.isascii() else None


# phrases of the same kind (kept whole so their words need not be framing everywhere)
_FRAMING_PHRASES = re.compile(
    r"\b(?:(?:according|as per|per) (?:to )?(?:the )?(?:article|articles|story|piece|report|text)s?"
    r"|in (?:the|this|that|these|one of the) (?:article|articles|story|stories|piece|report)s?"
    r"|(?:can|could|would) (?:you|u|someone|anyone|somebody) (?:please )?(?:tell|show|explain)"
    r"(?: me| us)?|i (?:read|heard|saw) (?:somewhere )?(?:that )?|is it true(?: that)?"
    r"|do (?:any of )?(?:the|these) articles (?:say|mention)|i (?:want|need) to know)\b",
    re.I,
)
_FRAMING = _Shortcut(
    _FRAMING_PHRASES,
    re.compile("article|stor|piece|report|text|tell|show|explain|read|heard|saw|true|know"),
)

# A reference to one of the articles by what it is about: "in the Rajnath Singh piece", "the
# article about X and Y", "according to article of X meeting". Its words say which article is
# meant; the passage that answers need not repeat them.
_DOC_NOUN = r"(?:article|piece|story|stories|readout|report|write-?up|op-?ed)s?"
_NOT_A_NAME = r"(?:the|a|an|in|on|of|at|to|is|are|was|were|that|this|it|actually|really)"
_ARTICLE_REFERENCE = re.compile(
    r"\b(?:the|this|that|one of the)\s+((?:(?!"
    + _NOT_A_NAME
    + r"\b)[\w’'–-]+\s+){1,4}?)"
    + _DOC_NOUN
    + r"\b"
    r"|\b" + _DOC_NOUN + r"\s+(?:about|on|of)\s+((?:the\s+)?[\w’'–-]+(?:\s+[\w’'–-]+){0,3})",
    re.I,
)
_REFERENCE = _Shortcut(
    _ARTICLE_REFERENCE, re.compile("article|piece|stor|readout|report|write|op-?ed")
)

_MENTION = re.compile(r"(?<![\w@])@[A-Za-z]\w{2,31}\b")
_COMMAND = re.compile(r"^\s*/[A-Za-z]\w{0,31}(?:@\w+)?(?=\s|$)")
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.I)
_COMMANDS = _Shortcut(_COMMAND, re.compile("/"))
_MENTIONS = _Shortcut(_MENTION, re.compile("@"))
_URLS = _Shortcut(_URL, re.compile(r"://|www\."))
_WORDISH = re.compile(r"[\w/'’.]+")


@dataclass(frozen=True, slots=True)
class QueryWord:
    """A content word of the question and what it stands for in the corpus."""

    surface: str
    terms: tuple[str, ...]  # the word's own index terms
    weight: float  # specificity: how much of the question's meaning it carries
    corrected: str | None = None  # the corpus word it was read as (spelling)
    # the word names which article is meant ("in the Hicks readout"), not what is asked
    selects_article: bool = False
    start: int = -1  # where it stands in the cleaned question (-1: carried from before)


@dataclass(slots=True)
class QueryPlan:
    """The analysed question: its content words and the weighted terms to score."""

    text: str = ""  # the cleaned question
    words: list[QueryWord] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)  # term ids to score
    masks: list[int] = field(default_factory=list)  # word bits each id stands for
    weights: list[float] = field(default_factory=list)  # BM25 weight of each id
    # evidence credit of a term for a word: (term id, word bit) -> credit
    word_credits: dict[tuple[int, int], float] = field(default_factory=dict)
    highlight_terms: dict[str, float] = field(default_factory=dict)  # index terms -> weight
    answer_type: str | None = None
    chitchat: bool = False
    own_words: int = 0  # the first words are the message's; the rest were carried (context)
    # the index terms of the question's words (not their expansions): a name or place the
    # question gives itself is not its answer
    question_terms: frozenset[str] = frozenset()
    # words a confident answer must hold (bits): what the person of "who replaced X?" did
    required: int = 0
    # names a confident answer must hold by name, not by a related word (bits): whose words or
    # reaction "what did X say?" asks for (a neighbour of "China" is another country); "both
    # sides", "the report" are not names and need nothing
    speakers: int = 0
    # what "how many X?" counts: the terms of X and of its synonyms
    counted: frozenset[str] = frozenset()

    def add(self, tid: int, mask: int, weight: float, credit: float) -> None:
        rest = mask
        while rest:  # the set bits, lowest first
            low = rest & -rest
            key = (tid, low.bit_length() - 1)
            self.word_credits[key] = max(self.word_credits.get(key, 0.0), credit)
            rest ^= low
        if tid in self.ids:
            k = self.ids.index(tid)
            self.masks[k] |= mask
            self.weights[k] = max(self.weights[k], weight)
            return
        self.ids.append(tid)
        self.masks.append(mask)
        self.weights.append(weight)

    def holds(self, bit: int) -> bool:
        """Whether question word ``bit`` has any term in the corpus."""
        return any(m >> bit & 1 for m in self.masks)

    # the message asks something (a question word: "what was it about?"), whatever its words
    asks: bool = False

    @property
    def bare_question_word(self) -> bool:
        """A question of question words alone after an earlier question ("where?", "why?",
        "what was it about?"): it asks about the words carried from before."""
        return (
            self.own_words == 0 and bool(self.words) and (self.answer_type is not None or self.asks)
        )

    @property
    def own_terms_found(self) -> bool:
        """Whether any of the message's own words (not carried ones) is in the corpus; a
        message of a question word alone ("where?" after a question) asks about the words it
        carries."""
        if self.own_words == 0:
            return self.bare_question_word and bool(self.ids)
        own_bits = (1 << self.own_words) - 1
        return any(m & own_bits for m in self.masks)


# -- clean-up ---------------------------------------------------------------------------------


def strip_controls(question: str) -> str:
    """Drop control/format characters (RTL marks, zero-width) and cap the length."""
    head = question[:MAX_QUESTION_CHARS]
    if head.isascii() and head.isprintable():  # the common case: nothing to drop
        return " ".join(head.split())
    q = "".join(
        " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c
        for c in head
        if unicodedata.category(c) not in ("Cf", "Cs", "Co", "Cn")
    )
    return " ".join(q.split())


def clean_question(question: str, features: Features = DEFAULT) -> str:
    """The question as a person meant it: no command, mentions, links or shorthand (the
    clean-up steps ``features`` switches on)."""
    q = strip_controls(question)
    low = _lowered(q)  # (each step that changes the text reads it anew)
    for shortcut, gap in ((_COMMANDS, ""), (_MENTIONS, " "), (_URLS, " ")):
        if shortcut.may_match(low):
            q = shortcut.pattern.sub(gap, q)
            low = _lowered(q)
    words = _WORDISH.findall(low) if low is not None else map(str.lower, _WORDISH.findall(q))
    table = _chat_words(features.shorthand, features.hinglish)
    if table and not table.keys().isdisjoint(words):
        q = _WORDISH.sub(partial(_expand_shorthand, table), q)
        low = _lowered(q)
    return " ".join(q.split())


def _expand_shorthand(table: dict[str, str], m: re.Match[str]) -> str:
    w = m.group(0)
    low = w.lower()
    if low in table and not (w.isupper() and len(w) > 1):  # "US", "UN" are not shorthand
        return table[low]
    return w


def is_framing(surface: str) -> bool:
    return surface.lower().strip("'’") in FRAMING_WORDS


# -- answer types -----------------------------------------------------------------------------

_TYPE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("long_form", re.compile(r"\bstand(?:s|ing)? for\b|\bfull (?:form|name)\b|\babbreviat", re.I)),
    ("year", re.compile(r"\b(?:what|which|exact) year\b", re.I)),
    (
        "date",
        re.compile(
            r"^\W*(?:and )?(?:when|since when|until when|by when)\b|\b(?:what|which|exact) "
            r"(?:date|day|month|time)\b|\bwhen (?:was|were|did|is|will|do|does|exactly)\b"
            r"|\bhow long ago\b",
            re.I,
        ),
    ),
    ("amount", re.compile(r"\bhow much\b|\bwhat (?:price|amount|sum)\b|\bcost\b", re.I)),
    ("duration", re.compile(r"\bhow long\b|\bfor how many (?:years|months|weeks|days)\b", re.I)),
    ("count", re.compile(r"\bhow many\b|\bnumber of\b|\bhow old\b", re.I)),
    # "who is X?": X's title or role, the words beside X's name
    (
        "identity",
        re.compile(r"^\W*(?:and )?who(?:'s|’s| is| was)\s+(?:[\w.’'-]+\s*){1,4}\W*$", re.I),
    ),
    (
        "person",
        re.compile(
            r"^\W*(?:and )?(?:who|whom|whose)\b|\bwho (?:is|was|are|were)\b"
            r"|\b(?:by|with|to|from|for) whom\b",
            re.I,
        ),
    ),
    ("place", re.compile(r"^\W*(?:and )?where\b|\bwhere (?:is|was|are|were|did|do|will)\b", re.I)),
    (
        "reason",
        re.compile(
            r"^\W*(?:and )?why\b|\bfor what reason\b"
            r"|\bwhat (?:is|was|are|were) (?:behind|driving|causing|making)\b",
            re.I,
        ),
    ),
    (
        "purpose",
        re.compile(
            r"\b(?:set up|meant|designed|supposed|created|formed|launched) (?:to do|for)\b"
            r"|\bwhat (?:is|was|are|were) (?:it|they|\S+(?: \S+)?) for\b"
            r"|\bwhat does \S+(?: \S+)? do\b"
            r"|^\W*(?:what(?:'s| is| are)|whats) (?:the )?\S+(?: \S+)?\W*$|=\s*\W*(?:what|\?)",
            re.I,
        ),
    ),
    (
        "yesno",
        re.compile(
            r"^\W*(?:is|was|are|were|did|does|do|has|have|had|can|could|will|would)\b", re.I
        ),
    ),
]


# The same patterns matching ASCII only: on printable ASCII text (the common question) they
# find exactly what the Unicode ones find (\w, \s, \b and case are the same there), faster.
# Each is looked for only when the lower-cased question holds one of the words every match of
# the pattern holds (None: always); on ASCII text re.I folds A-Z only, so a match's words are
# there lower-cased.
_TYPE_NEEDS: dict[str, tuple[str, ...] | None] = {
    "long_form": ("stand", "full ", "abbreviat"),
    "year": ("year",),
    "date": ("when", "date", "day", "month", "time", " ago"),
    "amount": ("much", "price", "amount", "sum", "cost"),
    "duration": ("how long", "how many"),
    "count": ("how many", "number of", "how old"),
    "identity": ("who",),
    "person": ("who",),
    "place": ("where",),
    "reason": ("why", "reason", "behind", "driving", "causing", "making"),
    "purpose": ("for", "what", "=", "to do"),
    "yesno": None,
}
_TYPE_PATTERNS_ASCII = [
    (name, re.compile(pat.pattern, (pat.flags & ~re.UNICODE) | re.ASCII), _TYPE_NEEDS[name])
    for name, pat in _TYPE_PATTERNS
]
_QUESTION_WORD = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how)\b", re.I)
_LEADING_WORD = re.compile(r"^\W*([\w'’]+)\W*")
# a name is asked for, anywhere in the message ("which shipyards? need names", "what's the
# campaign called?", "the name of the exercise")
_NAME_REQUEST = re.compile(
    r"\bnames?\s+(?:of|pls|plz|please)\b|(?:^|[.?!]\s*)names?\b"
    r"|\b(?:the|its|their|his|her|any|need|want|give me|list)\s+(?:the\s+)?names?\b"
    r"|\bcalled\s*\W*$|\bcalled\s+what\b",
    re.I,
)
# "who replaced X?", "who's the director of X?": the word after "who" says what the person
# did or is; a passage without it names people who did or are something else
_WHO_ROLE = re.compile(
    r"^\W*(?:and\s+)?who(?:'s|’s|\s+(?:is|was|are|were|has|had))?\s+(?:(?:the|a|an)\s+)?"
    r"([\w’'-]+)",
    re.I,
)
# "what did X say about ...?", "how did X react?", "what was X's reaction?": X is whose words
# are asked for
_SPEAKER = re.compile(
    r"\b(?:what|how)\s+(?:did|does|do|has|have|had|will|would)\s+((?:[\w’'-]+\s+){1,5}?)"
    r"(?:say|said|think|tell|react|respond|view|feel|describe|make of)\b"
    r"|\b(?:what|how)\s+(?:was|is|were|are)\s+((?:[\w’'-]+\s+){0,4}?[\w’'-]+)(?:'s|’s)\s+"
    r"(?:reaction|response|view|views|stance|position|take|opinion|comments?|statement)\b",
    re.I,
)
_SPEAKERS = _Shortcut(
    _SPEAKER,
    re.compile(
        "say|said|think|tell|react|respon|view|feel|describe|make of|stance|position|take"
        "|opinion|comment|statement"
    ),
)


def answer_type(question: str, features: Features = DEFAULT) -> str | None:
    """The kind of span that answers ``question`` (None: any passage that covers it, or
    ``features.answer_types`` off); words that say nothing ("hey", "btw", "quick question:")
    before it are passed over (``features.framing``)."""
    if not features.answer_types:
        return None
    while (
        features.framing
        and (m := _LEADING_WORD.match(question))
        and is_framing(m.group(1))
        and m.end() < len(question)
    ):
        question = question[m.end() :]
    if not (question.isascii() and question.isprintable()):
        for name, pat in _TYPE_PATTERNS:
            if pat.search(question):
                return name
        return None
    low = question.lower()
    for name, pat, needs in _TYPE_PATTERNS_ASCII:
        if needs is not None:
            for word in needs:
                if word in low:
                    break
            else:
                continue  # no match can be there
        if pat.search(question):
            return name
    return None


# -- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """What the plan needs of the index: term ids, idf, and the corpus's own lexicon; and
    which heuristics read the question (``features``)."""

    vocab: Mapping[str, int]  # index term -> id (a read-only mapping once loaded)
    correct: Callable[[str], str | None]  # word -> the corpus word it misspells
    complete: Callable[[str], list[str]]  # clipped word -> corpus words it starts
    features: Features = DEFAULT
    # (surface, its terms) -> :func:`read_word`'s reading, each distinct word worked out once
    read: Callable[[str, tuple[str, ...]], Reading] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        read = lru_cache(maxsize=READINGS_KEPT)(partial(read_word, self))
        object.__setattr__(self, "read", read)


@dataclass(frozen=True, slots=True)
class Reading:
    """What one question word stands for in the corpus: the terms it is read as (a spelling
    correction's, else its own) and every index term it brings, in the order they are added
    to the plan."""

    terms: tuple[str, ...]
    corrected: str | None
    # (term id, term, BM25 weight, evidence credit, whether the weight is scaled by the word's
    # share: carried words weigh less)
    entries: tuple[tuple[int, str, float, float, bool], ...]


def read_word(lex: Vocabulary, surface: str, word_terms: tuple[str, ...]) -> Reading:
    """Spelling, irregular forms, synonyms, acronyms' long forms, clipped-word completion and
    vector neighbours of one question word, as index terms with weights and credits (those
    of the heuristics ``lex.features`` switches on)."""
    vocab = lex.vocab
    features = lex.features
    entries: list[tuple[int, str, float, float, bool]] = []

    def add(term: str, weight: float, credit: float, scaled: bool = False) -> None:
        tid = vocab.get(term)
        if tid is not None:
            entries.append((tid, term, weight, credit, scaled))

    terms = list(word_terms)
    corrected = None
    completed: list[str] = []
    if not any(t in vocab for t in terms) and len(terms) == 1:
        corrected = _correction(surface, lex) if features.spelling else None
        if corrected is not None:
            terms = [t for t in analyze_word(corrected) if t in vocab] or terms
        elif features.completion:  # a clipped word ("intel", "info") stands for the corpus
            completed = lex.complete(surface)  # words it starts
    credit = CORRECTION_CREDIT if corrected else 1.0
    for term in terms:
        add(term, credit, credit, scaled=True)
        if features.number_words:
            for other in number_forms().get(term, ()):  # "twenty" is "20", at full credit
                add(other, credit, credit, scaled=True)
        if features.irregular_forms:
            for other in irregular_forms_of(term):
                add(other, IRREGULAR_CREDIT, IRREGULAR_CREDIT)
        if features.synonyms:
            for st in synonyms().get(term, ()):
                add(st, SYNONYM_CREDIT * EXPANSION_BM25_SHARE, SYNONYM_CREDIT)
    # a clip stands for everyday words ("intel" -> intelligence), never for a name
    completed = [full for full in completed if zipf(full) >= COMMON_ZIPF]
    stems = {t for full in completed for t in analyze_word(full)}
    if len(stems) == 1:  # one word's forms ("tech" -> technology): an ambiguous prefix
        (t,) = stems  # ("count" -> country, counterpart) says too little to complete
        add(t, COMPLETION_CREDIT, COMPLETION_CREDIT, scaled=True)
    # words this common ("one", "make") have too many meanings to expand
    if features.word_neighbours and specificity(surface) >= NEIGHBOUR_MIN_WEIGHT:
        for nb_term, sim in _neighbour_terms(corrected or surface, tuple(terms)):
            nb_credit = _neighbour_credit(sim)
            add(nb_term, nb_credit * EXPANSION_BM25_SHARE, nb_credit)
    return Reading(tuple(terms), corrected, tuple(entries))


def make_plan(question: str, lex: Vocabulary, context: Sequence[str] = ()) -> QueryPlan:
    """The plan for ``question``. ``context`` (words a follow-up carries from earlier turns)
    joins as further words at :data:`CONTEXT_WEIGHT` of their weight, in ranking and in
    coverage, after the message's own; a term the message has keeps the message's weight.
    The heuristics that read it are those ``lex.features`` switches on."""
    features = lex.features
    q = clean_question(question, features)
    # the patterns below are looked for only where they may match (_Shortcut)
    low = _lowered(q)
    framing = features.framing
    if framing and _FRAMING.may_match(low):
        q = _FRAMING_PHRASES.sub(" ", q)
        low = _lowered(q)
    asking, background = _asking_and_background(q)
    kind = answer_type(asking, features) or (_name_request(q) if features.name_request else None)
    plan = QueryPlan(text=q, answer_type=kind)
    plan.asks = _QUESTION_WORD.search(asking) is not None
    vocab = lex.vocab
    # (start in the question or -1 for a carried word, surface, (terms, framing, specificity,
    # a stopword in capitals), share of its weight); a stopword in capitals
    # is a word only where the corpus has it so ("US"; not "WHEN DID THE" of a shouted question)
    groups = [
        (start, s, info, 1.0)
        for start, s, info in _words_of(q)
        if not (framing and info[1]) and not (info[3] and info[0][0] not in vocab)
    ]
    del groups[MAX_QUERY_WORDS:]
    n_own = len(groups)
    if context:
        own_terms = {t for _, _, info, _ in groups for t in info[0]}
        carried = [
            g
            for g in _words_of(" ".join(context))
            if not (framing and g[2][1]) and not (g[2][3] and g[2][0][0] not in vocab)
        ]
        for _, s, info in carried[:MAX_CONTEXT_WORDS]:
            if own_terms.isdisjoint(info[0]):
                groups.append((-1, s, info, CONTEXT_WEIGHT))
    selectors = (
        [m.span(1) if m.group(1) else m.span(2) for m in _ARTICLE_REFERENCE.finditer(q)]
        if features.article_references and _REFERENCE.may_match(low)
        else ()
    )
    all_terms: list[str] = []
    # what QueryPlan.add does, for the words' own readings (one bit each): the same lists and
    # dicts, filled in the same order
    words = plan.words
    ids, masks, weights = plan.ids, plan.masks, plan.weights
    word_credits, highlight = plan.word_credits, plan.highlight_terms
    where: dict[int, int] = {}  # term id -> its place in ids
    read = lex.read
    own_weights: list[float] = []
    compound = False
    for bit, (start, surface, info, share) in enumerate(groups):
        selects = False
        if selectors and any(a <= start < b for a, b in selectors):
            selects = True  # in ranking and in evidence alike
            share *= SELECTOR_WEIGHT
        weight = info[2] * share
        if background and any(a <= start < b for a, b in background):
            weight *= features.background_weight
        reading = read(surface, info[0])
        mask = 1 << bit
        terms = reading.terms
        words.append(_query_word(surface, terms, weight, reading.corrected, selects, start))
        all_terms.extend(terms)
        if bit < n_own:
            own_weights.append(weight)
            if not compound and len(terms) > 1 and terms[0] in vocab:
                compound = True
        for tid, term, w, credit, scaled in reading.entries:
            if scaled:
                w = w * share
            key = (tid, bit)
            old = word_credits.get(key, 0.0)
            word_credits[key] = credit if credit > old else old
            k = where.get(tid)
            if k is None:
                where[tid] = len(ids)
                ids.append(tid)
                masks.append(mask)
                weights.append(w)
            else:
                masks[k] |= mask
                old = weights[k]
                weights[k] = w if w > old else old
            old = highlight.get(term, 0.0)
            highlight[term] = w if w > old else old
    plan.own_words = n_own
    # phrases of the synonym table ("every year" -> annual)
    present = set(all_terms)
    if features.synonyms and not present.isdisjoint(_phrase_heads()):
        for phrase, single in phrase_synonyms():
            if phrase[0] in present and _find_phrase(all_terms, phrase) >= 0 and single in vocab:
                _add_expansion(plan, vocab, single, _bits_for(plan.words, phrase), SYNONYM_CREDIT)
    plan.question_terms = frozenset(all_terms)
    if features.who_role and plan.answer_type in ("person", "identity"):
        plan.required = _role_word(plan, asking)
    # (the asking sentence is part of q: what it holds, q holds)
    if features.speaker_names and _SPEAKERS.may_match(low):
        plan.speakers = _speaker_words(plan, asking)
    if features.count_subject and plan.answer_type == "count":
        plan.counted = _counted(asking)
    # nothing specific to look up ("thanks, that's what I needed", "hi"): chit-chat
    # (a specific question the articles don't cover is not chit-chat: "the articles don't say")
    own = sum(own_weights)
    # ... nor is a compound the articles use ("co-production"), however common its parts
    # ... but a question word alone after an earlier question ("where?") asks about it
    plan.chitchat = (n_own == 0 and not plan.bare_question_word) or (
        n_own == len(words) and own < CHITCHAT_MAX_WEIGHT and not compound
    )
    return plan


@cache
def _phrase_heads() -> frozenset[str]:
    """The first terms of the synonym table's phrases."""
    return frozenset(phrase[0] for phrase, _ in phrase_synonyms())


_WordInfo = tuple[tuple[str, ...], bool, float, bool]
_WORD_INFO: dict[str, _WordInfo] = {}  # surface -> _word_info(surface), for up to READINGS_KEPT


def _word_info(surface: str) -> _WordInfo:
    """What the plan needs of one word by itself: its distinct terms (in order), whether it is
    framing, its specificity, and whether it is a stopword written in capitals or dotted ("US",
    "U.S.": analysed as an acronym)."""
    ts = analyze_word(surface)
    if not ts:
        return ts, False, 0.0, False
    if len(ts) > 1:
        ts = tuple(dict.fromkeys(ts))
    capital_stopword = len(ts) == 1 and ts[0] in STOPWORDS
    return ts, is_framing(surface), specificity(surface), capital_stopword


_new_word = partial(object.__new__, QueryWord)
_SET_WORD = tuple(
    getattr(QueryWord, f).__set__
    for f in ("surface", "terms", "weight", "corrected", "selects_article", "start")
)


def _query_word(
    surface: str,
    terms: tuple[str, ...],
    weight: float,
    corrected: str | None,
    selects: bool,
    start: int,
) -> QueryWord:
    """``QueryWord(surface, terms, weight, corrected, selects, start)``, built without the
    frozen dataclass's ``__init__`` (one object.__setattr__ call per field)."""
    w = _new_word()
    s0, s1, s2, s3, s4, s5 = _SET_WORD
    s0(w, surface)
    s1(w, terms)
    s2(w, weight)
    s3(w, corrected)
    s4(w, selects)
    s5(w, start)
    return w


_PAST_FORM = re.compile(r"\w{3}ed$", re.I)
_HOW_MANY = re.compile(r"\bhow many\s+((?:[\w’'-]+\s*){1,3})", re.I)


def _counted(asking: str) -> frozenset[str]:
    """The terms of what "how many X" counts (X: the words up to the first function word), with
    their synonyms; empty when the question says nothing to count ("how many?")."""
    m = _HOW_MANY.search(asking)
    if m is None:
        return frozenset()
    out: set[str] = set()
    for k, word in enumerate(m.group(1).split()):
        word_terms = analyze_word(word)
        if not word_terms or (k and _PAST_FORM.search(word)):
            break  # a function word or a verb ("how many boats joined") ends what is counted
        for t in word_terms:
            out.add(t)
            out.update(synonyms().get(t, ()))
            out.update(irregular_forms_of(t))
    return frozenset(out)


def _name_request(q: str) -> str | None:
    low = q.lower()
    if "name" not in low and "called" not in low:  # the common case, without the pattern
        return None
    return "name" if _NAME_REQUEST.search(q) else None


def _role_word(plan: QueryPlan, asking: str) -> int:
    """The bit of the word that says what the person of a "who" question did or is."""
    if plan.answer_type not in ("person", "identity"):
        return 0
    m = _WHO_ROLE.match(asking)
    if m is None:
        return 0
    role = m.group(1).casefold()
    for bit, w in enumerate(plan.words[: plan.own_words]):
        if w.surface.casefold() == role:
            return 1 << bit
    return 0  # a function word ("who was at ..."): nothing in particular


def _speaker_words(plan: QueryPlan, asking: str) -> int:
    """The bits of the names that say whose words or reaction the question asks for."""
    m = _SPEAKER.search(asking)
    if m is None:
        return 0
    a, b = m.span(1) if m.group(1) else m.span(2)
    start = plan.text.find(asking)  # the asking sentence's place in the cleaned question
    bits = 0
    for bit, w in enumerate(plan.words[: plan.own_words]):
        if start + a <= w.start < start + b and w.surface[:1].isupper():
            bits |= 1 << bit
    return bits


def _add_term(
    plan: QueryPlan, vocab: Mapping[str, int], term: str, mask: int, weight: float, credit: float
) -> None:
    tid = vocab.get(term)
    if tid is None or not mask:
        return
    plan.add(tid, mask, weight, credit)
    plan.highlight_terms[term] = max(plan.highlight_terms.get(term, 0.0), weight)


def _add_expansion(
    plan: QueryPlan, vocab: Mapping[str, int], term: str, mask: int, credit: float
) -> None:
    _add_term(plan, vocab, term, mask, credit * EXPANSION_BM25_SHARE, credit)


def _neighbour_credit(sim: float) -> float:
    # similarity at the floor -> 0.3 of the word's weight, 0.9 and above -> 0.9
    return min(0.9, 0.3 + (sim - NEIGHBOUR_MIN_SIM) / (0.9 - NEIGHBOUR_MIN_SIM) * 0.6)


@lru_cache(maxsize=50_000)
def _neighbour_terms(surface: str, own: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    """Index terms of the words nearest to ``surface`` (vectors), not the word's own."""
    out: list[tuple[str, float]] = []
    for word, sim in neighbours(surface.lower()):
        if sim < NEIGHBOUR_MIN_SIM:
            break
        # (the table is lower-case: a stopword near "america" is the acronym "US")
        ts = analyze_word(word) or analyze_word(word.upper())
        if len(ts) != 1 or ts[0] in own or any(ts[0] == t for t, _ in out):
            continue
        out.append((ts[0], sim))
    return tuple(out)


def _correction(surface: str, lex: Vocabulary) -> str | None:
    w = surface.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if zipf(w) >= COMMON_ZIPF:
        return None  # a real English word is not a typo
    return lex.correct(w)


def content_words(q: str) -> list[tuple[int, str, list[str]]]:
    """Content words of the question: (start, surface, its distinct terms), overlapping spans
    merged, repeats dropped."""
    return [(start, s, list(info[0])) for start, s, info in _words_of(q)]


def _words_of(q: str) -> list[tuple[int, str, _WordInfo]]:
    """:func:`content_words` with each word's :func:`_word_info`. The tokenizer's matches do
    not overlap, so the tokens of one word (one match, one span) are each span's terms."""
    out = []
    seen: set[tuple[str, ...]] = set()
    known = _WORD_INFO.get
    for m in _TOKEN_RE.finditer(q):
        surface = m.group()
        info = known(surface)
        if info is None:
            if len(_WORD_INFO) >= READINGS_KEPT:
                _WORD_INFO.clear()
            info = _WORD_INFO[surface] = _word_info(surface)
        ts = info[0]
        if ts and ts not in seen:
            seen.add(ts)
            out.append((m.start(), surface, info))
    return out


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_ASKING = re.compile(r"\?|^\W*(?:who|whom|whose|what|when|where|which|why|how)\b", re.I)


def _sentences(q: str) -> list[tuple[int, int]]:
    bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(q)] + [len(q)]
    return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if q[a:b].strip()]


def _asking_sentence(q: str) -> str:
    """The sentence that asks (the last one with a question mark or a question word), whose
    form says what kind of answer is wanted; the whole message when none does."""
    asking = [q[a:b] for a, b in _sentences(q) if _ASKING.search(q[a:b])]
    return asking[-1].strip() if asking else q


def _asking_and_background(q: str) -> tuple[str, Sequence[tuple[int, int]]]:
    """:func:`_asking_sentence` and :func:`_background_starts` of ``q``."""
    body = q[:-1]
    if "." not in body and "!" not in body and "?" not in body:
        # one sentence (a sentence ends at . ! or ? followed by space and more): no background
        return (q.strip() if "?" in q or _ASKING.search(q) else q), ()
    return _asking_sentence(q), _background_starts(q)


def _background_starts(q: str) -> list[tuple[int, int]]:
    """Spans of the sentences of a several-sentence message that do not ask anything, when
    another one does ("Doing an assignment on X. When was Y?"): their words are background."""
    sentences = _sentences(q)
    if len(sentences) < 2:
        return []
    asking = [bool(_ASKING.search(q[a:b])) for a, b in sentences]
    if not any(asking):
        return []
    return [span for span, ask in zip(sentences, asking, strict=True) if not ask]


def _find_phrase(seq: list[str], phrase: tuple[str, ...]) -> int:
    n = len(phrase)
    for i in range(len(seq) - n + 1):
        if tuple(seq[i : i + n]) == phrase:
            return i
    return -1


def _bits_for(words: list[QueryWord], wanted: tuple[str, ...] | list[str]) -> int:
    bits = 0
    for bit, w in enumerate(words):
        if any(t in wanted for t in w.terms):
            bits |= 1 << bit
    return bits
