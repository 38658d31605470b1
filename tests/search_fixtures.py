"""Search fixtures over the real corpus files (imported by conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.corpus import Corpus, load_corpus
from bot.engine import Engine, build_engine

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


def file_lines(name: str) -> list[str]:
    return (CORPUS_DIR / name).read_text(encoding="utf-8").split("\n")
