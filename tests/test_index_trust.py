"""A saved index is not trusted (issue 9, Found 9 and 11): a changed text blob, a bad byte or an
out-of-range id means a rebuild, never a wrong quote or a per-question exception; concurrent
builds on one INDEX_DIR are safe; the pointer file only ever names a folder inside it."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from benchmarks.botapi.harness import running_bot
from bot.config import Settings
from bot.engine import cache_folder, file_checksums, open_engine

from .helpers.cli import run

ASK = "When was INDUS-X launched?"


def published(corpus: Path, settings: Settings) -> Path:
    base = cache_folder(settings.index_dir, corpus)
    return base / (base / "current").read_text().strip()


def tamper(folder: Path, name: str, old: bytes, new: bytes, fix_checksums: bool) -> None:
    data = (folder / name).read_bytes()
    assert old in data
    (folder / name).write_bytes(data.replace(old, new))
    if fix_checksums:  # an attacker who also rewrites the manifest
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["checksums"] = file_checksums(folder)
        (folder / "manifest.json").write_text(json.dumps(manifest))


def texts(hits) -> str:
    return " ".join(h.text for h in hits)


def test_a_changed_text_blob_is_caught_by_its_checksum(corpus_copy, settings):
    open_engine(corpus_copy, settings)
    tamper(published(corpus_copy, settings), "texts.bin", b"June 21", b"June 91", False)
    e = open_engine(corpus_copy, settings)
    assert not e.from_cache  # rebuilt
    assert "June 21" in texts(e.search(ASK))


def test_words_not_in_the_article_files_are_never_quoted(corpus_copy, settings, caplog):
    """Found 9: "June 21" -> "June 91" in the saved text blob, and the bot quoted "Launched on
    June 91" on every start. Even with the checksums rewritten, the quote is checked against
    the article file at answer time."""
    open_engine(corpus_copy, settings)
    tamper(published(corpus_copy, settings), "texts.bin", b"June 21", b"June 91", True)
    e = open_engine(corpus_copy, settings)
    assert e.from_cache  # the forgery passed the load checks...
    hits = e.search(ASK)
    assert "June 91" not in texts(hits)  # ...but not the answer
    answer = e.answer(ASK, top=5)
    assert "June 91" not in texts(answer.hits) + texts(answer.related)
    assert e.needs_rebuild
    assert any("quote not found" in r.getMessage() for r in caplog.records)


def test_a_forged_index_is_rebuilt_by_the_running_bot(botapi, corpus_copy, settings):
    open_engine(corpus_copy, settings)
    tamper(published(corpus_copy, settings), "texts.bin", b"June 21", b"June 91", True)
    e = open_engine(corpus_copy, settings)
    chat = botapi.private_chat()
    with running_bot(botapi, e, index_dir=settings.index_dir) as bot:
        botapi.send_text(chat, ASK)
        (first,) = botapi.wait_for_messages(1, chat_id=chat["id"], timeout=15)
        botapi.wait_for(
            lambda: any("now serving" in line for line in bot.log_lines),
            timeout=30,
            what="the rebuilt index swapped in",
        )
        botapi.send_text(chat, ASK)
        second = botapi.wait_for_messages(2, chat_id=chat["id"], timeout=15)[1]
    assert "June 91" not in first["text"]
    assert "June 21" in second["text"]


@pytest.mark.parametrize("check_later", [False, True])
@pytest.mark.parametrize("damage", ["out_of_range_doc", "bad_byte_in_scores", "offsets"])
def test_damaged_arrays_mean_a_rebuild_not_a_failing_question(
    corpus_copy, settings, damage, check_later
):
    """Found 9: a bad byte or an out-of-range id in the arrays raised on every matching
    question instead of triggering a rebuild (checksums rewritten: the array checks alone).
    An index served at once (``ask -``, checked after the first answer): every question is
    answered from the real text, and the index is rebuilt."""
    open_engine(corpus_copy, settings)
    folder = published(corpus_copy, settings)
    name = {"out_of_range_doc": "post_docs", "bad_byte_in_scores": "post_scores"}.get(
        damage, "text_off"
    )
    arr = np.load(folder / f"{name}.npy")
    if damage == "out_of_range_doc":
        arr[len(arr) // 2] = 10_000_000
    elif damage == "bad_byte_in_scores":
        arr[len(arr) // 3] = np.nan
    else:
        arr[5], arr[6] = arr[6], arr[5]
    np.save(folder / f"{name}.npy", arr)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["checksums"] = file_checksums(folder)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    if not check_later:
        e = open_engine(corpus_copy, settings)
        assert not e.from_cache
        assert "June 21" in texts(e.search(ASK))
        return
    env = {"INDEX_DIR": str(settings.index_dir)}
    r = run("ask", "--json", "--corpus", str(corpus_copy), "-", stdin=f"{ASK}\n" * 3, env=env)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(lines) == 3
    assert all("June 21" in " ".join(h["text"] for h in x["hits"]) for x in lines), lines
    assert "saved index not usable" in r.stderr and "Traceback" not in r.stderr
    rebuilt = open_engine(corpus_copy, settings)  # (checked before it serves)
    assert rebuilt.from_cache and "June 21" in texts(rebuilt.search(ASK))


def test_a_garbled_article_row_costs_its_title_not_a_question(corpus_copy, settings):
    """Titles and dates are parsed when a hit needs them: a row that does not parse reads as
    an article without title or date, and the quote is still given."""
    open_engine(corpus_copy, settings)
    folder = published(corpus_copy, settings)
    rows = (folder / "articles.jsonl").read_text("utf-8").split("\n")
    (folder / "articles.jsonl").write_text("\n".join("[garbled" for _ in rows), "utf-8")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["checksums"] = file_checksums(folder)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    e = open_engine(corpus_copy, settings)
    assert e.from_cache
    hits = e.search(ASK)
    assert "June 21" in texts(hits) and all(h.title is None for h in hits)


def test_two_builds_on_one_index_dir_never_delete_each_others_folder(corpus_copy, settings):
    """Found 9: two builds on one INDEX_DIR deleted each other's published folder (11 of 20
    rounds)."""
    errors: list[BaseException] = []

    def build() -> None:
        try:
            open_engine(corpus_copy, settings, force_rebuild=True)
        except BaseException as exc:
            errors.append(exc)

    for _ in range(20):
        threads = [threading.Thread(target=build) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        again = open_engine(corpus_copy, settings)
        assert again.from_cache  # the published folder is whole
        builds = list(cache_folder(settings.index_dir, corpus_copy).glob("build-*"))
        assert len(builds) == 1


def _open_within(seconds: float, corpus: Path, settings: Settings):
    out: list = []
    t = threading.Thread(target=lambda: out.append(open_engine(corpus, settings)), daemon=True)
    t.start()
    t.join(seconds)
    if not out:
        raise AssertionError("open_engine blocked")
    return out[0]


@pytest.mark.parametrize("pointer", ["outside", "passwd_symlink", "fifo", "folder_symlink"])
def test_the_pointer_file_only_names_a_folder_inside_the_index(
    corpus_copy, settings, tmp_path, pointer
):
    """Found 11: INDEX_DIR/current pointing outside the folder, at a FIFO, or a symlink to
    /etc/passwd was followed."""
    open_engine(corpus_copy, settings)
    good = published(corpus_copy, settings)
    base = good.parent
    current = base / "current"
    outside = tmp_path / "elsewhere"
    shutil.copytree(good, outside)  # a complete, valid index, but not inside INDEX_DIR
    current.unlink()
    if pointer == "outside":
        current.write_text("../../elsewhere")
    elif pointer == "passwd_symlink":
        current.symlink_to("/etc/passwd")
    elif pointer == "fifo":
        os.mkfifo(current)
    else:
        shutil.rmtree(good)
        good.symlink_to(outside, target_is_directory=True)
        current.write_text(good.name)
    e = _open_within(20, corpus_copy, settings)
    assert not e.from_cache
    assert "June 21" in texts(e.search(ASK))


def test_a_special_file_inside_the_build_folder_is_not_read(corpus_copy, settings):
    open_engine(corpus_copy, settings)
    folder = published(corpus_copy, settings)
    (folder / "texts.bin").unlink()
    os.mkfifo(folder / "texts.bin")
    e = _open_within(20, corpus_copy, settings)
    assert not e.from_cache
