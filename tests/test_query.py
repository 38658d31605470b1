"""Question -> query plan (bot/query.py), on a small invented corpus."""

from __future__ import annotations

import pytest

from bot.engine import build_engine
from bot.query import clean_question

ARTICLE = (
    "Harbour Lights Weekly\n\n"
    "The Northern Lighthouse Board (NLB) met the keepers at Port Ellen on 3 March 2021. "
    "The board rebuilt the lighthouse after the storm and thanked the volunteers.\n"
    "The US Coast Guard sent two cutters to help the keepers during the repairs.\n"
    "Keepers meet every year to plan the maintenance of the lamps and the foghorns.\n"
)


def engine_of(tmp_path_factory, files: dict[str, str]):
    folder = tmp_path_factory.mktemp("articles")
    for name, text in files.items():
        (folder / name).write_text(text, "utf-8")
    return build_engine(folder)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return engine_of(tmp_path_factory, {"lights.txt": ARTICLE})


def words(engine, question):
    return [w.surface for w in engine.searcher.plan(question).words]


def test_mentions_commands_and_links_are_not_words():
    assert clean_question("/ask@LightsBot when was it rebuilt?") == "when was it rebuilt?"
    assert clean_question("@LightsBot who met the keepers") == "who met the keepers"
    assert clean_question("see https://example.org/x?y=1 what is NLB") == "see what is NLB"


def test_chat_shorthand_is_read_as_words():
    assert clean_question("wat r the lamps b4 the storm") == "what are the lamps before the storm"
    assert clean_question("3rd keeper w the board") == "third keeper with the board"


def test_a_stopword_in_capitals_is_a_word_only_where_the_articles_write_it_so(small):
    # the article writes "US": the acronym is a word; the pronoun and a shouted question's
    # function words ("WHEN", "IT": the articles have no such acronym) are not
    assert words(small, "what did the US send?") == ["US", "send"]
    assert words(small, "what did they send us?") == ["send"]
    assert words(small, "WHEN WAS IT REBUILT") == ["REBUILT"]
    (hit,) = small.search("what did the U.S. send to help?", top=1)
    assert "Coast Guard" in hit.text


def test_greetings_and_talk_about_the_articles_weigh_nothing(small):
    assert words(small, "hey bot, according to the article who thanked the volunteers?") == [
        "thanked",
        "volunteers",
    ]


def test_chat_fillers_before_a_question_hide_neither_its_words_nor_its_kind(small):
    for question in (
        "btw when did the board meet the keepers",
        "hey can u tell me when the board met the keepers pls",
        "as per the article, when did the board meet the keepers?",
        "acc to the piece when did the board meet the keepers",
    ):
        plan = small.searcher.plan(question)
        assert plan.answer_type == "date", question
        assert {w.surface for w in plan.words} <= {"board", "meet", "met", "keepers"}, question
        (hit,) = small.search(question, top=1)
        assert [hit.text[a:b] for a, b in hit.answers] == ["3 March 2021"], question


def test_a_misspelt_word_is_read_as_the_corpus_word_but_english_words_are_kept(small):
    plan = small.searcher.plan("when was the lighthose rebuilt")
    corrected = {w.surface: w.corrected for w in plan.words}
    assert corrected["lighthose"] == "lighthouse"
    assert small.search("when was the lighthose rebuilt")
    # "bright" is English: never "corrected" into a corpus word such as "lights"
    plan = small.searcher.plan("how bright are the lamps")
    assert all(w.corrected is None for w in plan.words)


def test_irregular_forms_meet(small):
    hits = small.search("How often do keepers meet?")
    assert hits and "every year" in hits[0].text
    hits = small.search("Where did the board meet the keepers?")
    assert hits and "met the keepers at Port Ellen" in hits[0].text


def test_chit_chat_gets_neither_hits_nor_related(small):
    for message in ("hi", "thanks!! that's exactly what I needed", "ok lol"):
        answer = small.answer(message)
        assert answer.chitchat and not answer.hits and not answer.related, message


def test_a_near_miss_is_related_not_an_answer(small):
    # the passage names the keepers and the repairs but holds no amount of money
    answer = small.answer("How much did the repairs cost?")
    assert not answer.hits
    assert answer.related and "repairs" in answer.related[0].text


def test_the_date_a_when_question_asks_for_is_marked(small):
    (hit,) = small.search("When did the board meet the keepers?", top=1)
    assert [hit.text[a:b] for a, b in hit.answers] == ["3 March 2021"]


def test_small_numbers_weigh_like_everyday_words_not_like_names():
    from bot.lexicon import specificity

    assert specificity("10") < specificity("lighthouse") < specificity("Ellenport")
    assert specificity("10") < specificity("2021")


