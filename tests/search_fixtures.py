"""Search fixtures over the real corpus files (imported by conftest.py)."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from bot.config import Settings
from bot.corpus import Corpus, load_corpus
from bot.engine import Engine, build_engine, open_engine
from bot.excerpt import ELLIPSIS, SEP

PROJECT = Path(__file__).resolve().parent.parent
CORPUS_DIR = PROJECT / "corpus"
DATA = PROJECT / "tests" / "data"  # question sets (copied from shared/eval)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS_DIR


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus(CORPUS_DIR)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return build_engine(CORPUS_DIR)


@pytest.fixture(scope="session")
def squad_engine() -> Engine:
    """The SQuAD Wikipedia corpus (tests/data/squad/corpus), its index and sentence vectors
    saved where ``python -m bot eval`` keeps them (the checkout's INDEX_DIR): built once."""
    return open_engine(DATA / "squad" / "corpus", Settings())


def assert_verbatim(hit):
    cited = "\n".join(file_lines(hit.file)[hit.line_start - 1 : hit.line_end])
    body = hit.text
    if body.startswith(ELLIPSIS + " "):
        body = body[2:]
    if body.endswith(" " + ELLIPSIS):
        body = body[:-2]
    for piece in re.split(re.escape(SEP) + "|\n", body):
        assert piece and piece in cited, (hit.file, hit.lines, piece)
    for s, e in hit.highlights:
        assert 0 <= s < e <= len(hit.text)


def file_lines(name: str) -> list[str]:
    return (CORPUS_DIR / name).read_text(encoding="utf-8").split("\n")


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A copy of the real corpus a test may change."""
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, dst)
    return dst


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Default settings with the saved index in the test's own folder."""
    return dataclasses.replace(Settings(), index_dir=tmp_path / "index")
