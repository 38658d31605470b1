"""Passages, metadata and page furniture."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from bot import corpus as ingest
from bot.corpus import (
    LINK_LIST,
    SHARED,
    TITLE,
    Corpus,
    CorpusError,
    load_corpus,
    parse_article,
    reading_text,
    split_lines,
)
from bot.engine import build_engine, quote_in_file
from bot.evaluate import evaluate, load_questions

from .helpers.wrap import fold_folder, fold_s
from .search_fixtures import CORPUS_DIR, DATA, PROJECT, file_lines

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
    # the lines without their trailing whitespace, joined by \n (a byline may be cut at the end)
    for p in corpus.passages:
        lines = file_lines(p.file)[p.line_start - 1 : p.line_end]
        assert "\n".join(ln.rstrip() for ln in lines).startswith(p.text), (p.file, p.line_start)


def test_every_article_paragraph_is_a_passage(corpus):
    # every paragraph is searchable, and a heading with the paragraph under it
    spans = {(p.file, p.line_start, p.line_end) for p in corpus.passages}
    assert ("002_a85791ee8d2e1584.txt", 19, 19) in spans  # last paragraph before "Read More"
    assert ("003_720ff74dff0efb45.txt", 12, 12) in spans  # before related headlines
    assert ("004_c5481a9a9945fb77.txt", 36, 36) in spans
    assert ("004_c5481a9a9945fb77.txt", 10, 12) in spans  # "Key Discussion Points:" (a colon)
    assert ("001_de34fc66b35126ee.txt", 8, 10) in spans  # a section heading, then its paragraph
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


# --- every line indexed, or named with its reason ----------------------------------------------

INGEST = DATA / "ingest"  # see its README
WIKIPEDIA = INGEST / "wikipedia"
HANDMADE = INGEST / "handmade"


def assert_every_line_accounted_for(folder: Path) -> Corpus:
    """Every non-empty line of every article is in a passage or named with a reason, never
    both; no blank line is named."""
    corpus = load_corpus(folder)
    assert not corpus.problems
    for art in corpus.articles:
        lines = split_lines((folder / art.file).read_text("utf-8"))
        covered = {n for p in art.passages for n in range(p.line_start, p.line_end + 1)}
        named = dict(art.not_indexed)
        assert len(named) == len(art.not_indexed) and all(named.values())
        for n, line in enumerate(lines, 1):
            if line.strip():
                assert (n in covered) != (n in named), (art.file, n, line)
            else:
                assert n not in named, (art.file, n)
    return corpus


@pytest.mark.parametrize("folder", [CORPUS_DIR, WIKIPEDIA, HANDMADE], ids=lambda p: p.name)
def test_every_non_empty_line_is_indexed_or_named_with_its_reason(folder):
    assert_every_line_accounted_for(folder)


def test_wikipedia_paragraphs_are_text_whatever_they_end_with():
    """A title line, then one paragraph a line: each paragraph is a passage, also those that
    end in [n 1], [citation needed], a colon, a comma or a page reference; the first line,
    however short, is the title."""
    corpus = assert_every_line_accounted_for(WIKIPEDIA)
    for art in corpus.articles:
        lines = (WIKIPEDIA / art.file).read_text("utf-8").split("\n")
        assert art.title == lines[0]
        assert art.not_indexed == [(1, TITLE)]
        paragraphs = [n for n, line in enumerate(lines, 1) if n > 1 and line.strip()]
        assert [(p.line_start, p.line_end) for p in art.passages] == [(n, n) for n in paragraphs]
    ends = [p.text[-20:] for p in corpus.passages]
    for ending in ('"poison").[n 1]', "[citation needed]", "following:", "due to Euler,", ".:19-1"):
        assert any(e.endswith(ending) for e in ends), ending


LONG = (
    "The ministers met in the capital on Tuesday and agreed to open a new trade route between "
    "the two ports, which officials said would cut shipping times by a third next year."
)


@pytest.mark.parametrize(
    ("first", "title"),
    [
        ("Normans", "Normans"),  # however short
        ("Fresno, California", "Fresno, California"),
        ("Ministers Agree On A New Trade Route", "Ministers Agree On A New Trade Route"),
        (  # however long, when it reads as a headline (no full stop, no sentence in it)
            "Ministers from both countries agree on a new trade route between the northern "
            "and southern ports that will open next spring after years of talks",
            None,
        ),
        (  # a first paragraph that is prose is not a title, whatever it ends with
            "Pharmacy is the science and technique of preparing and dispensing drugs. It is a "
            "health profession that links health sciences with chemical sciences.[n 1]",
            "",
        ),
        (LONG, ""),
    ],
)
def test_the_title_is_the_first_line_unless_it_is_prose(first, title):
    art = parse_article("x.txt", f"{first}\n{LONG}\n{LONG}\n")
    if title == "":
        assert art.title.startswith("Untitled, opens “") and art.not_indexed == []
        assert art.passages[0].line_start == 1
    else:
        assert art.title == (title or first) and art.not_indexed == [(1, TITLE)]
        assert art.passages[0].line_start == 2


def test_a_line_is_furniture_on_evidence_never_for_a_missing_full_stop():
    text = "\n".join(
        [
            "Harbour council approves budget",  # 1 the title
            "",
            "The council met on Monday and approved the harbour budget for next year.",  # 3
            "The budget covers three items:",  # 4 a heading: quoted with line 5
            "Dredging the inner basin, repairing the breakwater and new chains, for 4.2 million",
            "The mayor called it “the most important vote of the year”",  # 6 a closing quote
            "Work on the breakwater starts in May.[citation needed]",  # 7
            "Read More",  # 8 a link list
            "Storm closes the coastal road",  # 9
            "Ferry timetable changes for winter",  # 10
        ]
    )
    art = parse_article("x.txt", text)
    assert [(p.line_start, p.line_end) for p in art.passages] == [(3, 3), (4, 5), (6, 6), (7, 7)]
    assert art.not_indexed == [(1, TITLE), (8, ingest.FURNITURE), (9, LINK_LIST), (10, LINK_LIST)]


def test_a_manual_page_keeps_its_options_and_their_descriptions():
    """Reflowed one paragraph a line: option lines and descriptions without a full stop are
    text, each option quoted with its description; the SEE ALSO list and the footer are not."""
    art = load_corpus(HANDMADE).article("tidyrun.1.txt")
    spans = {(p.line_start, p.line_end) for p in art.passages}
    assert {(9, 10), (11, 12), (13, 14), (15, 16), (17, 18)} <= spans
    assert (8, 8) in spans  # "The following options change where the output goes:"
    assert [n for n, _ in art.not_indexed] == [1, 29, 30, 31]


def test_lines_in_several_files_are_site_furniture(tmp_path):
    nav = "Home | World | Business | Sport"
    footer = "Reader letters help us improve our coverage of the region every week."
    quote = "“We will finish the work on time,” the mayor said on Monday evening."
    for i, topic in enumerate(["harbour", "railway", "airport", "bridge"]):
        (tmp_path / f"{i}.txt").write_text(
            f"{nav}\n{topic.title()} plans approved\n\n"
            f"The council approved the {topic} plans on Monday after a long debate.\n"
            + (f"{quote}\n" if i < 2 else "")  # two articles quote the same sentence
            + f"Work on the {topic} starts in spring and should take two years.\n{footer}\n",
            "utf-8",
        )
    # the same article twice (a copy): its lines are in two files, but it is one article
    copy = "Ferry strike ends\n\nThe ferry crews went back to work on Friday after a week.\n"
    for name in ("5.txt", "6.txt"):
        (tmp_path / name).write_text(copy, "utf-8")
    corpus = assert_every_line_accounted_for(tmp_path)
    for i, topic in enumerate(["harbour", "railway", "airport", "bridge"]):
        art = corpus.article(f"{i}.txt")
        assert art.title == f"{topic.title()} plans approved"
        assert (1, SHARED) in art.not_indexed and art.not_indexed[-1][1] == SHARED
        assert all(footer not in p.text and nav not in p.text for p in art.passages)
    assert any(quote in p.text for p in corpus.article("0.txt").passages)
    assert corpus.article("5.txt").title == "Ferry strike ends"
    e = build_engine(tmp_path)
    assert not any(footer in h.text for h in e.search("reader letters coverage of the region"))


# --- hard-wrapped paragraphs -------------------------------------------------------------------


def _no_space(text: str) -> str:
    return "".join(text.split())


def _textwrap(text: str, width: int) -> str:
    return "\n".join(
        textwrap.fill(line, width) if line.strip() else line for line in text.split("\n")
    )


@pytest.mark.parametrize("wrap", ["fold", "textwrap"])
@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS_DIR.glob("*.txt")))
def test_hard_wrapped_paragraphs_are_read_back_whole(name, wrap):
    """Folded at 72 columns (``fold -s``: bytes, the blank kept at the end of a line) or
    filled by ``textwrap``: the passages are the original paragraphs, cited by the wrapped
    file's own lines; titles and furniture as in the original."""
    text = (CORPUS_DIR / name).read_text("utf-8")
    wrapped = fold_s(text, 72) if wrap == "fold" else _textwrap(text, 72)
    plain, folded = parse_article(name, text), parse_article(name, wrapped)
    assert folded.title == plain.title and folded.date == plain.date
    assert [_no_space(p.text) for p in folded.passages] == [
        _no_space(p.text) for p in plain.passages
    ]
    lines = wrapped.split("\n")
    for p in folded.passages:
        cited = "\n".join(line.rstrip() for line in lines[p.line_start - 1 : p.line_end])
        assert cited.startswith(p.text)
    # a line set aside is a piece of one the original sets aside
    gone = {_no_space(file_lines(name)[n - 1]) for n, _ in plain.not_indexed}
    for n, _ in folded.not_indexed:
        assert any(_no_space(lines[n - 1]) in g for g in gone), (name, n, lines[n - 1])