TWO_ARTICLES = {
    "dunn.txt": (
        "Port Ellen light shines again\n\n"
        "Keeper Morag Dunn reopened the Port Ellen lighthouse on 3 March 2021.\n\n"
        "The old lamps were swapped for LED units that use a tenth of the power.\n\n"
        "Dunn will paint the tower in the spring.\n"
    ),
    "grant.txt": (
        "A day at the Mull\n\n"
        "Keeper Ailsa Grant toured the Mull of Galloway station with the board.\n\n"
        "Grant said the lamps at the station still burn paraffin, as they have since 1830.\n\n"
        "Grant trained under Morag Dunn at Port Ellen.\n"
    ),
}


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    return engine_of(tmp_path_factory, TWO_ARTICLES)


def test_words_that_name_an_article_select_it_rather_than_being_asked_about(two):
    plan = two.searcher.plan("In the Morag Dunn story, what about the lamps?")
    assert {w.surface for w in plan.words if w.selects_article} == {"Morag", "Dunn"}
    # the Dunn article's lamps passage, though it names neither Morag nor Dunn
    hits = two.search("In the Morag Dunn story, what about the lamps?")
    assert hits and hits[0].file == "dunn.txt" and "LED units" in hits[0].text
    # "actually in the articles" names no article
    plan = two.searcher.plan("is that actually in the articles, the lamps?")
    assert not any(w.selects_article for w in plan.words)


FAIRS = (
    "Lamp Fair News\n\n"
    "Keeper Ann Ross welcomed harbour master Ian Moore to Oban for the lamp talks.\n"
    "The third Lamp Fair will be held in Oban next spring, Ross said.\n"
    "The keepers hold a yearly drill with the coast guard off the islands.\n"
    "Moore said the lamp talks with Scotland and Ireland went well.\n"
    "The board promised a follow-up visit to the keepers.\n"
    "There were no lamp sales to the islands 20 years ago.\n"
    "Two boats joined the coast guard drill off the islands.\n"
)


@pytest.fixture(scope="module")
def fairs(tmp_path_factory):
    return engine_of(tmp_path_factory, {"fairs.txt": FAIRS})


def test_who_did_what_needs_a_passage_that_says_it(fairs):
    # the passage names Ross and Moore, but nobody "replaced" anyone: related, not an answer
    answer = fairs.answer("Who replaced Ian Moore as harbour master?")
    assert not answer.hits and answer.related
    # ... while who welcomed him is said
    (hit,) = fairs.search("Who welcomed Ian Moore?", top=1)
    assert "welcomed" in hit.text


def test_a_name_asked_for_must_be_there(fairs):
    # "need names" / "what is it called": a passage without a name of its own is related only
    answer = fairs.answer("which islands do the keepers drill off? need names")
    assert not answer.hits and answer.related
    answer = fairs.answer("what is the yearly drill with the coast guard called?")
    assert not answer.hits and answer.related
    (hit,) = fairs.search("what's the name of the town the third lamp fair is in", top=1)
    assert "Oban" in [hit.text[a:b] for a, b in hit.answers]


def test_whose_words_are_asked_for_must_be_named(fairs):
    (hit,) = fairs.search("What did Moore say about the lamp talks?", top=1)
    assert "Moore said" in hit.text
    # nobody from Norway speaks (its nearest words are other countries, which the passage names)
    answer = fairs.answer("What was Norway's reaction to the lamp talks?")
    assert not answer.hits
    answer = fairs.answer("What did the Oban Fishermen's Union say about the lamp talks?")
    assert not answer.hits
    # "the report", "both sides" are not names: the passage need not hold them
    (hit,) = fairs.search("what did the report say about the lamp talks", top=1)
    assert "lamp talks" in hit.text


def test_a_compound_the_articles_use_is_not_chit_chat(fairs):
    # "follow" and "up" are everyday words, but the compound is something to look up
    (hit,) = fairs.search("follow-up?", top=1)
    assert "follow-up visit" in hit.text
    assert fairs.answer("ok, thanks").chitchat


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("which islands do they drill off? need names", "name"),
        ("which islands do they drill off? names pls", "name"),
        ("what's the name of the drill", "name"),
        ("what is the yearly drill called?", "name"),
        ("name the islands", "name"),
        ("who named the drill?", "person"),
        ("when was the drill named?", "date"),
        ("which islands do they drill off?", None),
    ],
)
def test_a_name_is_asked_for_anywhere_in_the_message(small, message, kind):
    assert small.searcher.plan(message).answer_type == kind


def test_answer_type_ascii_patterns_find_what_the_unicode_ones_find():
    """Printable ASCII questions are typed with ASCII-only twins of the patterns (faster); they
    must give the kind the Unicode patterns give."""
    import json
    from pathlib import Path

    from bot import query

    data = Path(__file__).parent / "data"
    questions = [
        json.loads(line)["question"]
        for name in ("natural.jsonl", "dev.jsonl", "extra.jsonl")
        for line in (data / name).read_text("utf-8").splitlines()
        if line.strip()
    ]
    questions += ["WHEN WAS IT SIGNED", "who's Hegseth?", "what is it for", "how MANY jets"]
    for q in questions:
        q = clean_question(q)
        if not (q.isascii() and q.isprintable()):
            continue
        want = next((n for n, p in query._TYPE_PATTERNS if p.search(q)), None)
        got = next((n for n, p, _ in query._TYPE_PATTERNS_ASCII if p.search(q)), None)
        assert got == want, q
        # a pattern is skipped when the question lacks all its needed words: never one that
        # would match
        for name, pat, needs in query._TYPE_PATTERNS_ASCII:
            if needs is not None and pat.search(q):
                assert any(w in q.lower() for w in needs), (name, q)


