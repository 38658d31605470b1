"""bot/intake.py: names made safe, files checked against their suffix, saved whole and never
over another file, taken out and put back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot import intake
from bot.intake import Refused

ARTICLE = (
    "Harbour Opens New Ferry Terminal\n\n"
    "The new ferry terminal on the east quay opened on Monday, with room for three ships at once "
    "and a waiting hall for four hundred passengers, the harbour authority said.\n"
)


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\Windows\\evil.PDF", "evil.pdf"),
        (".bashrc", "bashrc"),
        ("...", "article"),
        ("", "article"),
        (None, "article"),
        ("Report (final) 2025.PDF", "Report_final_2025.pdf"),
        ("a\x00b\nc.txt", "ab_c.txt"),
        ("Ünïcode nämé.md", "Ünïcode_nämé.md"),
        ("x" * 300 + ".txt", "x" * intake.MAX_STEM + ".txt"),
    ],
)
def test_safe_names_stay_inside_the_folder(raw, safe):
    assert intake.safe_name(raw) == safe


def test_a_name_without_a_real_suffix_gets_the_one_given():
    assert intake.safe_name("india.us-defense", suffix=".html") == "india.us-defense.html"
    assert intake.safe_name("page.php", suffix=".html") == "page.html"


def test_unreadable_suffixes_are_refused_with_the_readable_ones_named():
    with pytest.raises(Refused, match=r"can't add \.exe files; I read .*\.txt"):
        intake.check_suffix("setup.exe")
    with pytest.raises(Refused, match="without a suffix"):
        intake.check_suffix("README")
    assert intake.check_suffix("NOTES.TXT") == ".txt"


@pytest.mark.parametrize(
    ("head", "suffix", "reason"),
    [
        (b"MZ\x90\x00\x03", ".pdf", "it is not a PDF but a Windows program"),
        (b"\x7fELF\x02\x01", ".docx", "it is not a Word (.docx) file but a Linux program"),
        (b"%PDF-1.7\n", ".txt", "it is not a text file but a PDF"),
        (b"\x89PNG\r\n", ".html", "it is not a web page but a PNG image"),
        (b"hello\x00world", ".md", "it is not a Markdown file (its first bytes are not one)"),
        (b"%PDF-1.4\n", ".pdf", None),
        (b"\xef\xbb\xbf%PDF-1.4", ".pdf", None),  # a few bytes before the header are read past
        (b"PK\x03\x04\x14\x00", ".docx", None),
        (b"<!doctype html><title>x</title>", ".html", None),
        ("Ünïcode text".encode(), ".txt", None),
    ],
)
def test_a_files_first_bytes_must_be_what_its_suffix_says(head, suffix, reason):
    assert intake.content_mismatch(head, suffix) == reason


@pytest.mark.parametrize(
    ("ctype", "suffix", "reason"),
    [
        ("application/pdf", ".pdf", None),
        ("application/octet-stream", ".pdf", None),  # the first bytes decide
        ("", ".docx", None),
        ("text/plain", ".md", None),
        ("text/html", ".pdf", "the server sent a web page (text/html), not a PDF"),
        ("image/png", ".html", "the server sent image/png, not a web page"),
    ],
)
def test_a_servers_content_type_must_agree_with_the_suffix(ctype, suffix, reason):
    assert intake.type_mismatch(ctype, suffix) == reason


def test_the_reader_decides_what_is_an_article(tmp_path):
    good = tmp_path / "ferry.txt"
    good.write_text(ARTICLE)
    article = intake.check_document(good, 1 << 20)
    assert article.title == "Harbour Opens New Ferry Terminal" and article.passages
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"caf\xe9 au lait")
    with pytest.raises(Refused, match=r"I could not read bad\.txt: not UTF-8"):
        intake.check_document(bad, 1 << 20)


def test_placing_never_overwrites_another_article(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ferry.txt").write_text("the article that was there")
    with intake.staging(corpus) as where:
        staged = where / "ferry.txt"
        staged.write_text(ARTICLE)
        assert intake.place(staged, corpus) == "ferry-2.txt"
        assert intake.place(staged, corpus) == "ferry-3.txt"
    assert (corpus / "ferry.txt").read_text() == "the article that was there"
    assert (corpus / "ferry-2.txt").read_text() == ARTICLE
    assert sorted(os.listdir(corpus)) == ["ferry-2.txt", "ferry-3.txt", "ferry.txt"]


def test_the_same_bytes_are_found_under_another_name(tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    (tmp_path / "b.txt").write_text(ARTICLE.upper())
    staged = tmp_path / ".upload-x"
    staged.mkdir()
    (staged / "new.txt").write_text(ARTICLE)
    assert intake.same_file_in(tmp_path, staged / "new.txt") == "a.txt"
    (staged / "other.txt").write_text(ARTICLE + "more")
    assert intake.same_file_in(tmp_path, staged / "other.txt") is None


def test_staging_is_hidden_and_cleared_even_when_the_upload_fails(tmp_path):
    with pytest.raises(Refused), intake.staging(tmp_path) as where:
        assert where.parent == tmp_path and where.name.startswith(".")
        (where / "half.pdf").write_bytes(b"%PDF-")
        raise Refused("the download broke off")
    assert list(tmp_path.iterdir()) == []


def test_a_stale_staging_folder_is_swept(tmp_path):
    stale = tmp_path / ".upload-left-by-a-crash"
    stale.mkdir()
    old = os.stat(stale).st_mtime - 2 * intake.STALE_STAGING_SECONDS
    os.utime(stale, (old, old))
    with intake.staging(tmp_path):
        pass
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_folder_is_a_reason_not_a_crash(tmp_path):
    with (
        pytest.raises(Refused, match="can't write to the corpus folder"),
        intake.staging(tmp_path / "missing"),
    ):
        pass


def test_take_out_moves_aside_and_put_back_restores(tmp_path):
    (tmp_path / "a.txt").write_text("first")
    kept = intake.take_out(tmp_path, "a.txt")
    assert kept == tmp_path / ".removed" / "a.txt" and not (tmp_path / "a.txt").exists()
    (tmp_path / "a.txt").write_text("second")
    again = intake.take_out(tmp_path, "a.txt")
    assert again != kept and again.read_text() == "second" and kept.read_text() == "first"
    intake.put_back(tmp_path, again, "a.txt")
    assert (tmp_path / "a.txt").read_text() == "second" and not again.exists()


@pytest.mark.parametrize("name", ["../a.txt", "sub/a.txt", ".removed", "", "a\x00.txt"])
def test_only_plain_article_names_can_be_removed(tmp_path, name):
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(Refused, match="is not the name of an article file"):
        intake.corpus_file(tmp_path, name)


def test_a_file_the_reader_does_not_read_cannot_be_removed(tmp_path):
    Path(tmp_path / "notes.odt").write_text("x")
    with pytest.raises(Refused, match="no article file named notes.odt"):
        intake.corpus_file(tmp_path, "notes.odt")
