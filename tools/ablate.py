"""What each step of the question path buys: each switched off in turn, scored on the question
sets (natural.jsonl split into its tuning half, the odd ids, and its held-out half, the even ids;
dev.jsonl). A development tool; the README's table comes from it.

    .venv/bin/python tools/ablate.py [--corpus corpus] [--data tests/data]
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import builder, index, query, search, spelling  # noqa: E402
from bot.conversation import Conversation  # noqa: E402
from bot.engine import build_engine  # noqa: E402
from bot.evaluate import evaluate, load_questions  # noqa: E402

ENGINES: list = []  # engines whose cached word readings a change must clear


def clear_caches() -> None:
    query._neighbour_terms.cache_clear()
    for engine in ENGINES:
        engine.searcher._lex.read.cache_clear()


@contextlib.contextmanager
def patched(*changes: tuple[object, str, object]) -> Iterator[None]:
    old = [(obj, name, getattr(obj, name)) for obj, name, _ in changes]
    for obj, name, value in changes:
        setattr(obj, name, value)
    clear_caches()
    try:
        yield
    finally:
        for obj, name, value in old:
            setattr(obj, name, value)
        clear_caches()


STEPS: list[tuple[str, Callable[[], contextlib.AbstractContextManager[None]]]] = [
    ("everything on", lambda: patched()),
    (
        "no chat clean-up (shorthand, us/US, framing words)",
        lambda: patched(
            (query, "SHORTHAND", {}),
            (query, "_us_in_context", lambda q: q),
            (query, "FRAMING_WORDS", frozenset()),
        ),
    ),
    ("no spelling correction", lambda: patched((query, "_correction", lambda s, lex: None))),
    ("no clipped-word completion", lambda: patched((spelling, "MIN_PREFIX", 99))),
    ("no irregular forms", lambda: patched((query, "irregular_forms_of", lambda t: ()))),
    ("no word-vector neighbours", lambda: patched((query, "NEIGHBOUR_MIN_SIM", 2.0))),
    ("no answer types", lambda: patched((query, "answer_type", lambda q: None))),
    ("no background-sentence discount", lambda: patched((query, "BACKGROUND_WEIGHT", 1.0))),
    ("no coverage in the ranking", lambda: patched((search, "COVERAGE_POWER", 0.0))),
    ("no pronoun carry-over", lambda: patched((search, "CARRIED_OVER", 0.0))),
    ("no lead-paragraph context", lambda: patched((search, "LEAD_CREDIT", 0.0))),
    (
        "lead words at half credit in the ranking too",
        lambda: patched((search, "RANK_LEAD_CREDIT", search.LEAD_CREDIT)),
    ),
    (
        "no article references ('in the X piece')",
        lambda: patched(
            (query, "_ARTICLE_REFERENCE", re.compile(r"(?!)()()")),
            (search, "SELECTED_ARTICLE_BONUS", 1.0),
        ),
    ),
    (
        "no near-miss checks (who did what, whose words, ordinals, names asked for)",
        lambda: patched(
            (query, "_role_word", lambda plan, asking: 0),
            (query, "_speaker_words", lambda plan, asking: 0),
            (query, "ordinal_heads", lambda q: []),
            (query, "_name_request", lambda q: None),
        ),
    ),
    (
        "no fixed expressions ('in person')",
        lambda: patched((query, "_FIXED_EXPRESSIONS", re.compile(r"(?!)"))),
    ),
]


def score(engine, questions) -> str:  # noqa: ANN001
    m = evaluate(engine.search, questions, conversation=lambda: Conversation(engine)).metrics()
    return (
        f"{m['success@1']:.2f} / {m['success@3']:.2f} / {m['false_abstain_rate']:.2f} / "
        f"{m['abstain_accuracy']:.2f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--data", default="tests/data")
    args = ap.parse_args()
    data = Path(args.data)
    natural = load_questions(data / "natural.jsonl")
    odd = [q for q in natural if int(q["id"][1:]) % 2 == 1]
    even = [q for q in natural if int(q["id"][1:]) % 2 == 0]
    dev = load_questions(data / "dev.jsonl")
    dialogues = load_questions(data / "dialogues-dev.jsonl")
    engine = build_engine(Path(args.corpus))
    ENGINES.append(engine)
    print("s@1 / s@3 / false-abstain / abstain accuracy")
    print("| step | natural, odd (tuned on) | natural, even (held out) | dev | dialogues-dev |")
    print("|---|---|---|---|---|")
    for name, ctx in STEPS:
        with ctx():
            row = [score(engine, qs) for qs in (odd, even, dev, dialogues)]
        print(f"| {name} | " + " | ".join(row) + " |")

    # b is a build parameter (saved with the index): build once more with 0.75
    class Index75(index.BM25Index):
        @classmethod
        def from_arrays(cls, *args, **kwargs):  # noqa: ANN002, ANN003, ANN206
            return index.BM25Index.from_arrays(*args, **{**kwargs, "b": 0.75})

    with patched((builder, "BM25Index", Index75)):
        engine75 = build_engine(Path(args.corpus))
    assert engine75.searcher.index.b == 0.75
    row = [score(engine75, qs) for qs in (odd, even, dev, dialogues)]
    print("| BM25 b = 0.75 instead of 0.3 | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