def test_a_number_in_words_meets_the_same_number_in_digits(fairs):
    (hit,) = fairs.search("what does it say about lamp sales twenty years ago?", top=1)
    assert "20 years ago" in hit.text and "20" in hit.matched_terms
    # ... but "two" is not "2" (words of small numbers are mostly determiners)
    assert "2" not in fairs.searcher.plan("the two keepers").highlight_terms


def test_how_many_counts_what_it_asks_about(fairs):
    # "two boats" is a count, but not of lamps
    answer = fairs.answer("how many lamps joined the coast guard drill?")
    assert not answer.hits and answer.related
    (hit,) = fairs.search("how many boats joined the coast guard drill?", top=1)
    assert [hit.text[a:b] for a, b in hit.answers] == ["Two"]
    (hit,) = fairs.search("how many years ago were there no lamp sales to the islands?", top=1)
    assert "20 years ago" in hit.text


def test_irregular_forms_of_a_term_are_what_the_whole_table_says():
    # the question path looks a term up among the few groups that can hold it (at the first
    # question, analysing the whole table cost 30 ms); every term must come out the same
    from bot.lexicon import irregular_forms, irregular_forms_of

    table = irregular_forms()
    assert table  # the data file is there
    assert {t: irregular_forms_of(t) for t in table} == table
    assert irregular_forms_of("tire") == ("tyre",)  # American spelling: "tyre" is analysed "tire"


def _data_questions() -> list[str]:
    import json
    from pathlib import Path

    data = Path(__file__).parent / "data"
    return [
        json.loads(line)["question"]
        for name in ("natural.jsonl", "dev.jsonl", "extra.jsonl")
        for line in (data / name).read_text("utf-8").splitlines()
        if line.strip()
    ]


_SHORTCUT_CASES = [
    "According to the article, when was it signed?",
    "as per report what happened",
    "in the Smith readout, who spoke?",
    "the Jane Doe piece: what did she say",
    "the article about ABC-X and the summit",
    "op-ed on the deal",
    "the write-up of the meeting",
    "What did Smith say about the deal?",
    "how did the council react?",
    "What was Norway's reaction to it",
    "What is their STANCE on it?",
    "Can you please tell me who met?",
    "i read somewhere that they met",
    "Is it true that they met?",
    "do the articles say when?",
    "i need to know the date",
    "was that in person?",
    "did they meet face to face",
    "when was it Kicked off?",
    "see https://example.org/x?y=1 what is ABC",
    "visit WWW.example.org please",
    "tell us about it",
    "norway us relations",
    "Doing an assignment on X. When was Y?",
    "Thanks! Who met?",
    "U.S. and Norway: when?",
]


def test_patterns_are_skipped_only_where_they_cannot_match():
    """Each shortcut of the plan (a pattern looked for only when the lower-cased ASCII text
    holds a word every match holds) never skips a pattern that matches."""
    from bot import query

    # every shortcut the module has, each pattern with what it needs
    checks = [
        (v.pattern, v.may_match) for v in vars(query).values() if isinstance(v, query._Shortcut)
    ]
    assert len(checks) == 6
    questions = _data_questions() + _SHORTCUT_CASES
    for q in questions + [x.upper() for x in questions]:
        for text in (q, clean_question(q)):
            if not text.isascii():
                continue
            for pat, needs in checks:
                if pat.search(text):
                    assert needs(text.lower()), (pat.pattern[:30], text)
            asking, background = query._asking_and_background(text)
            assert asking == query._asking_sentence(text), text
            assert list(background) == query._background_starts(text), text


def test_content_words_are_the_tokens_spans_merged_repeats_dropped():
    """content_words (one analysed word per tokenizer match) against its definition over the
    tokens of analysis.tokenize."""
    from bot.analysis import tokenize
    from bot.query import content_words

    def reference(q: str) -> list[tuple[int, str, list[str]]]:
        groups: list[tuple[int, int, list[str]]] = []
        for t in tokenize(q):
            if groups and t.start < groups[-1][1]:
                s, e, ts = groups[-1]
                if t.term not in ts:
                    ts.append(t.term)
                groups[-1] = (s, max(e, t.end), ts)
            else:
                groups.append((t.start, t.end, [t.term]))
        out, seen = [], set()
        for s, e, ts in groups:
            if tuple(ts) not in seen:
                seen.add(tuple(ts))
                out.append((s, q[s:e], ts))
        return out

    extra = [
        "dan'dan o'neil O'Neil's",
        "XY 12Q and XY-12Q xy12q",
        "United States US us U.S.",
        "ABC-X Abc X abcx 2025-2035 2+2",
        "twenty 20 first 1st",
        "café naïve’s",
    ]
    for q in _data_questions() + _SHORTCUT_CASES + extra:
        assert content_words(q) == reference(q), q
