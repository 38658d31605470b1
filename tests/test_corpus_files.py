"""Bad corpus files: skipped with a warning naming the file and the reason, the other articles
keep answering; ``check`` and ``index`` list every problem and exit 1; no usable article at all
is a one-line error at start-up; files deleted or garbled while the bot runs are dropped cleanly.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from benchmarks.botapi.harness import running_bot
from benchmarks.botapi.standin import parse_telegram_html
from bot.config import Settings
from bot.corpus import CorpusError, load_corpus, read_article_file
from bot.engine import build_engine, open_engine
from bot.render import render_reply

from .helpers.cli import run
from .search_fixtures import CORPUS_DIR, PROJECT

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
LIMIT = 6000  # bytes: above the largest real article (5058), below HUGE
GOOD_FILES = sorted(p.name for p in CORPUS_DIR.glob("*.txt"))

LIGHTHOUSE = "The lighthouse on the northern cape was rebuilt in 1902 by the navy after a storm.\n"
SECRET = "The secret submarine pens under Port Blair were finished by the engineers in 1987.\n"
HUGE = ("The convoy of frigates sailed past the harbour wall at dawn on the first day. " * 100)[
    : LIMIT + 1000
] + "\n"


def _write_bad_files(folder: Path, outside: Path) -> dict[str, str]:
    """Every kind of unusable file in ``folder``; returns {file name: expected reason text}."""
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_text(SECRET, "utf-8")
    bad: dict[str, str] = {}

    def put(name: str, data: bytes, reason: str) -> None:
        (folder / name).write_bytes(data)
        bad[name] = reason

    put(
        "latin1.txt",
        "Café société: the naïve façade of défense talks.\n".encode("latin-1"),
        "UTF-8",
    )
    put("empty.txt", b"", "empty file")
    put("blank.txt", b"  \n\t\n\r\n   \n", "only whitespace")
    put("bom_only.txt", b"\xef\xbb\xbf\n \n", "only whitespace")
    put(
        "image.txt",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)),
        "binary",
    )
    put("utf16.txt", "The navy band played at dawn.\n".encode("utf-16"), "binary")
    put("huge.txt", HUGE.encode(), "larger than the limit")
    put(
        "furniture.txt",
        b"Read More\nRelated News\nLeave a Reply\nSubscribe to our newsletter\nTags: defence\n"
        b"Share this:\nPowered by nFusion Solutions\n",
        "only furniture",
    )
    if AS_ROOT:
        # chmod 000 does not stop root from reading, so as root the unreadable "file" is a
        # directory named like an article (open() would fail with EISDIR).
        (folder / "unreadable.txt").mkdir()
        bad["unreadable.txt"] = "not a regular file"
    else:
        put("unreadable.txt", LIGHTHOUSE.encode(), "unreadable")
        (folder / "unreadable.txt").chmod(0)
    os.mkfifo(folder / "pipe.txt")  # reading it would block forever: never opened
    bad["pipe.txt"] = "not a regular file"
    (folder / "dangling.txt").symlink_to("no-such-file.txt")
    bad["dangling.txt"] = "not a regular file"
    (folder / "escape.txt").symlink_to(outside / "secret.txt")
    bad["escape.txt"] = "outside the corpus folder"
    (folder / "escape_rel.txt").symlink_to(Path("..") / outside.name / "secret.txt")
    bad["escape_rel.txt"] = "outside the corpus folder"
    (folder / "escape_chain.txt").symlink_to("escape.txt")  # inside -> inside -> outside
    bad["escape_chain.txt"] = "outside the corpus folder"
    (folder / "escape_dir.txt").symlink_to(outside)
    bad["escape_dir.txt"] = "outside the corpus folder"
    (folder / "loop_a.txt").symlink_to("loop_b.txt")
    (folder / "loop_b.txt").symlink_to("loop_a.txt")
    bad["loop_a.txt"] = bad["loop_b.txt"] = "symlink loop"
    return bad


@pytest.fixture
def bad_corpus(tmp_path) -> tuple[Path, dict[str, str]]:
    """The real articles, a symlink inside the folder (allowed), and every kind of bad file."""
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, folder)
    for p in folder.iterdir():
        p.chmod(p.stat().st_mode | stat.S_IWUSR)
    (folder / "sub").mkdir()
    (folder / "sub" / "extra.txt").write_text(LIGHTHOUSE, "utf-8")
    (folder / "alias.txt").symlink_to(Path("sub") / "extra.txt")
    bad = _write_bad_files(folder, tmp_path / "outside")
    return folder, bad


@pytest.fixture
def only_bad(tmp_path) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "only_bad"
    folder.mkdir()
    return folder, _write_bad_files(folder, tmp_path / "outside")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"MAX_FILE_BYTES": str(LIMIT), "INDEX_DIR": str(tmp_path / "index"), **extra}


# -- loading ------------------------------------------------------------------------------------


def test_each_bad_file_is_skipped_with_a_warning_naming_it_and_the_reason(bad_corpus, caplog):
    folder, bad = bad_corpus
    with caplog.at_level(logging.WARNING, logger="bot.corpus"):
        c = load_corpus(folder, max_bytes=LIMIT)
    problems = {p.file: p.reason for p in c.problems}
    assert set(problems) == set(bad)
    for name, reason in bad.items():
        assert reason in problems[name], (name, problems[name])
        warned = [r.getMessage() for r in caplog.records if name in r.getMessage()]
        assert warned and reason in warned[0] and warned[0].count(name) == 1, (name, warned)
    assert all(r.levelno == logging.WARNING for r in caplog.records)
    assert sorted(a.file for a in c.articles) == sorted([*GOOD_FILES, "alias.txt"])


def test_the_good_articles_keep_answering(bad_corpus, caplog):
    folder, bad = bad_corpus
    with caplog.at_level(logging.WARNING):
        e = build_engine(folder, max_file_bytes=LIMIT)
    assert {p.file for p in e.problems} == set(bad)
    for name in bad:
        assert name in caplog.text
    hits = e.search("What is LEMOA?")
    assert hits and all("LEMOA" in h.text for h in hits)
    assert (
        e.search("Who greeted Jaishankar with a Navy band?")[0].file == "002_a85791ee8d2e1584.txt"
    )
    # a symlink that stays inside the folder is an article like any other
    (hit,) = e.search("When was the lighthouse rebuilt?")
    assert hit.file == "alias.txt" and hit.line_start == 1
    # nothing reachable only through an escaping symlink is ever quoted
    assert e.search("secret submarine pens Port Blair") == []
    assert {h.file for q in ("Café société", "convoy of frigates") for h in e.search(q)} == set()
    assert {a.file for a in e.articles()} == {*GOOD_FILES, "alias.txt"}


def test_an_unreadable_file_is_named_with_the_reason(bad_corpus, monkeypatch):
    """Read errors (EACCES, EIO) are reported, whoever runs the bot (root can read mode 000)."""
    folder, _ = bad_corpus
    target = folder / "001_de34fc66b35126ee.txt"
    real = Path.open

    def open_(self, *args, **kwargs):
        if self.name == target.name:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_)
    assert read_article_file(target, folder) == (None, "unreadable (Permission denied)")
    c = load_corpus(folder, max_bytes=LIMIT)
    assert {p.file: p.reason for p in c.problems}[target.name] == "unreadable (Permission denied)"
    assert target.name not in {a.file for a in c.articles}


def test_a_file_vanishing_between_listing_and_reading_is_a_problem_not_a_crash(
    bad_corpus, monkeypatch
):
    folder, _ = bad_corpus
    from bot import corpus as corpus_mod

    real = corpus_mod.list_article_files
    monkeypatch.setattr(
        corpus_mod, "list_article_files", lambda f: [*real(f), Path(f) / "gone.txt"]
    )
    c = corpus_mod.load_corpus(folder, max_bytes=LIMIT)
    assert "gone.txt" in {p.file for p in c.problems}


def test_a_file_name_that_is_not_utf8_is_skipped_and_reported_printably(tmp_path):
    shutil.copy(CORPUS_DIR / GOOD_FILES[0], tmp_path / GOOD_FILES[0])
    name = os.fsencode(tmp_path) + b"/caf\xe9.txt"
    with open(name, "wb") as f:
        f.write(LIGHTHOUSE.encode())
    c = load_corpus(tmp_path)
    (problem,) = c.problems
    assert problem.file == "caf\ufffd.txt" and "not UTF-8" in problem.reason
    problem.file.encode("utf-8")
    r = run("index", "--corpus", str(tmp_path), env=_env(tmp_path, PYTHONIOENCODING="utf-8"))
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "problem: caf\ufffd.txt: file name is not UTF-8" in r.stdout


def test_hostile_but_valid_file_names_are_cited_as_valid_html(tmp_path):
    name = "<b>&amp; \u202eevil\u202c 🇮🇳.txt"
    (tmp_path / name).write_text(LIGHTHOUSE, "utf-8")
    e = build_engine(tmp_path)
    hits = e.search("When was the lighthouse rebuilt?")
    assert hits[0].file == name
    plain, _ = parse_telegram_html(render_reply(hits).html)
    assert name in plain


# -- the command line -----------------------------------------------------------------------------


def _problem_lines(out: str) -> dict[str, str]:
    lines = [ln.removeprefix("problem: ") for ln in out.splitlines() if ln.startswith("problem: ")]
    return {ln.split(": ", 1)[0]: ln.split(": ", 1)[1] for ln in lines}


@pytest.mark.parametrize("command", ["check", "index"])
def test_check_and_index_list_every_problem_and_exit_1(bad_corpus, tmp_path, command):
    folder, bad = bad_corpus
    r = run(command, "--corpus", str(folder), env=_env(tmp_path))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    listed = _problem_lines(r.stdout)
    assert set(listed) == set(bad), r.stdout
    for name, reason in bad.items():
        assert reason in listed[name]
    assert f"{len(bad)} problem(s)" in r.stdout
    assert f"{len(GOOD_FILES) + 1} article(s)" in r.stdout


def test_check_and_index_exit_0_on_a_clean_corpus(tmp_path):
    for command in ("check", "index"):
        r = run(command, "--corpus", str(CORPUS_DIR), env=_env(tmp_path))
        assert r.returncode == 0, r.stdout + r.stderr
        assert "problem:" not in r.stdout and "0 problem(s)" in r.stdout


def _assert_one_line_error(r: subprocess.CompletedProcess) -> None:
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "Traceback" not in out, out
    errors = [ln for ln in r.stderr.splitlines() if "error" in ln.lower()]
    assert len(errors) == 1 and errors[0].startswith("error: "), r.stderr
    assert "no usable article" in errors[0]


@pytest.mark.parametrize("command", ["ask", "index", "chat"])
def test_no_usable_article_is_a_one_line_error_and_nonzero_exit(only_bad, tmp_path, command):
    folder, bad = only_bad
    args = ["ask", "x"] if command == "ask" else [command]
    r = run(*args, "--corpus", str(folder), stdin="x\n", env=_env(tmp_path))
    _assert_one_line_error(r)
    assert r.stdout == ""
    assert f"({len(bad)} unusable file(s))" in r.stderr


def test_check_lists_the_problems_of_a_folder_without_a_usable_article(only_bad, tmp_path):
    folder, bad = only_bad
    r = run("check", "--corpus", str(folder), env=_env(tmp_path))
    assert r.returncode == 1 and r.stderr == "", r.stderr
    listed = _problem_lines(r.stdout)
    assert set(bad) <= set(listed), r.stdout
    for name, reason in bad.items():
        assert reason in listed[name]
    assert f"0 article(s), 0 passage(s), {len(bad)} problem(s)" in r.stdout


def test_only_article_formats_are_read_and_check_names_the_other_files(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "lighthouse.txt").write_text(LIGHTHOUSE, "utf-8")
    (folder / "submarines.md").write_text(SECRET, "utf-8")
    (folder / "pens.rtf").write_text(SECRET.replace("1987", "1990"), "utf-8")
    r = run("ask", "--json", "--corpus", str(folder), "When were the submarine pens finished?")
    assert r.returncode == 0, r.stderr
    (hit,) = json.loads(r.stdout)["hits"]
    assert hit["file"] == "submarines.md" and "1987" in hit["text"]
    r = run("check", "--corpus", str(folder), env=_env(tmp_path))
    assert r.returncode == 0, r.stdout
    assert "ignored: pens.rtf: not an article file (.docx, .htm, .html," in r.stdout
    assert "2 article(s)" in r.stdout


def test_corpus_path_that_is_a_file_says_it_is_not_a_folder(tmp_path):
    path = tmp_path / "article.txt"
    path.write_text(LIGHTHOUSE, "utf-8")
    for args in (["ask", "lighthouse"], ["check"], ["index"]):
        r = run(*args, "--corpus", str(path), env=_env(tmp_path))
        assert r.returncode == 2, r.stdout
        assert r.stderr == f"error: corpus path is not a folder: {path}\n"


def test_the_bot_with_no_usable_article_exits_with_one_line_error(botapi, only_bad, tmp_path):
    folder, bad = only_bad
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(
        _env(tmp_path),
        TELEGRAM_BOT_TOKEN=botapi.token,
        TELEGRAM_BASE_URL=botapi.url + "/bot",
        CORPUS_DIR=str(folder),
        PYTHONPATH=str(PROJECT),
    )
    r = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,  # no .env here
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    _assert_one_line_error(r)
    assert f"({len(bad)} unusable file(s))" in r.stderr
    assert botapi.token.split(":")[1] not in r.stdout + r.stderr
    assert not [c for c in botapi.calls if c.method == "sendMessage"]


# -- changes while the bot runs -------------------------------------------------------------------

DELETED = "002_a85791ee8d2e1584.txt"  # the only article on the Navy band
GARBLED = "004_c5481a9a9945fb77.txt"  # the only article on the 2+2 dialogue
NAVY = "Who greeted Jaishankar with a Navy band?"
DIALOGUE = "What is the 2+2 Ministerial Dialogue?"
LEMOA = "What is LEMOA?"  # in 001 and 003, which stay


def test_files_deleted_or_garbled_while_the_bot_runs(botapi, tmp_path, caplog):
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, folder)
    for p in folder.iterdir():
        p.chmod(0o644)
    index_dir = tmp_path / "index"
    e = open_engine(folder, Settings(index_dir=index_dir))
    chat = botapi.private_chat()
    asked = 0
    stop = threading.Event()
    rng = random.Random(4)

    def ask(text: str) -> dict:
        nonlocal asked
        botapi.send_text(chat, text)
        asked += 1
        return botapi.wait_for_messages(asked, chat_id=chat["id"], timeout=20)[-1]

    def ask_continuously():
        nonlocal asked
        while not stop.is_set() and asked < 50:
            botapi.send_text(chat, rng.choice([NAVY, DIALOGUE, LEMOA]))
            asked += 1
            time.sleep(0.03)

    caplog.set_level(logging.WARNING)
    with running_bot(botapi, e, reload_interval=0.2, index_dir=index_dir, corpus_dir=folder):
        assert "Navy band" in ask(NAVY)["text"]
        assert "2+2 Ministerial Dialogue" in ask(DIALOGUE)["text"]
        t = threading.Thread(target=ask_continuously)
        t.start()
        time.sleep(0.4)
        (folder / DELETED).unlink()
        (folder / GARBLED).write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe garbage \x00" * 50)
        t.join(30)
        stop.set()
        botapi.wait_for_messages(asked, chat_id=chat["id"], timeout=30)
        # after the reload both are gone; until then the old index answers (never a crash)
        deadline = time.monotonic() + 15
        while DELETED in (navy := ask(NAVY)["text"]) or "Navy band" in navy:
            assert time.monotonic() < deadline, "the deleted article is still quoted"
            time.sleep(0.2)
        dialogue = ask(DIALOGUE)["text"]
        assert GARBLED not in dialogue and "2+2 Ministerial Dialogue" not in dialogue
        after = ask(LEMOA)["text"]
        assert "LEMOA" in after and DELETED not in after and GARBLED not in after
        # the whole folder emptied: the reload fails, the bot keeps serving and answering
        for p in list(folder.iterdir()):
            p.unlink()
        time.sleep(0.8)
        assert ask(LEMOA)["text"]
        botapi.wait_until_consumed(timeout=10)
        time.sleep(0.3)
    assert len(botapi.sent_messages(chat["id"])) == asked  # one reply each: none lost or doubled
    assert [c for c in botapi.calls if c.method == "sendMessage" and c.status != 200] == []
    assert GARBLED in caplog.text and "binary" in caplog.text
    assert "no usable article" in caplog.text


def test_open_engine_raises_a_clear_error_for_a_folder_of_only_bad_files(only_bad, tmp_path):
    folder, _ = only_bad
    with pytest.raises(CorpusError, match="no usable article"):
        open_engine(folder, Settings(index_dir=tmp_path / "index", max_file_bytes=LIMIT))


def test_check_lists_per_file_the_passages_and_each_line_not_indexed_with_its_reason(tmp_path):
    r = run("check", "--corpus", str(CORPUS_DIR), env=_env(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    corpus = load_corpus(CORPUS_DIR)
    named = 0
    for art in corpus.articles:
        assert f"{art.file}: {len(art.passages)} passage(s) hold " in r.stdout
        for n, reason in art.not_indexed:
            assert r.stdout.count(f"  {art.file}:{n}: {reason}: ") == 1, (art.file, n)
            named += 1
    assert named == 19 and f"{named} non-empty line(s) not indexed:" in r.stdout
    assert "003_720ff74dff0efb45.txt: 5 passage(s) hold 5 of 12 non-empty line(s)" in r.stdout
    # the furniture of the five articles, each with what it is
    assert "003_720ff74dff0efb45.txt:14: a headline-like line after the article's last" in r.stdout
    assert "002_a85791ee8d2e1584.txt:21: a headline in a link list" in r.stdout
    assert "004_c5481a9a9945fb77.txt:42: page furniture" in r.stdout
    assert "004_c5481a9a9945fb77.txt:4: title" in r.stdout


def test_check_finds_no_paragraph_of_wikipedia_articles_unindexed(tmp_path):
    """One paragraph a line, some ending in [citation needed], [n 1] or a colon: only the
    title line of each file is not indexed (it is the title)."""
    folder = PROJECT / "tests" / "data" / "ingest" / "wikipedia"
    r = run("check", "--corpus", str(folder), env={"INDEX_DIR": str(tmp_path / "index")})
    assert r.returncode == 0, r.stdout + r.stderr
    named = [ln for ln in r.stdout.splitlines() if ln.startswith("  ") and ".txt:" in ln]
    assert len(named) == 4 and all(":1: title" in ln for ln in named), named
    assert "4 non-empty line(s) not indexed:" in r.stdout
