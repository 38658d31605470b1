"""Quotes only from the article files: every hit is checked against the cited lines of its file
at answer time (``Engine.verify_hits``), and files with any line ending are read alike."""

from __future__ import annotations

import dataclasses
import os

from bot.engine import build_engine, quote_in_file

from .search_fixtures import CORPUS_DIR

ASK = "When was INDUS-X launched?"


def test_real_hits_pass_and_altered_ones_are_dropped(engine, caplog):
    hits = engine.search(ASK, top=5)
    assert hits and all(quote_in_file(h, CORPUS_DIR) for h in hits)
    forged = dataclasses.replace(hits[0], text=hits[0].text.replace("June 21", "June 91"))
    moved = dataclasses.replace(hits[0], line_start=1, line_end=1)
    outside = dataclasses.replace(hits[0], file="../corpus/" + hits[0].file)
    kept = engine.verify_hits([forged, hits[0], moved, outside])
    assert kept == [hits[0]]
    assert engine.needs_rebuild
    engine.needs_rebuild = False  # the session engine is shared
    assert sum("quote not found" in r.getMessage() for r in caplog.records) == 3


def test_pieces_joined_with_ellipses_must_each_stand_in_the_cited_lines(engine):
    hit = engine.search(ASK)[0]
    words = hit.text.split()
    gapped = dataclasses.replace(hit, text=f"… {' '.join(words[:4])} … {' '.join(words[-4:])} …")
    assert quote_in_file(gapped, CORPUS_DIR)
    glued = dataclasses.replace(hit, text=f"{' '.join(words[:4])} {' '.join(words[-4:])}")
    assert not quote_in_file(glued, CORPUS_DIR)


def test_cr_only_line_endings_are_read_like_lf(tmp_path):
    """Found 11: CR-only line endings turned articles into "only furniture"."""
    source = (CORPUS_DIR / "003_720ff74dff0efb45.txt").read_text("utf-8")
    for name, ending in (("lf.txt", "\n"), ("cr.txt", "\r"), ("crlf.txt", "\r\n")):
        folder = tmp_path / name.split(".")[0]
        folder.mkdir()
        (folder / "003.txt").write_bytes(source.replace("\n", ending).encode("utf-8"))
    answers = {}
    for kind in ("lf", "cr", "crlf"):
        e = build_engine(tmp_path / kind)
        assert not e.problems, e.problems
        answers[kind] = [(h.line_start, h.line_end, h.text) for h in e.search(ASK)]
    assert answers["lf"] and answers["cr"] == answers["lf"] == answers["crlf"]
    assert "June 21" in answers["cr"][0][2]


def test_a_quote_stands_only_in_a_plain_file_or_a_symlink_inside_the_folder(engine, tmp_path):
    """What the answer-time check reads: the cited file as it is now (a rewrite after it was
    read is seen), a symlink inside the folder like its target, and nothing that is not an
    article file of the folder (a symlink out of it, a FIFO: refused without blocking)."""
    hit = engine.search(ASK)[0]
    assert "June 21" in hit.text
    folder, outside = tmp_path / "corpus", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    source = (CORPUS_DIR / hit.file).read_bytes()
    (folder / "plain.txt").write_bytes(source)
    (outside / "secret.txt").write_bytes(source)
    (folder / "inside.txt").symlink_to("plain.txt")
    (folder / "escape.txt").symlink_to(outside / "secret.txt")
    os.mkfifo(folder / "pipe.txt")
    verdict = {
        name: quote_in_file(dataclasses.replace(hit, file=name), folder)
        for name in ("plain.txt", "inside.txt", "escape.txt", "pipe.txt", "missing.txt")
    }
    assert verdict == {
        "plain.txt": True,
        "inside.txt": True,
        "escape.txt": False,
        "pipe.txt": False,
        "missing.txt": False,
    }
    # the same size and a new time: read again, and the altered quote no longer stands
    (folder / "plain.txt").write_bytes(source.replace(b"June 21", b"June 29"))
    st = os.stat(folder / "plain.txt")
    os.utime(folder / "plain.txt", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert not quote_in_file(dataclasses.replace(hit, file="plain.txt"), folder)


WRAPPED = (
    "The survey team reached the northern harbour on the morning of 4 March and began by "
    "measuring the depth of the channel at low tide. The deepest point they found was eleven "
    "metres, near the old lighthouse, and the shallowest was under two metres at the mouth of "
    "the river, where the silt settles every spring after the floods."
)


def test_a_quote_across_a_hard_wrapped_line_break_stands_and_nothing_else_is_forgiven(tmp_path):
    """A hard-wrapped paragraph is quoted with a space where the file breaks the line: the
    check folds whitespace, and only whitespace."""
    from .helpers.wrap import fold_s

    (tmp_path / "survey.txt").write_text("Harbour survey\n\n" + fold_s(WRAPPED, 60) + "\n")
    e = build_engine(tmp_path)
    (hit,) = e.search("How deep was the deepest point of the channel?", top=1)
    assert hit.line_start < hit.line_end and "\n" not in hit.text
    lines = (tmp_path / "survey.txt").read_text().split("\n")[hit.line_start - 1 : hit.line_end]
    assert hit.text not in "\n".join(lines)  # it crosses a line break...
    assert quote_in_file(hit, tmp_path)  # ...and stands
    assert not e.needs_rebuild
    words = hit.text.split()
    for forged in (
        hit.text.replace("eleven", "twelve"),
        hit.text.replace("eleven metres", "elevenmetres"),  # not whitespace: letters glued
        " ".join(words[:3] + words[4:]),  # a word left out
        hit.text.replace(",", ""),
    ):
        assert forged != hit.text
        assert not quote_in_file(dataclasses.replace(hit, text=forged), tmp_path), forged
    spaced = dataclasses.replace(hit, text=hit.text.replace(" ", "  \n "))
    assert quote_in_file(spaced, tmp_path)
