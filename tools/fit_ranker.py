"""Fit ``bot/data/ranker.json``: the weights of the learned candidate order (``bot/ranker.py``).

Only the tuning halves are used (odd ids of the shared-format sets, odd line numbers of a
SQuAD-style set), so the other halves stay a fair report. Each set is read with its corpus:

    .venv/bin/python tools/fit_ranker.py \\
        --set corpus tests/data/natural.jsonl tests/data/dev.jsonl \\
        --set tests/data/squad/corpus tests/data/squad/squad_ans.jsonl

A candidate is right when its passage holds one of the question's quotes (shared format) or
covers its gold line (SQuAD style). Two weight sets are fitted: with the sentence model's
features and without them (each on the candidates its own search makes). The sets weigh the
same however many questions they have.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings  # noqa: E402
from bot.engine import build_engine  # noqa: E402
from bot.evaluate import normalize  # noqa: E402
from bot.ranker import WEIGHTS_FILE, feature_names, fit_logistic  # noqa: E402


def tuning_half(path: Path) -> list[dict]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        q = json.loads(line)
        if "turns" in q:
            continue
        if "line" in q:  # SQuAD style: odd line numbers of the file
            if n % 2 == 1:
                out.append(q)
        else:
            digits = re.sub(r"\D", "", str(q.get("id", "")))
            if digits and int(digits) % 2 == 1:
                out.append(q)
    return [q for q in out if q.get("answers")]


def is_right(q: dict, file: str, start: int, end: int, text: str) -> bool:
    if "line" in q:
        return file == q["file"] and start <= int(q["line"]) <= end
    t = normalize(text)
    return any(a["file"] == file and normalize(a["quote"]) in t for a in q["answers"])


def rows_of(searcher, questions: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for q in questions:
        plan = searcher.plan(q["question"])
        if plan.chitchat or not plan.own_terms_found:
            continue
        cands = list(searcher.candidates(plan))
        if not cands:
            continue
        docs, _, x = searcher.features(plan, q["question"], (), cands)
        y = []
        for d in docs:
            p = searcher.store.passage(d)
            y.append(is_right(q, p.file, p.line_start, p.line_end, p.text))
        xs.append(x)
        ys.append(np.array(y, dtype=np.float64))
    return np.vstack(xs), np.concatenate(ys)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", nargs="+", action="append", required=True, metavar="DIR FILE",
                    help="a corpus folder and the question files asked of it")  # fmt: skip
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    args = ap.parse_args()
    spec: dict = {}
    for dense in (True, False):
        settings = dataclasses.replace(Settings(), dense="on" if dense else "off", vector_dir=None)
        xs, ys, ws = [], [], []
        for corpus, *files in args.set:
            engine = build_engine(Path(corpus), settings=settings)
            questions = [q for f in files for q in tuning_half(Path(f))]
            x, y = rows_of(engine.searcher, questions)
            xs.append(x)
            ys.append(y)
            ws.append(np.full(len(y), 1.0 / len(y)))  # each corpus weighs the same
            print(
                f"{corpus}: {len(questions)} questions, {len(y)} candidates, {int(y.sum())} right"
            )
        x, y = np.vstack(xs), np.concatenate(ys)
        weights, bias = fit_logistic(x, y, args.l2, np.concatenate(ws))
        names = feature_names(dense)
        spec["dense" if dense else "bm25"] = {
            "features": list(names),
            "weights": [round(float(w), 6) for w in weights],
            "bias": round(bias, 6),
        }
        print(
            ("dense" if dense else "bm25") + ":",
            dict(zip(names, np.round(weights, 2), strict=True)),
        )
    spec["fitted"] = {
        "on": [" ".join(s) for s in args.set],
        "half": "odd ids / odd lines",
        "l2": args.l2,
        "date": time.strftime("%Y-%m-%d"),
    }
    args.out.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
