"""Adding and removing articles from the chat, end to end: PTB's real HTTP stack against the Bot
API stand-in, which serves getFile and file downloads as Telegram does."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import tempfile
import time
from pathlib import Path

import pytest

from benchmarks.botapi.harness import running_bot
from benchmarks.botapi.standin import BotAPIStandIn
from bot.config import Settings
from bot.engine import open_engine
from bot.intake import readable_suffixes
from bot.telegram.policies import NOT_ALLOWED
from bot.telegram.uploads import NOT_AN_ADMIN

ADMIN = 4242
UPLOADS = Path(__file__).parent / "data" / "uploads"
PDF = UPLOADS / "kestrel-point-tidal-plant.pdf"
PDF_TITLE = "Kestrel Point Tidal Plant Starts Feeding the Grid"
QUESTION = "How many megawatts does the Kestrel Point plant produce?"
ANSWER = "At full strength the Kestrel Point plant produces 18 megawatts"
VECTORS = Path(tempfile.gettempdir()) / "quote-bot-test-vectors"  # shared, as the harness's

reads_pdf = pytest.mark.skipif(
    ".pdf" not in readable_suffixes(), reason="the corpus reader does not read PDFs"
)


def windows_program() -> bytes:
    """A real Windows program: the launcher pip ships."""
    spec = importlib.util.find_spec("pip")
    assert spec is not None and spec.origin is not None
    return (Path(spec.origin).parent / "_vendor" / "distlib" / "t64.exe").read_bytes()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) and a digest of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.blake2b(p.read_bytes(), digest_size=16).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def overrides(corpus_copy: Path, tmp_path: Path) -> dict[str, object]:
    return {
        "corpus_dir": corpus_copy,
        "index_dir": tmp_path / "index",
        "vector_dir": VECTORS,
        "admin_user_ids": frozenset({ADMIN}),
    }


def engine_for(overrides: dict[str, object]):
    """The engine ``python -m bot`` starts with: the saved index when current, else a build."""
    settings = dataclasses.replace(Settings(), **overrides)  # type: ignore[arg-type]
    return open_engine(settings.corpus_dir, settings)


def answered_first(answer: str) -> bool:
    """A confident answer whose first quote is the PDF's passage, cited with file and page."""
    quote, _, rest = answer.partition("\n1. ")
    citation = rest.split("\n", 1)[0]
    return (
        answer.startswith("From the articles")
        and ANSWER in quote
        and citation.startswith(PDF_TITLE)
        and "Kestrel_Point_tidal_plant.pdf, page 1" in citation
    )


def reply_to(api: BotAPIStandIn, chat_id: int, before: int, timeout: float = 30) -> str:
    """The text of the next message the bot sends in ``chat_id`` after ``before`` of them."""
    return api.wait_for_messages(before + 1, chat_id=chat_id, timeout=timeout)[before]["text"]


def say(api: BotAPIStandIn, chat: dict, text: str) -> str:
    before = len(api.sent_messages(chat["id"]))
    api.send_text(chat, text)
    return reply_to(api, chat["id"], before)


def send_file(api: BotAPIStandIn, chat: dict, data: bytes, name: str, **kw: object) -> str:
    before = len(api.sent_messages(chat["id"]))
    api.send_document(chat, data, file_name=name, **kw)  # type: ignore[arg-type]
    return reply_to(api, chat["id"], before)


@reads_pdf
def test_an_admins_pdf_is_answered_from_within_seconds_and_survives_a_restart(botapi, overrides):
    corpus = overrides["corpus_dir"]
    with running_bot(botapi, engine_for(overrides), **overrides):
        chat = botapi.private_chat(ADMIN, "Ada")
        t0 = time.monotonic()
        added = send_file(
            botapi,
            chat,
            PDF.read_bytes(),
            "Kestrel Point tidal plant.pdf",
            mime_type="application/pdf",
        )
        answer = say(botapi, chat, QUESTION)
        print(f"\nPDF sent -> question answered from it in {time.monotonic() - t0:.1f} s")
        assert added.startswith(f"Added: {PDF_TITLE} — "), added
        assert "passages" in added and "Kestrel_Point_tidal_plant.pdf" in added
        assert answered_first(answer)
        assert [c.method for c in botapi.calls if c.method in ("getFile", "download")] == [
            "getFile",
            "download",
        ]
    assert (corpus / "Kestrel_Point_tidal_plant.pdf").read_bytes() == PDF.read_bytes()
    assert not [p for p in corpus.iterdir() if p.name.startswith(".")]  # no staging left
    with running_bot(botapi, engine_for(overrides), **overrides):
        assert answered_first(say(botapi, chat, QUESTION))


