"""Follow-up questions: which earlier words a new message is read with.

One set of rules for every front end (console chat, ``ask --conversation``, the evaluation of
conversation files, the Telegram bot). A chat remembers one :class:`Context`: the words of its
last question that the articles answered with, and when it was asked. A new message carries
those words only when it needs them:

- it is short and refers back: a personal pronoun with no topic word of the message before
  it ("when was *it* signed?", but not "what did Hegseth say about *his* visit?"), a
  demonstrative in a message without a topic word ("was *that* in person?"), an ellipsis
  ("*and* DIU?", "*what about* the navy?"), "else" ("who *else* was there?": searched without
  the word, the names carried are then not its answer) or a count without its noun ("how
  many *did* they buy?");
- or it has too little of its own to search with: none of its words names a topic and together
  they weigh little ("which systems exactly?", not "What US weapons does India have?"). A
  topic word is specific in English (``lexicon.specificity``) and either found in at most a
  quarter of the passages (BM25 idf) or not in the corpus at all.

"Tell me more" ("more on that", "go on", "what else?") continues the last answer's best quote in
its article (``continuation.py``): the rest of its passage, then the passages after it, skipping
those already quoted; "more" again goes on from there. The context keeps the quotes' places
for that (:class:`continuation.Quote`).

A self-contained question is read on its own, even right after another. Carried words never
override the message's own: a word the message has is not carried, and in an ellipsis each new
word takes the place of the last earlier word of its kind -- a number or ordinal, a topic
word, another word -- else of the last one ("What is iDEX?" then "and DIU?" asks about DIU
alone; "the third summit" then "and the first one?" about the first summit). A message of
question words and pronouns alone ("what was it about?") asks about the carried words; without
a question word ("thanks for that!") it is chit-chat, which keeps the topic. The search ranks
carried words at reduced weight and never counts them as the question's content
(``query.make_plan``). Context expires after :data:`CONTEXT_TTL` seconds; ``/new`` and
``/start`` forget it.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from .analysis import terms
from .continuation import Quote
from .dates import NUMBER_NAMES, ORDINAL_WORDS
from .excerpt import ELLIPSIS
from .lexicon import specificity
from .query import content_words, is_framing
from .search import Answer as SearchAnswer
from .search import Hit

CONTEXT_TTL = 600.0  # seconds a chat's last question stays the context of the next message
RESET_COMMANDS = ("/new", "/start")
MAX_CARRIED = 8  # words carried at most (the oldest are dropped first)
SHORT_MESSAGE = 4  # content words at most for a message that refers back to be a follow-up
# A topic word is specific in English and picks out few passages of the corpus.
TOPIC_SPECIFICITY = 3.0
TOPIC_MAX_SHARE = 0.25  # ... and is found in at most this share of the passages
# A message without a topic word is too thin to search with alone when its content words weigh
# less than this together (lexicon.specificity: "systems" 1.9, "US" 1.0, "weapons" 2.2).
THIN_MAX_WEIGHT = 4.0

# English function words that point back to something said before (grammar, not corpus words).
# Personal pronouns always point back; demonstratives ("that", "there") also introduce clauses
# and places ("Did X say that ..."), so they point back only in a message without a topic word.
_PERSONAL = frozenset(
    [
        "it",
        "its",
        "itself",
        "he",
        "him",
        "his",
        "himself",
        "she",
        "her",
        "hers",
        "herself",
        "they",
        "them",
        "their",
        "theirs",
        "themselves",
    ]
)
_DEMONSTRATIVE = frozenset(["that", "this", "these", "those", "there"])
_ELLIPSIS = re.compile(r"^\W*(?:and|also|or|but|(?:and\s+)?(?:what|how)\s+about)\b", re.I)
# "who else ...?": someone other than those named before (the words before point back; "else"
# itself is in no passage)
_ELSE = re.compile(
    r"\b(?:who|whom|what|where|which|when|any(?:one|body|thing|where)|some(?:one|body|thing|where))"
    r"(\s+else)\b",
    re.I,
)
# "how many did they buy?": a count of what was named before (the counted noun is left out)
_COUNT_BACK = re.compile(
    r"^\W*(?:and\s+|so\s+)?how\s+(?:many|much)\s+"
    r"(?:did|do|does|were|was|are|is|have|has|had|will|would|can|could)\b",
    re.I,
)
# "and the first one?": "one" stands for a word said before; it takes no word's place
_PROFORMS = frozenset(["one", "ones"])
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# "tell me more", "more on that", "go on", "what else?": the text that continues the last quote
# (English phrases, after politeness and fillers are dropped; not corpus words)
_FILLER = (
    r"(?:ok(?:ay)?|so|and|yes|yeah|great|thanks|thank you|please|pls|now"
    r"|(?:can|could|would) you)"
)
_ABOUT_IT = r"(?:\s+(?:on|about)\s+(?:that|this|it|them|those|him|her))?"
_MORE = re.compile(
    rf"(?:{_FILLER}\s+)*(?:"
    rf"(?:(?:tell|give|show|say)\s+(?:me\s+|us\s+)?)?(?:some\s+|a\s+bit\s+|a\s+little\s+)?"
    rf"more(?:\s+(?:details?|info|information|context))?{_ABOUT_IT}"
    r"|go\s+on|carry\s+on|continue|keep\s+going|and\s+then|then\s+what|what\s+next"
    r"|what\s+happen(?:s|ed)?\s+(?:next|then|after(?:wards?)?)|what\s+else|anything\s+else"
    rf"|elaborate{_ABOUT_IT}|expand{_ABOUT_IT}"
    r"|(?:tell\s+(?:me|us)\s+)?about\s+(?:that|this|it|them|those|him|her))"
    rf"(?:\s+{_FILLER})*",
    re.I,
)
MAX_QUOTED = 12  # quotes a chat remembers (a "more" skips them)


@dataclass(frozen=True, slots=True)
class Context:
    """What a chat remembers of its last question."""

    question: str
    words: tuple[str, ...]  # words a follow-up may carry, in question order
    at: float  # time.time() when it was asked
    # the quotes given for it, the one "more" continues after first (then those it skips)
    quoted: tuple[Quote, ...] = ()


@dataclass(frozen=True, slots=True)
class Reading:
    """How a message is read: its own text and the earlier words carried with it."""

    message: str
    carried: tuple[str, ...] = ()
    # "tell me more": what continues this quote (and passages not to give again)
    after: Quote | None = None
    skip: tuple[Quote, ...] = ()

    @property
    def note(self) -> str | None:
        """Interface text that shows the carried words ("Reading this with: LEMOA")."""
        if self.after is not None:
            return "Continuing after the last quote"
        return f"Reading this with: {' '.join(self.carried)}" if self.carried else None


@dataclass(frozen=True, slots=True)
class Answer:
    reading: Reading
    result: SearchAnswer  # confident hits, or related passages, or chit-chat
    context: Context  # what the chat remembers for its next message

    @property
    def hits(self) -> list[Hit]:
        return list(self.result.hits)


class ContextMemory(Protocol):
    """Where contexts are kept: a dict for the console, SQLite for the bot (state.py)."""

    def get(self, key: str) -> Context | None: ...
    def put(self, key: str, context: Context) -> None: ...
    def forget(self, key: str) -> None: ...


class MemoryContexts:
    """Contexts in a dict (console chat, ``ask --conversation``, evaluation)."""

    def __init__(self) -> None:
        self._items: dict[str, Context] = {}

    def get(self, key: str) -> Context | None:
        return self._items.get(key)

    def put(self, key: str, context: Context) -> None:
        self._items[key] = context

    def forget(self, key: str) -> None:
        self._items.pop(key, None)


def is_reset(message: str) -> bool:
    """``/new`` or ``/start`` (also as ``/new@BotName``): forget the context."""
    head = message.strip().split(maxsplit=1)[0].lower() if message.strip() else ""
    return head.split("@", 1)[0] in RESET_COMMANDS


def is_more(message: str) -> bool:
    """ "tell me more", "more on that", "go on", "what else?": asks for what comes next."""
    return bool(_MORE.fullmatch(" ".join(_WORD.findall(message))))


class Searchable(Protocol):
    def answer(
        self, question: str, top: int = 3, highlight: bool = True, context: Sequence[str] = ()
    ) -> SearchAnswer: ...

    def more(
        self,
        after: Quote,
        skip: Sequence[Quote] = (),
        words: str = "",
        top: int = 3,
        highlight: bool = True,
    ) -> SearchAnswer: ...

    def idf(self, term: str) -> float | None: ...

    @property
    def n_passages(self) -> int: ...


class _Word(NamedTuple):
    surface: str
    terms: tuple[str, ...]
    start: int  # offset in the text


def _content_words(text: str) -> list[_Word]:
    """The content words of ``text``, in order, once each (as the query plan reads them)."""
    return [_Word(surface, tuple(ts), start) for start, surface, ts in content_words(text)]


class ContextRules:
    """The rules above, with the corpus statistics they learn from (an engine's idf)."""

    def __init__(self, engine: Searchable) -> None:
        self.engine = engine
        self._min_idf: float | None = None

    def _topic_idf(self) -> float:
        """The BM25Okapi idf of a term found in ``TOPIC_MAX_SHARE`` of the passages."""
        if self._min_idf is None:
            n = self.engine.n_passages
            df = TOPIC_MAX_SHARE * n
            self._min_idf = math.log((n - df + 0.5) / (df + 0.5)) if n else 0.0
        return self._min_idf

    def is_topic_word(self, surface: str, word_terms: Sequence[str]) -> bool:
        """A word that names a topic of its own: specific in English, and either rare in the
        corpus or absent from it (a new subject the articles may not cover)."""
        if specificity(surface) < TOPIC_SPECIFICITY:
            return False
        known = [v for t in word_terms if (v := self.engine.idf(t)) is not None]
        return not known or max(known) >= self._topic_idf()

    def read(
        self,
        previous: Context | None,
        message: str,
        now: float,
        ttl: float | None = CONTEXT_TTL,
    ) -> Reading:
        """How to read ``message`` after ``previous`` (None, or older than ``ttl``: alone)."""
        if previous is None or not (previous.words or previous.quoted):
            return Reading(message)
        if ttl is not None and now - previous.at > ttl:
            return Reading(message)
        if previous.quoted and is_more(message):
            return Reading(message, previous.words, previous.quoted[0], previous.quoted[1:])
        own = _content_words(message)
        topics = [w.start for w in own if self.is_topic_word(w.surface, w.terms)]
        # too little to search with: no topic word, and little meaning in its words together
        # ("which systems exactly?", but not "What US weapons does India have?")
        weight = sum(specificity(w.surface) for w in own if not is_framing(w.surface))
        thin = not topics and weight < THIN_MAX_WEIGHT
        # a personal pronoun after a topic word of the message points to it, not back
        # ("What did Hegseth say about his meeting?"); demonstratives only in thin messages
        before = min(topics, default=len(message))
        pointer = any(
            (w := m.group(0).lower()) in _PERSONAL
            and m.start() < before
            or (thin and w in _DEMONSTRATIVE)
            for m in _WORD.finditer(message)
        )
        other = _ELSE.search(message)
        if other or _COUNT_BACK.match(message):
            pointer = True
        refers = pointer and len(own) <= SHORT_MESSAGE
        ellipsis = bool(_ELLIPSIS.match(message)) and len(own) <= SHORT_MESSAGE
        if not (ellipsis or refers or thin):
            return Reading(message)
        own_terms = {t for w in own for t in w.terms}
        earlier = [w for w in previous.words if not own_terms.intersection(terms(w))]
        if ellipsis and own:
            # "and DIU?" after "What is iDEX?": the new words take the place of earlier ones
            earlier = self._replaced(earlier, own)
        if other:  # searched without "else": the names carried are not its answer
            message = message[: other.start(1)] + message[other.end(1) :]
        return Reading(message, tuple(earlier[-MAX_CARRIED:]))

    def _kind(self, surface: str, word_terms: Sequence[str]) -> str:
        """What a word is, for an ellipsis: a number or an ordinal, a topic word, or another."""
        low = surface.lower()
        if low[:1].isdigit() or low in ORDINAL_WORDS or low in NUMBER_NAMES:
            return "number"
        return "topic" if self.is_topic_word(surface, word_terms) else "other"

    def _replaced(self, earlier: list[str], own: Sequence[_Word]) -> list[str]:
        """The earlier words an ellipsis keeps: each new word takes the place of the last
        earlier word of its kind (:meth:`_kind`: "and the first one?" after "the third
        summit"), else of the last earlier word; "one" takes none."""
        kept = list(earlier)
        kinds = [self._kind(w, terms(w)) for w in kept]
        for w in own:
            if w.surface.lower() in _PROFORMS or not kept:
                continue
            kind = self._kind(w.surface, w.terms)
            same = [k for k, have in enumerate(kinds) if have == kind]
            k = same[-1] if same else len(kept) - 1
            del kept[k], kinds[k]
        return kept

    def remember(self, reading: Reading, hits: Sequence[Hit], now: float) -> Context:
        """The context for the next message: the words of this reading (carried ones first)
        that the quoted passages hold, all of them when nothing was quoted; and the quotes.
        After "more", the words stay and "more" again continues after its last quote."""
        if reading.after is not None:
            if not hits:
                quoted = (reading.after, *reading.skip)
            else:  # "more" again: the rest of a passage cut short, else after the last one
                given = [Quote.of(h) for h in hits]
                cut = [k for k, h in enumerate(hits) if h.text.endswith(" " + ELLIPSIS)]
                k = cut[0] if cut else len(given) - 1
                quoted = (given[k], *given[:k], *given[k + 1 :], reading.after, *reading.skip)
            return Context(reading.message, reading.carried, now, quoted[:MAX_QUOTED])
        own = [w.surface for w in _content_words(reading.message) if not is_framing(w.surface)]
        words = list(reading.carried) + own
        if hits:
            quoted = {t for h in hits for t in terms(h.text)}
            words = [w for w in words if quoted.intersection(terms(w))]
        seen: set[tuple[str, ...]] = set()
        unique = []
        for w in words:
            key = tuple(terms(w))
            if key and key not in seen:
                seen.add(key)
                unique.append(w)
        given = tuple(Quote.of(h) for h in hits[:MAX_QUOTED])
        return Context(reading.message, tuple(unique[-MAX_CARRIED:]), now, given)

    def search(self, reading: Reading, top: int = 3, highlight: bool = True) -> SearchAnswer:
        """The search's answer to a reading: what continues the last quote ("more"), else the
        message read with its carried words."""
        if reading.after is not None:
            return self.engine.more(
                reading.after, reading.skip, " ".join(reading.carried), top, highlight
            )
        return self.engine.answer(
            reading.message, top=top, highlight=highlight, context=reading.carried
        )

    def answer(
        self,
        previous: Context | None,
        message: str,
        top: int = 3,
        highlight: bool = True,
        now: float | None = None,
        ttl: float | None = CONTEXT_TTL,
    ) -> Answer:
        """Read ``message`` after ``previous``, search, and say what to remember."""
        now = time.time() if now is None else now
        reading = self.read(previous, message, now, ttl)
        result = self.search(reading, top, highlight)
        if result.chitchat:  # "thanks", "ok": read alone, and the chat's topic stays
            kept = previous if previous is not None else Context(message, (), now)
            return Answer(Reading(message), result, kept)
        return Answer(reading, result, self.remember(reading, result.hits, now))


class Conversation:
    """One chat: its context kept in ``memory`` under ``key``.

    The console and ``ask --conversation`` use it with :class:`MemoryContexts`; the bot with
    ``state.ContextStore`` and the chat id as key.
    """

    def __init__(
        self,
        engine: Searchable,
        memory: ContextMemory | None = None,
        key: str = "console",
        clock: Callable[[], float] = time.time,
        rules: ContextRules | None = None,
    ) -> None:
        self.rules = rules or ContextRules(engine)
        self.memory: ContextMemory = memory if memory is not None else MemoryContexts()
        self.key = key
        self.clock = clock

    def ask(self, message: str, top: int = 3, highlight: bool = True) -> Answer:
        now = self.clock()
        answer = self.rules.answer(self.memory.get(self.key), message, top, highlight, now)
        self.memory.put(self.key, answer.context)
        return answer

    def reset(self) -> None:
        self.memory.forget(self.key)
