"""Articles as people keep them: a Markdown note, a web page saved by a browser, a two-column
PDF, a Word report and a plain text with ``sources.csv`` (``tests/data/documents/README.md``
says how each file was made). Real files through the real engine: each format answers its own
questions with a verbatim quote of its extracted text, cited by file, page or section and lines,
with its source URL as a link; page furniture is never quoted; unreadable files get a reason."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from benchmarks.botapi.harness import running_bot
from benchmarks.botapi.standin import parse_telegram_html
from bot.cli import main
from bot.corpus import read_corpus
from bot.documents import UnreadableDocument, read_document
from bot.engine import Engine, build_engine, quote_in_file
from bot.extracted import ExtractedTexts
from bot.render import answer_json_text, render_reply, render_sources
from bot.search import Answer

from .search_fixtures import DATA

DOCS = DATA / "documents" / "corpus"
SCANNED = DATA / "documents" / "unreadable" / "scanned-page.pdf"
PDF = "orrin-firth-tidal-array.pdf"
HTML = "kelmscott-orchard.html"

# question -> (file, words of the answer, page or section, source URL)
ASKED = {
    "How many hives did the cooperative lose over the winter?": (
        "harrowby-bees-winter.md",
        "lost eleven colonies",
        "section “Winter losses”",
        "https://harrowby-apiary.example.org/notes/wet-winter-2023",
    ),
    "How many of the grafts took?": (
        HTML,
        "Around nine in ten of the grafts took",
        "section “Grafting days”",
        "https://valecourier.example.com/news/2024/10/kelmscott-vale-orchard-lost-apples",
    ),
    "What was the average capacity factor of the tidal array?": (
        PDF,
        "average capacity factor of 29.7 per cent",
        "page 1",
        "https://bulletin.example.org/2024/orrin-firth-tidal-array",
    ),
    "How much did the demonstration array cost?": (
        PDF,
        "The demonstration array cost 61 million euros",
        "page 2",
        "https://bulletin.example.org/2024/orrin-firth-tidal-array",
    ),
    "How many loans were recorded in Ashcombe?": (
        "glasswing-mobile-library.docx",
        "Ashcombe | 48 | 2,310",
        "section “Visits by village”",
        "https://glasswing-valley.example.net/library/annual-report-2023",
    ),
    "How many adult females did the survey count leaving the roost?": (
        "penhallow-quarry-bats.txt",
        "counted 64 adult females",
        None,
        "https://wildlife-trust.example.org/news/penhallow-bats",
    ),
}

# the saved page's furniture: navigation, ad, share bar, caption, newsletter box, related
# links, footer, and what its scripts added (cookie banner, reader comments)
FURNITURE = (
    "Subscribe for £1 a week",
    "Harvest Festival Sale",
    "Share on Facebook",
    "Photo: Vale Courier",
    "Sign up to our free daily newsletter",
    "Cider festival returns",
    "All rights reserved",
    "We use cookies",
    "Accept all",
    "pig sty",
    "went under the diggers",
    "both have fruited this year",
    "Obituaries",
)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("documents") / "extracted"


@pytest.fixture(scope="module")
def docs(extracted) -> Engine:
    return build_engine(DOCS, extracted_dir=extracted)


@pytest.fixture(scope="module")
def answers(docs) -> dict[str, Answer]:
    return {q: docs.answer(q) for q in (*ASKED, "Who grew a Kelmscott Russet by the pig sty?")}


def test_every_format_is_read_with_its_title_and_source(docs):
    assert not docs.problems
    by_file = {a.file: a for a in docs.articles()}
    assert {f: a.format for f, a in by_file.items()} == {
        "glasswing-mobile-library.docx": "docx",
        "harrowby-bees-winter.md": "md",
        HTML: "html",
        PDF: "pdf",
        "penhallow-quarry-bats.txt": "txt",
    }
    assert by_file[PDF].title == "Orrin Firth Tidal Array: The First Year at Sea"
    assert by_file[HTML].title.startswith("Volunteers bring back lost apple varieties")
    for _q, (file, _words, _where, source) in ASKED.items():
        assert by_file[file].source == source


@pytest.mark.parametrize("question", list(ASKED))
def test_each_format_answers_its_question_with_page_or_section_and_source(answers, question):
    file, words, where, source = ASKED[question]
    hit = answers[question].hits[0]
    assert (hit.file, hit.source) == (file, source)
    assert words in " ".join(hit.text.split())
    assert (str(hit.locator) if hit.locator else None) == where


def test_quotes_are_verbatim_in_the_stored_extracted_text(docs, answers, extracted):
    hits = [h for a in answers.values() for h in (*a.hits, *a.related)]
    assert hits and all(quote_in_file(h, DOCS, extracted=extracted) for h in hits)
    for hit in hits:
        if hit.file.endswith(".txt"):
            continue
        stored = json.loads((extracted / f"{hit.file}.json").read_text("utf-8"))
        assert stored["source_sha256"] == hashlib.sha256((DOCS / hit.file).read_bytes()).hexdigest()
        lines = (extracted / f"{hit.file}.txt").read_text("utf-8").split("\n")
        cited = " ".join(" ".join(lines[hit.line_start - 1 : hit.line_end]).split())
        for piece in hit.text.strip("… ").split(" … "):
            assert " ".join(piece.split()) in cited
    pdf_hit = next(h for h in hits if h.file == PDF)
    forged = dataclasses.replace(pdf_hit, text=pdf_hit.text.replace("29.7", "39.7"))
    assert forged.text != pdf_hit.text
    assert docs.verify_hits([forged, pdf_hit]) == [pdf_hit]  # a quote not in the text: dropped
    docs.needs_rebuild = False


def test_markup_and_furniture_are_never_in_the_text_nor_quoted(answers, extracted):
    texts = {p.name: (extracted / f"{p.name}.txt").read_text("utf-8") for p in DOCS.iterdir()
             if p.suffix in (".md", ".html", ".pdf", ".docx")}  # fmt: skip
    for marker in ("**", "](", "|---", "# ", "<", "title:"):
        assert marker not in texts["harrowby-bees-winter.md"], marker
    for phrase in FURNITURE:
        assert phrase not in texts[HTML], phrase
    for phrase in ("Coastal Engineering Bulletin", "Page 1", "Page 2"):
        assert phrase not in texts[PDF], phrase
    quoted = " ".join(h.text for a in answers.values() for h in (*a.hits, *a.related))
    assert not [p for p in FURNITURE if p in quoted]
    assert not answers["Who grew a Kelmscott Russet by the pig sty?"].hits  # only a comment says


def test_pdf_columns_and_hyphenated_line_ends_read_as_written(extracted):
    text = (extracted / f"{PDF}.txt").read_text("utf-8")
    # words LibreOffice hyphenated at line ends are whole again; real hyphens stay
    for whole in ("dependable electricity", "substation", "narrows", "porpoises", "double-lipped",
                  "heavy-lift vessel", "gigawatt-hours", "megawatt-hour"):  # fmt: skip
        assert whole in text, whole
    assert "de- pendable" not in text and "dependable" in text
    # column 1 then column 2, and a paragraph running on from page 1 to page 2 kept whole
    assert text.index("Background") < text.index("Installation and commissioning")
    assert text.index("Installation and commissioning") < text.index("Performance in the first")
    doc = read_document(DOCS / PDF)
    seabirds = next(i for i, ln in enumerate(text.split("\n"), 1) if ln.startswith("Seabird"))
    assert "surveyors counted slightly more birds" in text.split("\n")[seabirds - 1]
    assert str(doc.locator(seabirds)) == "pages 1–2"


def test_telegram_and_json_citations_link_the_source(answers):
    question = "What was the average capacity factor of the tidal array?"
    hit = answers[question].hits[0]
    reply = render_reply([hit])
    plain, entities = parse_telegram_html(reply.html)  # what Telegram would accept
    links = [e for e in entities if e["type"] == "text_link"]
    assert [e["url"] for e in links] == [ASKED[question][3]]
    title = plain[links[0]["offset"] : links[0]["offset"] + links[0]["length"]]
    assert title == "Orrin Firth Tidal Array: The First Year at Sea"
    assert f"{PDF}, page 1, line {hit.line_start}" in plain
    obj = json.loads(answer_json_text(answers[question]))["hits"][0]
    assert (obj["source"], obj["page"], obj["section"]) == (ASKED[question][3], "1", None)


def test_sources_lists_each_article_with_its_link(docs):
    reply = render_sources(docs.articles(), per_page=None)
    _, entities = parse_telegram_html(reply.html)
    assert sorted(e["url"] for e in entities if e["type"] == "text_link") == sorted(
        {v[3] for v in ASKED.values()}
    )
    assert "https://bulletin.example.org/2024/orrin-firth-tidal-array" in reply.plain


def test_ask_json_and_check_from_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "state"))
    assert main(["ask", "--json", "--corpus", str(DOCS), "How many of the grafts took?"]) == 0
    obj = json.loads(capsys.readouterr().out)["hits"][0]
    assert (obj["file"], obj["section"], obj["page"]) == (HTML, "Grafting days", None)
    assert obj["source"] == ASKED["How many of the grafts took?"][3]
    assert main(["check", "--corpus", str(DOCS)]) == 0
    out = capsys.readouterr().out
    assert f"{PDF}: 11 passage(s)" in out and "format: pdf; source: https://bulletin." in out
    assert "5 article(s)" in out and "0 problem(s)" in out


def test_unreadable_files_get_a_one_line_reason_and_the_rest_are_served(tmp_path):
    pdf = (DOCS / PDF).read_bytes()
    bad = {
        "scanned.pdf": (SCANNED.read_bytes(), "scanned PDF without a text layer"),
        "truncated.pdf": (pdf[: len(pdf) // 2], "damaged PDF"),
        "program.pdf": (b"MZ\x90\x00" + bytes(200), "not really a PDF"),
        "letter.docx": (b"Dear all,\nsee you on Monday.\n", "not really a Word file"),
        "empty.md": (b"---\ntitle: Nothing\n---\n\n", "no text"),
        "page.html": (b"\x89PNG\r\n\x1a\n" + bytes(100), "not really a web page"),
    }
    for name, (data, _) in bad.items():
        (tmp_path / name).write_bytes(data)
    shutil.copy(DOCS / "harrowby-bees-winter.md", tmp_path)
    for name, (_, reason) in bad.items():
        with pytest.raises(UnreadableDocument) as err:
            read_document(tmp_path / name)
        assert reason in err.value.reason and "\n" not in err.value.reason, (name, err.value)
    with pytest.raises(UnreadableDocument, match="unsupported file type .exe"):
        read_document(Path(shutil.copy(DOCS / PDF, tmp_path / "tool.exe")))
    got = read_corpus(tmp_path, extracted=ExtractedTexts(None))
    problems = {g.file: g.reason for g in got if not hasattr(g, "passages")}
    assert set(problems) == set(bad)
    assert [g.file for g in got if hasattr(g, "passages")] == ["harrowby-bees-winter.md"]


def test_a_changed_file_is_extracted_again(tmp_path):
    folder, store = tmp_path / "corpus", ExtractedTexts(tmp_path / "extracted")
    folder.mkdir()
    note = (DOCS / "harrowby-bees-winter.md").read_text("utf-8")
    (folder / "bees.md").write_text(note, "utf-8")
    first = store.document(folder / "bees.md", folder)
    assert store.document(folder / "bees.md", folder) == first  # from the store
    (folder / "bees.md").write_text(note.replace("eleven colonies", "twelve colonies"), "utf-8")
    assert "twelve colonies" in store.document(folder / "bees.md", folder).text


def test_the_bot_answers_from_a_pdf_with_page_and_a_link_and_lists_sources(botapi, docs):
    """Through PTB's real HTTP stack and the Bot API stand-in (which parses the HTML as
    Telegram does): the citation names the file and page, the title links the source."""
    question = "What was the average capacity factor of the tidal array?"
    chat = botapi.private_chat()
    with running_bot(botapi, docs):
        botapi.send_text(chat, question)
        (answer,) = botapi.wait_for_messages(1, chat_id=chat["id"])
        botapi.send_text(chat, "/sources")
        _, listing = botapi.wait_for_messages(2, chat_id=chat["id"])
    links = [e for e in answer.get("entities", []) if e["type"] == "text_link"]
    assert ASKED[question][3] in [e["url"] for e in links]
    assert "29.7 per cent" in answer["text"] and f"{PDF}, page 1, line" in answer["text"]
    listed = {e["url"] for e in listing.get("entities", []) if e["type"] == "text_link"}
    assert listed == {v[3] for v in ASKED.values()}
