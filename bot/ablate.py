"""What each heuristic buys: every switch of :class:`features.Features` turned off in turn,
scored on the development sets (``python -m bot ablate``, ``make ablate``).

One engine is opened per corpus (the saved index and the sentence model's vectors are reused
from ``INDEX_DIR``); each variant (``Engine.with_features``) asks every question of every set
through :func:`evaluate.evaluate`, conversations turn by turn. The table has one row per
variant: success@1 / success@3 / false-abstain rate / abstain accuracy on each set and on the
union of all of them (every question pooled), and the rule's verdict:

- a heuristic **helps** when the union is better with it than without it: success@1 + success@3
  + abstain accuracy - false-abstain rate is higher;
- it **costs** a set the success@3 it loses there (without it minus with it);
- it **pays** when it helps and costs none of issue 22's sets more than :data:`MAX_COST`
  success@3 (what it costs one of our other sets is noted beside the verdict).

The default sets: issue 22's development sets (the odd and the even half of natural.jsonl,
dev.jsonl and dialogues-dev.jsonl over the shipped articles, ``CORPUS_DIR``, and the SQuAD
copy's answerable and unanswerable questions over its own articles), then our other sets over
the shipped articles: extra.jsonl, fresh.jsonl and heldout.jsonl (questions two helpers wrote
from the articles alone: the nearest we have to people's own) and hinglish.jsonl (the only set
with the Hindi-English questions the issue names).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .config import PROJECT_ROOT, Settings
from .conversation import Conversation
from .engine import Engine, open_engine
from .evaluate import EvalResult, combined, evaluate, read_set
from .features import DEFAULT, Features, switches

MAX_COST = 0.01  # success@3 a heuristic may cost any one set
DATA = PROJECT_ROOT / "tests" / "data"
OUR_SETS = ("extra", "fresh", "heldout", "hinglish")  # beside issue 22's, over the articles


@dataclass(frozen=True)
class DevSet:
    """Questions (``evaluate.read_set``'s) over the articles of ``corpus``."""

    name: str
    corpus: Path
    questions: list[dict[str, Any]]
    judged: bool = True  # what a heuristic costs it decides the verdict (else: noted only)


def default_sets(corpus_dir: Path, data: Path = DATA) -> list[DevSet]:
    """Issue 22's development sets (natural.jsonl's two halves, dev.jsonl, dialogues-dev.jsonl
    over ``corpus_dir``, the SQuAD copy over its own articles), then extra.jsonl, fresh.jsonl,
    heldout.jsonl and hinglish.jsonl over ``corpus_dir``."""
    natural = data / "natural.jsonl"
    squad = data / "squad"
    return [
        DevSet("natural, odd", corpus_dir, read_set(natural, "odd")),
        DevSet("natural, even", corpus_dir, read_set(natural, "even")),
        DevSet("dev", corpus_dir, read_set(data / "dev.jsonl")),
        DevSet("dialogues-dev", corpus_dir, read_set(data / "dialogues-dev.jsonl")),
        DevSet(
            "squad",
            squad / "corpus",
            read_set(squad / "squad_ans.jsonl") + read_set(squad / "squad_none.jsonl"),
        ),
        *(DevSet(n, corpus_dir, read_set(data / f"{n}.jsonl"), judged=False) for n in OUR_SETS),
    ]


def variants(base: Features = DEFAULT) -> list[tuple[str, Features]]:
    """("everything on", ``base``), then each switch that ``base`` has on, switched off."""
    out = [("everything on", base)]
    out += [(f"no {name}", base.off(name)) for name, _ in switches() if base.is_on(name)]
    return out


def score(engine: Engine, questions: list[dict[str, Any]]) -> EvalResult:
    """``python -m bot eval``'s figures of ``engine`` on ``questions``."""
    return evaluate(engine.search, questions, conversation=lambda: Conversation(engine))


def _merit(res: EvalResult) -> float:
    m = res.metrics()
    return m["success@1"] + m["success@3"] + m["abstain_accuracy"] - m["false_abstain_rate"]


def verdict(sets: Sequence[DevSet], on: Sequence[EvalResult], off: Sequence[EvalResult]) -> str:
    """The rule, for a heuristic whose sets score ``on`` with it and ``off`` without it."""
    gain = _merit(combined(on)) - _merit(combined(off))
    costs = [
        (r_off.metrics()["success@3"] - r_on.metrics()["success@3"], s.name, s.judged)
        for s, r_on, r_off in zip(sets, on, off, strict=True)
        if r_on.answerable
    ]
    noted = "".join(
        f"; costs {name} {cost:.2f} S@3"
        for cost, name, judged in costs
        if not judged and cost > MAX_COST + 1e-9
    )
    cost, where = max(((c, n) for c, n, judged in costs if judged), default=(0.0, ""))
    if cost > MAX_COST + 1e-9:
        return f"drop: costs {where} {cost:.2f} S@3{noted}"
    if gain <= 1e-9:
        return f"drop: no gain on the union ({gain:+.3f}){noted}"
    return f"pays ({gain:+.3f}){noted}"


def cell(res: EvalResult) -> str:
    m = res.figures()
    return " / ".join(
        "-" if m[k] is None else f"{m[k]:.2f}"
        for k in ("success@1", "success@3", "false_abstain_rate", "abstain_accuracy")
    )


def ablate(
    sets: Sequence[DevSet],
    settings: Settings,
    out: TextIO = sys.stdout,
    open_corpus: Callable[[Path, Settings], Engine] = open_engine,
    rows: Iterable[tuple[str, Features]] | None = None,
) -> dict[str, list[EvalResult]]:
    """Print the table (a row as soon as it is scored); return each row's results by set."""
    engines: dict[Path, Engine] = {}
    for s in sets:
        if s.corpus not in engines:
            engines[s.corpus] = open_corpus(s.corpus, settings)
    names = [s.name for s in sets]
    print("success@1 / success@3 / false-abstain / abstain accuracy", file=out)
    print("| switched off | " + " | ".join([*names, "union", "verdict"]) + " |", file=out)
    print("|---" * (len(names) + 3) + "|", file=out)
    results: dict[str, list[EvalResult]] = {}
    for label, features in rows if rows is not None else variants(settings.features):
        variant = {c: e.with_features(features) for c, e in engines.items()}
        got = [score(variant[s.corpus], s.questions) for s in sets]
        results[label] = got
        first = next(iter(results.values()))
        judged = "" if got is first else verdict(sets, first, got)
        cells = [cell(r) for r in got] + [cell(combined(got)), judged]
        print(f"| {label} | " + " | ".join(cells) + " |", file=out, flush=True)
    return results
