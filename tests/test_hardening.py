"""Hostile questions: arbitrary Unicode, control and format characters, emoji, lone surrogates,
markup fragments and 100,000-character strings.

Properties: search never raises, every quote stays verbatim in its cited lines, and every reply
(first page, compact, later page, no answer) is valid Telegram HTML of at most 4096 UTF-16 code
units once parsed. End to end, the bot answers each hostile message exactly once and the strict
Bot API stand-in accepts every sendMessage.
"""

from __future__ import annotations

import re
import string
import time
import unicodedata

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from benchmarks.botapi.harness import running_bot
from benchmarks.botapi.standin import parse_telegram_html
from bot.query import MAX_QUERY_WORDS as MAX_QUERY_TERMS
from bot.query import clean_question
from bot.render import TELEGRAM_LIMIT, cite, render_reply, utf16_len, visible_len
from bot.search import Hit

from .search_fixtures import CORPUS_DIR, assert_verbatim

# -- the pieces hostile questions are made of ---------------------------------------------------

CORPUS_WORDS = sorted(
    {w for p in CORPUS_DIR.glob("*.txt") for w in re.findall(r"[\w’'+-]+", p.read_text("utf-8"))}
)
CONTROL = [chr(c) for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))]
FORMAT = [
    "\u00ad",  # soft hyphen
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    *map(chr, range(0x202A, 0x202F)),  # LRE, RLE, PDF, LRO, RLO
    *map(chr, range(0x2066, 0x206A)),  # LRI, RLI, FSI, PDI
    "\u2060",  # word joiner
    "\ufeff",  # BOM / zero-width no-break space
    "\u061c",  # Arabic letter mark
    "\U000e0001",  # language tag
]
SEPARATORS = ["\u2028", "\u2029", "\u0085", "\u00a0", "\u3000", "\u180e", "\r\n", "\t", "\v"]
EMOJI = [
    "😀",
    "👍🏽",
    "👨‍👩‍👧‍👦",  # ZWJ family
    "🏳️‍🌈",  # ZWJ flag
    "🧑🏿‍🚀",
    "🇮🇳",  # regional-indicator flags
    "🇺🇸",
    "🇮🇳🇺🇸🇮",  # a dangling regional indicator
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿",  # tag sequence (Scotland)
    "1️⃣",
    "❤️",
    "\U0001f1e6",
]
SURROGATES = [chr(c) for c in (0xD800, 0xD83D, 0xDBFF, 0xDC00, 0xDE00, 0xDFFF)]
MARKUP = [
    "<b>",
    "</b>",
    "<i>",
    "</i>",
    '<a href="x">',
    "</a>",
    "<a href='javascript:alert(1)'>",
    "<blockquote>",
    "</blockquote>",
    "<blockquote expandable>",
    '<span class="tg-spoiler">',
    "<tg-spoiler>",
    "<code>",
    "<pre><code class='language-python'>",
    "<script>alert(1)</script>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;b&gt;",
    "&nbsp;",
    "&nbsp",
    "&#x1F600;",
    "&#0;",
    "&#xD800;",
    "&#99999999;",
    "&bogus;",
    "**",
    "__",
    "~~",
    "||",
    "`",
    "```",
    "[x](y)",
    "[LEMOA](http://example.com)",
    "![img](a.png)",
    "\\",
    "\\*",
    "# ",
    "> ",
    "- ",
    "{{",
    "%s%n%x",
    "${jndi:ldap://x}",
    "'; DROP TABLE articles; --",
    "/start",
    "/ask",
    "@QuoteTestBot",
]
PUNCTUATION = string.punctuation + "…–—“”‘’«»¿¡·•§¶†‡‰′″‹›※"

any_char = st.characters(exclude_categories=())  # everything Python's str can hold but Cs
surrogate = st.sampled_from(SURROGATES)
special = st.sampled_from(CONTROL + FORMAT + SEPARATORS + EMOJI + SURROGATES + MARKUP)
corpus_word = st.sampled_from(CORPUS_WORDS)
token = st.one_of(
    corpus_word,
    corpus_word,  # weighted: many questions should produce hits
    special,
    st.text(any_char, min_size=1, max_size=8),
    st.text(st.sampled_from(PUNCTUATION), min_size=1, max_size=4),
    # a corpus word with something glued into it
    st.builds(lambda w, s, k: w[:k] + s + w[k:], corpus_word, special, st.integers(0, 6)),
)
separator = st.sampled_from([" ", " ", " ", "", "\n", "\u200b", "\u00a0", "-", "/", "\t"])


