"""Spelling correction against a corpus vocabulary (symmetric-delete index + rapidfuzz)."""

from __future__ import annotations

from bot.spelling import MAX_CANDIDATES, SpellIndex

WORDS = [
    ("lighthouse", 9),
    ("harbour", 4),
    ("harbor", 2),
    ("navigation", 3),
    ("keeper", 5),
    ("rebuilt", 2),
    ("cape", 7),
    ("capes", 1),
]


def test_one_and_two_edits_are_read_as_the_corpus_word():
    idx = SpellIndex.build(WORDS)
    assert idx.correct("lighthose") == "lighthouse"  # deletion
    assert idx.correct("ligthhouse") == "lighthouse"  # transposition
    assert idx.correct("navigashun") is None  # three edits away: too far
    assert idx.correct("navigatoin") == "navigation"
    assert idx.correct("keepr") == "keeper"


def test_short_words_allow_one_edit_only():
    idx = SpellIndex.build(WORDS)
    assert idx.correct("cpe") == "cape"
    assert idx.correct("kap") is None  # two edits from "cape" in a three-letter word


def test_ties_go_to_the_word_more_passages_use():
    idx = SpellIndex.build(WORDS)
    assert idx.correct("harbr") == "harbor"  # one edit from harbor, two from harbour
    assert idx.correct("capex") in {"cape", "capes"}
    assert idx.correct("capez") == "cape"  # both one edit: cape is used by more passages


def test_a_corpus_word_is_not_a_typo_and_odd_input_is_ignored():
    idx = SpellIndex.build(WORDS)
    assert idx.correct("cape") is None
    for odd in ("", "ab", "x" * 40, "12345", "no-way"):
        assert idx.correct(odd) is None


def test_saved_and_loaded_index_answers_the_same(tmp_path):
    idx = SpellIndex.build(WORDS)
    idx.save(tmp_path)
    again = SpellIndex.load(tmp_path)
    for w in ("lighthose", "keepr", "harbr", "zzzzzz"):
        assert again.correct(w) == idx.correct(w)


def test_work_per_word_is_capped_on_a_huge_vocabulary():
    # 30,000 words that all share deletes with the question word: candidates stay capped
    words = [
        (f"ab{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676 % 26)}", 1)
        for i in range(17_576)
    ]
    idx = SpellIndex.build(words)
    seen: list[int] = []
    original = idx.vals

    class Counting:
        def __getitem__(self, sl):
            got = original[sl]
            seen.append(len(got))
            return got

    idx.vals = Counting()  # type: ignore[assignment]
    idx.correct("abqqq")
    assert sum(seen) <= MAX_CANDIDATES + max(seen, default=0)


def test_a_word_in_several_cases_is_one_word_with_its_largest_count():
    """The vocabulary is lower-cased, each word once with the most passages any of its
    spellings is in; most used first, then alphabetical; unusable words are left out."""
    idx = SpellIndex.build(
        [("India", 5), ("india", 9), ("INDIA", 2), ("radar", 9), ("ab", 50), ("x-ray", 70)]
    )
    assert list(idx.words) == ["india", "radar"]
    assert idx.freq.tolist() == [9, 9]
    assert list(SpellIndex.build([]).words) == []
