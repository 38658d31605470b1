"""Callback data: what a button may carry and how strictly it is read."""

from __future__ import annotations

import pytest

from bot.telegram import paging


def test_buttons_carry_an_opaque_id_and_an_offset_within_64_bytes():
    kb = paging.more_keyboard("AbC_-123xyz0", 3, 3, more=True)
    data = [b.callback_data for b in kb.inline_keyboard[0]]
    assert data == ["m|AbC_-123xyz0|0", "m|AbC_-123xyz0|6"]
    assert all(len(d.encode()) <= paging.CALLBACK_MAX_BYTES for d in data)
    assert paging.parse(data[1]) == paging.MorePress("AbC_-123xyz0", 6)
    assert paging.more_keyboard("x", 0, 3, more=False) is None


@pytest.mark.parametrize(
    "data",
    [
        "q|0|What is LEMOA?",  # the old format carried the question itself
        "m|abc|\u0663",  # a digit, but not an ASCII one
        "m|abc|\uff13",  # fullwidth 3
        "m|abc|-1",
        "m|abc|99999",  # beyond any page
        "m|ab c|3",
        "m|abc|3|",
        "s|x",
        "",
        None,
    ],
)
def test_anything_else_is_a_stale_button(data):
    assert paging.parse(data) is None


def test_sources_pages():
    kb = paging.sources_keyboard(8, 8, 20, 8)
    assert [b.callback_data for b in kb.inline_keyboard[0]] == ["s|0", "s|16"]
    assert paging.parse("s|16") == paging.SourcesPress(16)
    assert paging.sources_keyboard(0, 5, 5, 5) is None