def _long(seed: str, n: int = 100_000) -> str:
    return (seed * (n // len(seed) + 1))[:n]


# 100,000-character questions, built once (hypothesis max_size=100000 would be slow).
LONG_QUESTIONS = {
    "one_word": "a" * 100_000,
    "corpus_words": _long(" ".join(CORPUS_WORDS) + " "),
    "repeated_question": _long("What is LEMOA? "),
    "markup": _long("<b>INDUS-X</b> &amp; **Hegseth** [x](y) `code` "),
    "emoji_flags": _long("🇮🇳🇺🇸👨‍👩‍👧‍👦"),
    "format_chars": _long("\u202eLEMOA\u200b\u200f\u2066Jaishankar\u2069\ufeff"),
    "surrogates": _long("\ud800Pentagon\udfff \ud83d"),
    "controls": _long("\x00\x1bINDUS-X\x7f\r\n"),
    "punctuation": _long(PUNCTUATION),
    "no_spaces": _long("".join(CORPUS_WORDS[:500])),
}

questions = st.one_of(
    st.text(any_char, max_size=200),
    st.text(st.one_of(any_char, surrogate), max_size=60),
    st.text(st.sampled_from(PUNCTUATION + " "), max_size=80),
    st.lists(st.tuples(token, separator), max_size=25).map(
        lambda parts: "".join(a + b for a, b in parts)
    ),
    st.lists(corpus_word, min_size=1, max_size=40).map(" ".join),
    st.sampled_from(sorted(LONG_QUESTIONS.values())),
)


# -- the properties ---------------------------------------------------------------------------


def check_reply_html(reply_html: str) -> tuple[str, list[dict]]:
    """Telegram accepts it: parses, not empty, at most 4096 UTF-16 units; returns the parse."""
    plain, entities = parse_telegram_html(reply_html)  # raises on anything Telegram rejects
    assert plain.strip()
    assert utf16_len(plain) <= TELEGRAM_LIMIT
    assert visible_len(reply_html) == utf16_len(plain)  # render's own measure is exact
    return plain, entities


def check_question(engine, q: str) -> list[Hit]:
    hits = engine.search(q, top=5)
    assert len(hits) <= 5
    for hit in hits:
        assert_verbatim(hit)
    for reply in (
        render_reply(hits),
        render_reply(hits, compact=True),
        render_reply(hits, offset=3),
        render_reply(hits[:1]),
    ):
        check_reply_html(reply.html)
        assert reply.shown <= len(hits)
    return hits


@settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(q=questions)
def test_hostile_questions_never_break_search_or_render(engine, q):
    check_question(engine, q)


@settings(max_examples=300, deadline=None)
@given(q=questions)
def test_cleaned_question_has_no_control_format_or_surrogate_characters(q):
    cleaned = clean_question(q)
    assert not {unicodedata.category(c) for c in cleaned} & {"Cc", "Cf", "Cs", "Co", "Cn"}
    assert cleaned == cleaned.strip()
    cleaned.encode("utf-8")  # no lone surrogate survives


def test_hostile_questions_with_corpus_words_do_find_quotes(engine):
    """The mixture is not all noise: glued-in markup and invisible characters still find hits."""
    for q in (
        "\u202eWhat is LEMOA?\u202c",
        "<b>LEMOA</b> &amp; **INDUS-X**",
        "Who\u200b greeted\u200e Jaishankar\ufeff with a Navy\u2066 band?",
        "🇮🇳🇺🇸 When was INDUS-X launched? 👨‍👩‍👧‍👦",
        "\ud800LEMOA\udfff",
        "\x00Jaishankar\x1b Navy band\x7f",
        "[LEMOA](http://example.com) `QFMM`",
    ):
        hits = check_question(engine, q)
        assert hits, q


def test_no_answer_replies_are_valid_html():
    for offset in (0, 3):
        reply = render_reply([], offset=offset)
        assert reply.shown == 0
        check_reply_html(reply.html)


@pytest.mark.parametrize("name", sorted(LONG_QUESTIONS))
def test_100k_character_question_is_cut_to_the_first_terms(engine, name):
    q = LONG_QUESTIONS[name]
    assert len(q) == 100_000
    t0 = time.perf_counter()
    hits = check_question(engine, q)
    elapsed = time.perf_counter() - t0  # reported on failure only; not asserted
    plan = engine.searcher.plan(q)
    assert len(plan.words) <= MAX_QUERY_TERMS, (name, elapsed)
    assert len(hits) <= 5


def test_many_distinct_words_are_cut_to_max_query_terms(engine):
    q = " ".join(w for w in CORPUS_WORDS if w.isalpha() and len(w) > 4)
    assert len(q.split()) > 4 * MAX_QUERY_TERMS
    assert len(engine.searcher.plan(q).words) == MAX_QUERY_TERMS
    check_question(engine, q)


# -- rendering many long, hostile hits --------------------------------------------------------

HIT_PIECES = [
    "<",
    ">",
    "&",
    "&amp;",
    "&lt;b&gt;",
    "</blockquote>",
    "<b>",
    "😀",
    "🇮🇳",
    "👨‍👩‍👧‍👦",
    "\u200f",
    "a",
    "word",
    " ",
    " ",
    "\n",
    "“",
    "’",
    "…",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
]


@st.composite
def hostile_hit(draw) -> Hit:
    pieces = draw(st.lists(st.sampled_from(HIT_PIECES), min_size=1, max_size=200))
    text = "x" + "".join(pieces)[:398] + "."
    text = text.strip()
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=12)))
    spans = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
    start = draw(st.integers(1, 5000))
    return Hit(
        file=draw(
            st.sampled_from(["a.txt", "x<&>y.txt", "😀 & <b>.md", "001_de34fc66b35126ee.txt"])
        ),
        line_start=start,
        line_end=start + draw(st.integers(0, 3)),
        score=draw(st.floats(0, 100)),
        text=text,
        title=draw(
            st.one_of(
                st.none(),
                st.lists(st.sampled_from(HIT_PIECES), max_size=30).map("".join),
                st.just("India & U.S. <Commit> to “Deeper” Defense Collaboration 🇮🇳🇺🇸"),
                st.just("Run-on <headline> & more " * 400),
            )
        ),
        highlights=tuple(spans),
    )


