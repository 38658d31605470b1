"""The trade-off of the gate (``bot/ranker.py``): its threshold moved up and down from the
fitted one, and what that does on the report halves (even ids / even lines) of each corpus:
false abstain (answerable questions given no confident quote), abstain accuracy (questions
the articles don't answer given no confident quote) and off-topic questions given no quote in
any tier. The README's curve comes from this command:

    .venv/bin/python tools/abstain_curve.py
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings  # noqa: E402
from bot.engine import build_engine  # noqa: E402
from bot.evaluate import evaluate, read_set  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CORPORA = (
    ("five articles", Path("corpus"), [DATA / "natural.jsonl"]),
    ("SQuAD", DATA / "squad" / "corpus", [DATA / "squad" / "squad_ans.jsonl",
                                          DATA / "squad" / "squad_none.jsonl"]),
)  # fmt: skip
SHIFTS = (None, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0)  # log-odds added to the threshold (None: no gate)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--half", default="even", choices=("odd", "even", "all"))
    args = ap.parse_args()
    off = read_set(DATA / "offtopic.jsonl", args.half)
    print("| gate threshold | corpus | false abstain | abstain accuracy | off-topic, no quote |")
    print("|---|---|---|---|---|")
    for name, folder, files in CORPORA:
        engine = build_engine(folder, settings=dataclasses.replace(Settings(), dense="on"))
        searcher = engine.searcher
        fitted = searcher.gate
        questions = [q for f in files for q in read_set(f, args.half)]
        for shift in SHIFTS:
            if shift is None:
                searcher.gate, label = None, "no gate"
            else:
                searcher.gate = dataclasses.replace(fitted, threshold=fitted.threshold + shift)
                label = "fitted" if shift == 0 else f"fitted {shift:+g}"
            res = evaluate(searcher.search, questions)
            answers = [searcher.answer(q["question"]) for q in off]
            quiet = [not (a.hits or a.related) for a in answers]
            m = res.metrics()
            silent = f"{np.mean(quiet):.2f} ({sum(quiet)}/{len(off)})"
            fa, ok = m["false_abstain_rate"], m["abstain_accuracy"]
            print(f"| {label} | {name} | {fa:.3f} | {ok:.2f} | {silent} |")
        searcher.gate = fitted
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
