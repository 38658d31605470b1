"""Every heuristic of the question path, as one named switch or weight.

A :class:`Features` is handed to the searcher (``search.Searcher``) and from it to the query
plan (``query.make_plan``); nothing reads a module global to decide whether a heuristic runs.
The defaults are what the bot ships with; a variant is ``dataclasses.replace(features, x=...)``.
Each field's metadata holds its ``off`` value (what the field is with the heuristic switched off)
and a short description: ``python -m bot ablate`` (:mod:`bot.ablate`) switches each off in turn
and scores every development set, and a heuristic stays only if it pays there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


def _switch(what: str, off: Any = False, default: Any = True) -> Any:
    """A field whose default is ``default`` and whose ``off`` value switches it off."""
    return field(default=default, metadata={"off": off, "what": what})


@dataclass(frozen=True, slots=True)
class Features:
    """The switches and weights of the question path (see each field's ``what``)."""

    # -- clean-up of the message (query.clean_question) --
    shorthand: bool = _switch("chat shorthand read as the words it stands for (b4, abt)")
    hinglish: bool = _switch("romanized Hindi function and question words (kab, kya)")
    framing: bool = _switch("greetings, politeness and talk about the articles weigh nothing")
    # -- what a question word stands for in the corpus (query.read_word) --
    spelling: bool = _switch("an unknown word read as the closest corpus word")
    completion: bool = _switch("a clipped word read as the corpus word it starts")
    irregular_forms: bool = _switch("irregular forms of a word (met ~ meet)")
    number_words: bool = _switch("numbers in words meet digits ('twenty' ~ 20)")
    synonyms: bool = _switch("the synonym table")
    word_neighbours: bool = _switch("nearest words by static word vectors")
    # -- the question's sentences --
    # the words of a message's sentences that ask nothing weigh this share
    background_weight: float = _switch("background sentences of a message discounted", 1.0, 0.4)
    article_references: bool = _switch("'in the X piece' selects an article")
    # -- what kind of answer is asked for (query.answer_type, answers.py) --
    answer_types: bool = _switch("answer types (a date for 'when', ...)")
    # ranking: a candidate holding a span of the asked kind is ranked this much higher
    answer_bonus: float = _switch("ranking bonus for holding the asked kind", 1.0, 1.15)
    # a confident hit for a strict kind (year, date, count, duration, amount, long form, name)
    # holds a span of it in a sentence that holds the question's words; else it is related
    # (kept although the ablation's rule would drop it: README, "What each heuristic buys")
    answer_required: bool = _switch("a hit holds the asked kind (strict kinds)")
    # -- near misses: a passage that names all but the thing asked is related, not a hit --
    who_role: bool = _switch("'who replaced X?' needs what the person did")
    speaker_names: bool = _switch("'what did X say?' needs X by name")
    name_request: bool = _switch("'what is it called?' needs a name")
    count_subject: bool = _switch("'how many X?' needs a count where X is spoken of")
    # -- evidence and the BM25 stage's order (search.py) --
    # ranking key: BM25 times (topical coverage) to this power
    coverage_power: float = _switch("BM25 x coverage^0.5 in the BM25 stage's order", 0.0, 0.5)
    # credit of the words of a passage's article lead, for coverage (what an answer needs) ...
    lead_credit: float = _switch("the article lead's words held at 0.5", 0.0, 0.5)
    # ... and for ranking (topical coverage)
    rank_lead_credit: float = _switch("the article lead's words in the ranking", 0.0, 1.0)
    # credit of the words of the passage before one that opens with a pronoun
    pronoun_carry_over: float = _switch("a passage opening with a pronoun", 0.0, 0.8)
    # -- the sentence model (dense.py; DENSE decides whether it is loaded at all) --
    dense: bool = _switch("the sentence model (candidates, learned order, gate)")

    def off(self, name: str) -> Features:
        """This variant with the heuristic ``name`` switched off."""
        return dataclasses.replace(self, **{name: FIELDS[name].metadata["off"]})

    def is_on(self, name: str) -> bool:
        """Whether the heuristic ``name`` is not at its ``off`` value."""
        return getattr(self, name) != FIELDS[name].metadata["off"]


FIELDS = {f.name: f for f in dataclasses.fields(Features)}
DEFAULT = Features()


def switches() -> Iterator[tuple[str, str]]:
    """(name, what it does) of every switch, in the order of :class:`Features`."""
    for f in dataclasses.fields(Features):
        yield f.name, f.metadata["what"]