def _utf16_slice(text: str, offset: int, length: int) -> str:
    return text.encode("utf-16-le")[offset * 2 : (offset + length) * 2].decode("utf-16-le")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hits=st.lists(hostile_hit(), min_size=1, max_size=14),
    offset=st.sampled_from([0, 3, 12]),
    compact=st.booleans(),
)
def test_many_long_hostile_hits_fit_in_one_message(hits, offset, compact):
    reply = render_reply(hits, offset=offset, compact=compact)
    plain, entities = check_reply_html(reply.html)
    quotes = [e for e in entities if e["type"] in ("blockquote", "expandable_blockquote")]
    # whole hits dropped from the end, never a cut tag: one quote per shown hit, each quote
    # exactly the hit's text, in order
    assert 1 <= reply.shown <= len(hits)
    assert len(quotes) == reply.shown
    assert reply.html.count("<blockquote") == reply.shown
    for q, h in zip(quotes, hits, strict=False):
        assert _utf16_slice(plain, q["offset"], q["length"]) == h.text
        assert cite(h, with_title=False) in plain
    # bold marks are exactly the highlights (those inside quotes)
    bold = [
        _utf16_slice(plain, e["offset"], e["length"])
        for e in entities
        if e["type"] == "bold"
        and any(q["offset"] <= e["offset"] < q["offset"] + q["length"] for q in quotes)
    ]
    assert bold == [h.text[s:e] for h in hits[: reply.shown] for s, e in h.highlights]
    # and it drops only what does not fit: one more hit would be too long
    if reply.shown < len(hits):
        more = render_reply(hits[: reply.shown + 1], offset=offset, compact=compact)
        assert more.shown == reply.shown
    if not compact and all(len(h.text) <= 300 for h in hits[: reply.shown]):
        assert not any(e["type"] == "expandable_blockquote" for e in entities)


def test_forty_maximal_hits_are_trimmed_to_whole_quotes():
    text = ("<&> 🇮🇳 “quote” " * 30)[:399].strip() + "."
    hits = [
        Hit(
            file=f"{k:03d}_<&>.txt",
            line_start=k,
            line_end=k + 2,
            score=1.0,
            text=text,
            title="T & <t> 👨‍👩‍👧‍👦" * 10,
            highlights=((0, 3), (5, 9), (len(text) - 6, len(text) - 1)),
        )
        for k in range(1, 41)
    ]
    for compact in (False, True):
        reply = render_reply(hits, compact=compact)
        plain, entities = check_reply_html(reply.html)
        assert 1 < reply.shown < len(hits)
        assert reply.html.count("<blockquote") == reply.shown
        assert reply.html.count("</blockquote>") == reply.shown
        assert plain.count(text) == reply.shown


