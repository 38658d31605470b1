"""Text analysis cases, checked through search over the real articles."""

from __future__ import annotations

import pytest

from bot.analysis import terms


def top_file_lines(engine, question):
    hits = engine.search(question, top=3)
    return [(h.file, h.line_start) for h in hits]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("India’s", "India's"),  # curly apostrophe
        ("India's", "India"),  # possessive
        ("ＬＥＭＯＡ", "LEMOA"),  # NFKC full-width
        ("U.S.", "US"),  # an acronym, dotted or not
        ("defence", "defense"),  # British/American
        ("organisation", "organization"),
        ("MH-60R", "MH 60R"),  # model designation written two ways
        ("P-8I", "P 8I"),
        ("MQ-9B", "MQ 9Bs"),
        ("launched", "launch"),  # stemming
    ],
)
def test_variants_analyse_to_the_same_terms(a, b):
    assert set(terms(a)) & set(terms(b)), (a, terms(a), b, terms(b))


def test_a_stopword_in_capitals_is_an_acronym_in_lower_case_the_function_word():
    assert terms("help us") == terms("help")
    assert terms("the US and India") == ["us", "india"]
    assert terms("the U.S.'s allies") == terms("US allies")
    assert terms("IT staff") == ["it", "staff"]


def test_stopwords_and_punctuation_give_no_terms():
    assert terms("what is the of and ???") == []
    assert terms("!!! ... ---") == []


def test_hyphenated_name_found_in_any_spelling(engine):
    for q in ("INDUS-X summit Silicon Valley", "Indus X summit Silicon Valley", "indusx summit"):
        assert ("003_720ff74dff0efb45.txt", 10) in top_file_lines(engine, q), q


def test_model_designation_with_hyphen_finds_spaced_form(engine):
    hits = engine.search("Does India fly the P-8I?", top=1)
    assert hits and hits[0].file == "002_a85791ee8d2e1584.txt" and "P 8I" in hits[0].text
    hits = engine.search("MH-60R", top=1)
    assert hits and "MH 60R" in hits[0].text


def test_numbers_with_symbols(engine):
    hits = engine.search("What is the 2+2 dialogue?", top=1)
    assert hits and "2+2 Ministerial Dialogue" in hits[0].text
    hits = engine.search("framework 2025-2035", top=1)
    assert hits and "2025-2035" in hits[0].text


def test_british_spelling_finds_american(engine):
    hits = engine.search("defence innovation unit", top=1)
    assert hits and "Defense Innovation Unit" in hits[0].text


def test_acronym_and_long_form_find_each_other(engine):
    by_acronym = engine.search("What is BECA?", top=3)
    assert by_acronym and all(
        "Basic Exchange and Cooperation Agreement" in h.text for h in by_acronym
    )
    by_long = engine.search("basic exchange cooperation agreement", top=3)
    assert by_long and any("(BECA)" in h.text for h in by_long)


@pytest.mark.parametrize("typo", ["Jaishankr", "Jaishnakar", "Hegsteh", "Misry"])
def test_small_misspellings_of_names(engine, typo):
    hits = engine.search(f"Who is {typo}?", top=1)
    assert hits, typo
    assert hits[0].highlights, "the matched name is shown in bold"


def test_misspelling_of_a_common_word_is_not_guessed(engine):
    # typo tolerance is for names the articles use, not for any word
    assert engine.search("How is the weathr in Dehli?") == []