def test_bullets_and_one_paragraph_a_line_are_not_joined():
    art = load_corpus(HANDMADE).article("harbour-notes.txt")
    spans = [(p.line_start, p.line_end) for p in art.passages]
    assert spans == [(3, 6), (8, 10), (11, 11), (12, 12), (14, 16)]  # a wrapped paragraph, bullets
    assert reading_text(art.passages[0].text).startswith(
        "The survey team reached the northern harbour on the morning of 4 March and began by"
    )


def test_a_wrapped_line_break_reads_as_a_space_and_offsets_stay():
    text = "The survey team reached the\nnorthern harbour.\n\nThree problems stood out:"
    read = reading_text(text)
    assert read == "The survey team reached the northern harbour.\n\nThree problems stood out:"
    assert len(read) == len(text)


def test_hard_wrapped_articles_answer_like_the_originals(engine, tmp_path):
    """The five articles folded at 72 columns answer the question sets within 0.05 success@3
    of the originals, and every quote stands in the wrapped file's cited lines (some across a
    line break, read with a space)."""
    folded = fold_folder(CORPUS_DIR, tmp_path / "folded", 72)
    if shutil.which("fold"):  # the helper folds as coreutils' fold does
        for p in sorted(CORPUS_DIR.glob("*.txt")):
            real = subprocess.run(["fold", "-s", "-w", "72", p], capture_output=True, check=True)
            assert (folded / p.name).read_bytes() == real.stdout, p.name
    wrapped = build_engine(folded)
    quoted = []

    def search(question: str, top: int = 3):
        hits = wrapped.search(question, top)
        quoted.extend(hits)
        return hits

    for name in ("dev.jsonl", "natural.jsonl"):
        questions = load_questions(DATA / name)
        before = evaluate(engine.search, questions).metrics()
        after = evaluate(search, questions).metrics()
        assert after["success@3"] >= before["success@3"] - 0.05, (name, before, after)
    assert quoted and all(quote_in_file(h, folded) for h in quoted)
    assert not wrapped.needs_rebuild  # (no quote failed its check at answer time)
    across = [h for h in quoted if h.line_end > h.line_start and "\n" not in h.text]
    assert across
