"""Passages, metadata and page furniture."""

from __future__ import annotations

import hashlib

import pytest

from bot.corpus import CorpusError, load_corpus, parse_article

from .search_fixtures import CORPUS_DIR, PROJECT, file_lines

FURNITURE = [
    "Read More",
    "Related News",
    "Join NewsTrack Whatsapp group",
    "Leave a Reply",
    "Your email address will not be published",
    "Powered by nFusion Solutions",
    "newshots banner",
    "A ceasefire in Gaza is demanded by the UN leader",
    "India exposes Pakistan for its terrorist activities",
    "US Expedites Air Defense Interceptor Missiles to Ukraine",
    "Stryker Armored Combat Vehicles",
    "P-75 India Submarine Project",
    "Source: ANI",
    "News Desk",
]


def test_corpus_matches_the_checksum_list_kept_in_the_repo():
    # tests/data/corpus.sha256: `sha256sum *.txt` of the shared corpus the project was given
    listed = {}
    for line in (PROJECT / "tests" / "data" / "corpus.sha256").read_text("utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name] = digest
    assert sorted(listed) == sorted(p.name for p in CORPUS_DIR.glob("*.txt"))
    for name, digest in listed.items():
        assert hashlib.sha256((CORPUS_DIR / name).read_bytes()).hexdigest() == digest, name


def test_articles_without_a_headline_are_labelled_by_their_opening_words(corpus):
    titles = {a.file: a.title for a in corpus.articles}
    assert titles["000_5be7e3b390ce0bde.txt"] == (
        "Untitled, opens “On September 25, 2024, Deputy Secretary of Defense Kathleen Hicks…”"
    )
    assert titles["002_a85791ee8d2e1584.txt"].startswith("Untitled, opens “US Defense Secretary")
    assert titles["001_de34fc66b35126ee.txt"] == (
        "India and U.S. Commit to Deeper Defense Collaboration"
    )


def test_furniture_is_never_indexed(corpus):
    for p in corpus.passages:
        for f in FURNITURE:
            assert f not in p.text, (p.file, p.line_start, f)


@pytest.mark.parametrize("question", FURNITURE + ["currency data charts widgets", "email address"])
def test_furniture_is_never_quoted(engine, question):
    for h in engine.search(question, top=5):
        for f in FURNITURE:
            assert f not in h.text


def test_passages_are_exactly_the_cited_lines(corpus):
    for p in corpus.passages:
        lines = file_lines(p.file)[p.line_start - 1 : p.line_end]
        assert "\n".join(lines).startswith(p.text), (p.file, p.line_start)


def test_every_article_paragraph_is_a_passage(corpus):
    # every line that is a sentence-ending paragraph of prose is searchable
    starts = {(p.file, p.line_end) for p in corpus.passages}
    assert ("002_a85791ee8d2e1584.txt", 19) in starts  # last paragraph before "Read More"
    assert ("003_720ff74dff0efb45.txt", 12) in starts  # last paragraph before related headlines
    assert ("004_c5481a9a9945fb77.txt", 36) in starts
    assert len(corpus.passages) >= 40


def test_titles_and_dates_kept_as_metadata(corpus):
    by_file = {a.file: a for a in corpus.articles}
    assert by_file["001_de34fc66b35126ee.txt"].title == (
        "India and U.S. Commit to Deeper Defense Collaboration"
    )
    assert by_file["003_720ff74dff0efb45.txt"].title.startswith("This Day Last Year: INDUS-X")
    assert by_file["004_c5481a9a9945fb77.txt"].title.startswith("Increased defense cooperation")
    assert by_file["004_c5481a9a9945fb77.txt"].date == "07-Feb-2025"
    assert by_file["000_5be7e3b390ce0bde.txt"].date == "September 25, 2024"
    # repeated title lines are not passages
    assert all(p.line_start != 1 for p in by_file["001_de34fc66b35126ee.txt"].passages)


def test_furniture_rules_are_general_not_these_files():
    text = "\n".join(
        [
            "World Daily banner",
            "Ministers Agree On A New Trade Route",
            "",
            "March 3, 2024",
            "The ministers agreed on Tuesday to open a new trade route between the two ports.",
            "Also Read: Floods hit the northern hills",
            "Officials said the route would cut shipping times by a third, starting next spring.",
            "Subscribe to our newsletter",
            "Other headline about football scores",
            "Another story you might like",
            "Comments",
        ]
    )
    art = parse_article("x.txt", text)
    quoted = " ".join(p.text for p in art.passages)
    assert [p.line_start for p in art.passages] == [4, 7]
    for junk in ("banner", "Also Read", "Subscribe", "football", "Another story", "Comments"):
        assert junk not in quoted
    assert art.title == "Ministers Agree On A New Trade Route"
    assert art.date == "March 3, 2024"


def test_missing_or_empty_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "nope")
    with pytest.raises(CorpusError, match="no usable article"):
        load_corpus(tmp_path)
