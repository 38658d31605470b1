"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks.botapi.standin import BotAPIStandIn


@pytest.fixture
def botapi() -> Iterator[BotAPIStandIn]:
    """A running, strict Telegram Bot API stand-in; PTB: ``base_url=botapi.url + "/bot"``."""
    with BotAPIStandIn() as standin:
        yield standin


# Search fixtures over the real corpus (owned by the search tests).
from .search_fixtures import (  # noqa: E402, F401
    corpus,
    corpus_copy,
    corpus_dir,
    engine,
    settings,
    squad_engine,
)