def test_a_run_on_headline_does_not_push_the_reply_over_the_limit(tmp_path):
    """A lead line of 35,000 characters is picked as the title; the reply must still fit.
    (It did not: every hit carried the whole title, and the one-hit fallback cited it too.)"""
    from bot.engine import build_engine
    from bot.render import render_sources

    (tmp_path / "a.txt").write_text(
        " ".join(["Headline <word> &"] * 2000)
        + "\n\nThe lighthouse on the northern cape was rebuilt in 1902 by the navy.\n",
        "utf-8",
    )
    e = build_engine(tmp_path)
    hits = e.search("When was the lighthouse rebuilt?")
    assert hits and len(hits[0].title or "") > TELEGRAM_LIMIT
    for reply in (
        render_reply(hits),
        render_reply(hits, compact=True),
        render_sources(e.articles()),
    ):
        plain, _ = check_reply_html(reply.html)
        assert reply.shown == 1
    plain, entities = check_reply_html(render_reply(hits).html)
    assert "rebuilt in 1902" in plain and any(t["type"] == "blockquote" for t in entities)
    assert len(cite(hits[0])) < 400


# -- end to end: the bot answers every hostile message once -----------------------------------


def _sample(strategy, n: int) -> list[str]:
    """``n`` examples drawn from ``strategy``, the same ones on every run (derandomized)."""
    out: list[str] = []

    @settings(
        max_examples=n * 4,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(x):
        out.append(x)

    collect()
    return out


def _as_telegram_text(q: str) -> str:
    """What Telegram could deliver: lone surrogates as U+FFFD (the stand-in speaks UTF-8 like the
    real API, and clients cannot send them) and at most 4096 UTF-16 units."""
    q = q.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")[:4096]
    while utf16_len(q) > 4096:
        q = q[:-1]
    return q


def test_bot_answers_every_hostile_message_exactly_once(botapi, engine):
    sample = [_as_telegram_text(q) for q in _sample(questions, 40)]
    texts = list(dict.fromkeys(q for q in sample if q.strip() and len(q) > 3))[:14]
    texts += [
        _as_telegram_text(LONG_QUESTIONS["markup"]),
        _as_telegram_text(LONG_QUESTIONS["emoji_flags"]),
        _as_telegram_text(LONG_QUESTIONS["surrogates"]),
        "<b>What is LEMOA?</b> \u202e**🇮🇳**\u202c &amp;",
    ]
    assert len(texts) >= 15
    with running_bot(botapi, engine):
        # one private chat per message, so a per-user rate limit cannot swallow any of them
        chats = [botapi.private_chat(user_id=7000 + k) for k in range(len(texts))]
        for chat, text in zip(chats, texts, strict=True):
            botapi.send_text(chat, text)
        for chat in chats:
            botapi.wait_for_messages(1, chat_id=chat["id"], timeout=20)
        botapi.wait_until_consumed(timeout=10)
        time.sleep(0.5)
    for chat, text in zip(chats, texts, strict=True):
        assert len(botapi.sent_messages(chat["id"])) == 1, text[:80]
    assert [c for c in botapi.calls if c.method == "sendMessage" and c.status != 200] == []
    last = botapi.sent_messages(chats[-1]["id"])[0]["text"]
    assert "LEMOA" in last


def test_bold_and_underline_overlap_as_valid_telegram_html():
    """Matched words in bold and the answer span underlined may overlap in any way."""
    text = "Signed on 3 March 2021 <by> the board & the keepers."
    hit = Hit("a.txt", 1, 1, 1.0, text, None, highlights=((0, 6), (12, 17)), answers=((10, 22),))
    plain, entities = check_reply_html(render_reply([hit]).html)
    assert text in plain
    bold = {plain[e["offset"] : e["offset"] + e["length"]] for e in entities if e["type"] == "bold"}
    underline = "".join(
        plain[e["offset"] : e["offset"] + e["length"]] for e in entities if e["type"] == "underline"
    )
    assert "Signed" in bold and underline == "3 March 2021"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hits=st.lists(hostile_hit(), max_size=4),
    related=st.lists(hostile_hit(), max_size=3),
    question=st.text(max_size=60),
    carried=st.one_of(st.none(), st.lists(st.text(max_size=12), max_size=4)),
    score=st.sampled_from([0.0, 1e-9, 12.3456789, 1e21, float("inf"), float("nan")]),
    answers=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 400)), max_size=3),
)
def test_ask_json_lines_are_what_json_dumps_writes(
    hits, related, question, carried, score, answers
):
    """`ask --json` writes its lines directly (render.answer_json_text): the same text as
    json.dumps of the answer's object, for hostile texts, titles, file names and scores."""
    import dataclasses
    import json

    from bot.render import answer_json, answer_json_text
    from bot.search import Answer

    if hits:
        hits[0] = dataclasses.replace(hits[0], score=score, answers=tuple(answers))
    answer = Answer("asked", hits=tuple(hits), related=tuple(related))
    obj = answer_json(answer)
    obj["question"] = question
    if carried is not None:
        obj["carried"] = list(carried)
    assert answer_json_text(answer, question, carried) == json.dumps(obj, ensure_ascii=False)
    assert answer_json_text(answer) == json.dumps(answer_json(answer), ensure_ascii=False)
