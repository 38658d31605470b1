"""The saved index: reuse, invalidation, corruption, atomic writes, live reload, exactness."""

from __future__ import annotations

import logging
import random
import shutil
import threading
import time

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from benchmarks.botapi.harness import running_bot
from bot import engine as engine_mod
from bot.config import Settings
from bot.engine import open_engine
from bot.index import B, BM25Index

NEW_ARTICLE = (
    "Submarine Cable Pact Signed\n\n"
    "The two navies signed a pact on undersea cable protection at Visakhapatnam on Friday.\n"
)


def answers(e, q):
    return [(h.file, h.line_start, h.text) for h in e.search(q)]


def test_saved_index_is_reused_and_answers_the_same(corpus_copy, settings):
    first = open_engine(corpus_copy, settings)
    second = open_engine(corpus_copy, settings)
    assert not first.from_cache and second.from_cache
    for q in ("What is LEMOA?", "Who greeted Jaishankar with a Navy band?", "pasta"):
        assert answers(first, q) == answers(second, q)
    assert [h.score for h in first.search("INDUS-X")] == [h.score for h in second.search("INDUS-X")]


@pytest.mark.parametrize("change", ["add", "edit", "remove"])
def test_a_changed_corpus_invalidates_the_saved_index(corpus_copy, settings, change):
    open_engine(corpus_copy, settings)
    target = corpus_copy / "002_a85791ee8d2e1584.txt"
    if change == "add":
        (corpus_copy / "005_new.txt").write_text(NEW_ARTICLE, "utf-8")
    elif change == "edit":
        target.write_text(target.read_text("utf-8") + "\n" + NEW_ARTICLE.split("\n")[2] + "\n")
    else:
        target.unlink()
    e = open_engine(corpus_copy, settings)
    assert not e.from_cache
    hits = e.search("undersea cable protection pact")
    if change == "remove":
        assert all(h.file != target.name for h in e.search("Navy band Jana Gana Mana"))
    else:
        assert hits and "undersea cable" in hits[0].text


def test_a_saved_index_served_at_once_is_checked_in_the_background(corpus_copy, settings):
    """``check_later`` (``ask -``): the saved index answers before the corpus is checked; the
    check then marks a stale one for a rebuild, and leaves a current one alone."""
    open_engine(corpus_copy, settings)
    current = open_engine(corpus_copy, settings, check_later=True)
    assert current.from_cache and current.checked.wait(30) and not current.needs_rebuild
    (corpus_copy / "005_new.txt").write_text(NEW_ARTICLE, "utf-8")
    stale = open_engine(corpus_copy, settings, check_later=True)
    assert stale.from_cache and stale.checked.wait(30) and stale.needs_rebuild
    rebuilt = open_engine(corpus_copy, settings, force_rebuild=True)
    assert "undersea cable" in rebuilt.search("undersea cable protection pact")[0].text