def test_a_file_from_someone_else_is_refused_and_not_downloaded(botapi, overrides):
    corpus = overrides["corpus_dir"]
    before = snapshot(corpus)
    with running_bot(botapi, engine_for(overrides), **overrides):
        chat = botapi.private_chat(1001, "Bob")
        assert send_file(botapi, chat, PDF.read_bytes(), "tidal.pdf") == NOT_AN_ADMIN
        assert say(botapi, chat, "/add https://example.com/a.pdf") == NOT_ALLOWED
        assert say(botapi, chat, "/remove 000_5be7e3b390ce0bde.txt") == NOT_ALLOWED
    assert not [c for c in botapi.calls if c.method in ("getFile", "download")]
    assert snapshot(corpus) == before


@reads_pdf
def test_bad_files_and_urls_get_a_one_line_reason_and_leave_the_corpus_as_it_was(botapi, overrides):
    corpus = overrides["corpus_dir"]
    before = snapshot(corpus)
    big = b"%PDF-1.7\n" + bytes(30 * 1024 * 1024)
    with running_bot(botapi, engine_for(overrides), **overrides):
        chat = botapi.private_chat(ADMIN, "Ada")
        reasons = {
            "corrupt": send_file(botapi, chat, PDF.read_bytes()[:1500], "cut-short.pdf"),
            "30 MB": send_file(botapi, chat, big, "big.pdf"),
            # Telegram may leave out file_size: then its getFile says "file is too big"
            "30 MB, size not told": send_file(botapi, chat, big, "big.pdf", size_known=False),
            ".exe as .pdf": send_file(botapi, chat, windows_program(), "report.pdf"),
            "127.0.0.1": say(botapi, chat, f"/add {botapi.url}/file/report.pdf"),
        }
    for case, text in reasons.items():
        assert text.startswith("Not added: ") and "\n" not in text, (case, text)
    assert "cut-short.pdf" in reasons["corrupt"]
    assert "30.0 MB" in reasons["30 MB"] and "Telegram" in reasons["30 MB"]
    assert "too big" in reasons["30 MB, size not told"]
    assert "not a PDF but a Windows program" in reasons[".exe as .pdf"]
    assert "127.0.0.1 is a loopback address" in reasons["127.0.0.1"]
    refused_by_telegram = [c for c in botapi.calls if c.method == "getFile" and c.status == 400]
    assert len(refused_by_telegram) == 1  # the 30 MB file whose size the message told: no getFile
    downloads = [c.params["file_path"] for c in botapi.calls if c.method == "download"]
    assert len(downloads) == 2  # the corrupt PDF and the program, read and refused
    assert snapshot(corpus) == before


def test_remove_takes_an_article_out_and_keeps_the_file_aside(botapi, overrides):
    corpus = overrides["corpus_dir"]
    name = "004_c5481a9a9945fb77.txt"
    original = (corpus / name).read_bytes()
    with running_bot(botapi, engine_for(overrides), **overrides):
        chat = botapi.private_chat(ADMIN, "Ada")
        group = botapi.group_chat()
        refused = [
            say(botapi, chat, "/remove ../corpus/" + name),
            say(botapi, chat, "/remove nothing-here.txt"),
        ]
        removed = say(botapi, chat, f"/remove {name}")
        sources = say(botapi, chat, "/sources")
        in_group = botapi.send_text(group, "/add@QuoteTestBot https://example.com/a.pdf", ADMIN)
        hint = reply_to(botapi, group["id"], 0)
    assert refused[0] == f"Not removed: ../corpus/{name} is not the name of an article file."
    assert refused[1].startswith("Not removed: there is no article file named nothing-here.txt")
    assert removed.startswith("Removed: ") and f"({name}); 4 articles left" in removed
    assert name not in sources
    assert not (corpus / name).exists()
    assert (corpus / ".removed" / name).read_bytes() == original
    assert in_group and hint.startswith("Ask me this in a private chat")