@pytest.mark.parametrize(
    "damage", ["truncate_postings", "garbage_manifest", "missing_folder", "garbage_vocab"]
)
def test_a_corrupt_saved_index_is_rebuilt_with_a_log_line(corpus_copy, settings, damage, caplog):
    good = answers(open_engine(corpus_copy, settings), "What is LEMOA?")
    base = next(settings.index_dir.glob("index-*"))
    folder = base / (base / "current").read_text().strip()
    if damage == "truncate_postings":
        data = (folder / "post_scores.npy").read_bytes()
        (folder / "post_scores.npy").write_bytes(data[: len(data) // 2])
    elif damage == "garbage_manifest":
        (folder / "manifest.json").write_text("{not json")
    elif damage == "missing_folder":
        shutil.rmtree(folder)
    else:
        (folder / "vocab_keys.npy").write_bytes(b"\x93NUMPY garbage")
    with caplog.at_level(logging.WARNING, logger="bot.engine"):
        e = open_engine(corpus_copy, settings)
    assert not e.from_cache
    assert "rebuilding" in caplog.text
    assert answers(e, "What is LEMOA?") == good
    assert open_engine(corpus_copy, settings).from_cache  # and the rebuilt one is saved


def test_a_crash_while_saving_leaves_the_old_index_usable(corpus_copy, settings, monkeypatch):
    open_engine(corpus_copy, settings)
    (corpus_copy / "005_new.txt").write_text(NEW_ARTICLE, "utf-8")

    def crash(self, folder):
        (folder / "idf.npy").write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(BM25Index, "save", crash)
    e = open_engine(corpus_copy, settings)  # serves from memory, logs the failed save
    assert e.search("undersea cable")
    monkeypatch.undo()
    (corpus_copy / "005_new.txt").unlink()
    # the corpus is back to what the old saved index describes: it is still intact and used
    old = open_engine(corpus_copy, settings)
    assert old.from_cache and old.search("What is LEMOA?")
    assert not list(next(settings.index_dir.glob("index-*")).glob("build-*/idf.npy"))[1:]


def test_index_and_check_commands_report_and_exit_by_problems(corpus_copy, tmp_path):
    from .helpers.cli import run

    env = {"INDEX_DIR": str(tmp_path / "index")}
    r = run("index", "--corpus", str(corpus_copy), env=env)
    assert r.returncode == 0, r.stderr
    assert "indexed 5 article(s), 47 passage(s)" in r.stdout
    (corpus_copy / "bad.txt").write_bytes(b"\xff\xfe not utf-8 \x00")
    r = run("check", "--corpus", str(corpus_copy), env=env)
    assert r.returncode == 1
    assert "bad.txt" in r.stdout and "5 article(s)" in r.stdout


def test_reload_while_questions_arrive_loses_nothing(botapi, corpus_copy, tmp_path):
    e = open_engine(corpus_copy, Settings(index_dir=tmp_path / "index"))
    chat = botapi.private_chat()
    n_sent = 0
    stop = threading.Event()

    def ask_continuously():
        nonlocal n_sent
        while not stop.is_set() and n_sent < 60:
            botapi.send_text(chat, random.choice(["What is LEMOA?", "undersea cable pact"]))
            n_sent += 1
            time.sleep(0.03)

    with running_bot(
        botapi, e, reload_interval=0.2, index_dir=tmp_path / "index", corpus_dir=corpus_copy
    ):
        t = threading.Thread(target=ask_continuously)
        t.start()
        time.sleep(0.5)
        (corpus_copy / "005_new.txt").write_text(NEW_ARTICLE, "utf-8")
        t.join(30)
        stop.set()
        msgs = botapi.wait_for_messages(n_sent, chat_id=chat["id"], timeout=30)
        botapi.send_text(chat, "undersea cable pact")
        final = botapi.wait_for_messages(n_sent + 1, chat_id=chat["id"], timeout=15)[-1]
    assert len(msgs) >= n_sent
    assert len(botapi.sent_messages(chat["id"])) == n_sent + 1  # none lost, none doubled
    assert "undersea cable protection" in final["text"]
    assert not [c for c in botapi.calls if c.status >= 400 and c.method == "sendMessage"]


def test_scores_equal_rank_bm25_on_a_larger_synthetic_corpus():
    rng = np.random.default_rng(11)
    vocab = np.array([f"w{i}" for i in range(20_000)])
    p = 1.0 / np.arange(1, vocab.size + 1) ** 1.1
    p /= p.sum()
    docs = [
        list(vocab[rng.choice(vocab.size, size=rng.integers(35, 75), p=p)]) for _ in range(20_000)
    ]
    idx, ref = BM25Index.build(docs), BM25Okapi(docs, b=B)
    sample = random.Random(5)
    for _ in range(25):
        d = docs[sample.randrange(len(docs))]
        q = sample.sample(d, min(5, len(d)))
        assert np.array_equal(idx.scores_dense(q), ref.get_scores(q))


def test_engine_module_exposes_signature_over_code_and_files(corpus_copy):
    a = engine_mod.corpus_signature(corpus_copy, 10**6)
    time.sleep(0.01)
    (corpus_copy / "000_5be7e3b390ce0bde.txt").touch()
    assert engine_mod.corpus_signature(corpus_copy, 10**6) != a
