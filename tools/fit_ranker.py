"""Fit ``bot/data/ranker.json``: the weights of the learned candidate order (``bot/ranker.py``).

Only the tuning halves are used (odd ids of the shared-format sets, odd line numbers of a
SQuAD-style set), so the other halves stay a fair report. Each set is read with its corpus:

    .venv/bin/python tools/fit_ranker.py \\
        --set corpus tests/data/natural.jsonl tests/data/dev.jsonl tests/data/offtopic.jsonl \\
        --set tests/data/squad/corpus tests/data/squad/squad_ans.jsonl \\
              tests/data/squad/squad_none.jsonl tests/data/offtopic.jsonl

(``make fit`` runs this.) The ranker: a candidate is right when its passage holds one of the
question's quotes (shared format) or covers its gold line (SQuAD style); answerable questions
only. The gate: answerable questions against off-topic ones, each as far as
the search would quote something for it (a near miss on the articles' own topic is
another problem, left to the coverage tests); its threshold lets at most 1 % of the answerable
tuning questions through to an abstention. Everything is fitted twice: with the sentence
model's features and without them (each on the candidates its own search makes). Each corpus
weighs the same however many questions it has.
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
from bot.ranker import (  # noqa: E402
    WEIGHTS_FILE,
    Ranker,
    feature_names,
    fit_logistic,
    gate_features,
    gate_names,
    load_gate,
    load_ranker,
)


def tuning_half(path: Path) -> list[dict]:
    """The odd half of a set: by id in the shared format, by line number in SQuAD style."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        q = json.loads(line)
        if "turns" in q:
            continue
        if "line" in q or "answers" not in q:  # SQuAD style: odd line numbers of the file
            if n % 2 == 1:
                out.append(q)
        else:
            digits = re.sub(r"\D", "", str(q.get("id", "")))
            if digits and int(digits) % 2 == 1:
                out.append(q)
    return out


def answerable(q: dict) -> bool:
    return "line" in q or bool(q.get("answers"))


def is_right(q: dict, file: str, start: int, end: int, text: str) -> bool:
    if "line" in q:
        return file == q["file"] and start <= int(q["line"]) <= end
    t = normalize(text)
    return any(a["file"] == file and normalize(a["quote"]) in t for a in q["answers"])


def rows_of(searcher, questions: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """The ranker's rows: every candidate of every answerable question, right or not."""
    xs, ys = [], []
    for q in questions:
        if not answerable(q):
            continue
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


OFF_TOPIC = ("off-topic", "offtopic")  # the kinds of question the gate learns to close on


def gate_rows(searcher, questions: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """The gate's rows: one a question that the search (without a gate) quotes anything for."""
    searcher.gate = None
    dense = searcher.dense is not None
    xs, ys = [], []
    for q in questions:
        if not answerable(q) and q.get("kind") not in OFF_TOPIC:
            continue  # a near miss on the articles' topic is not what the gate tells apart
        got = searcher.answer(q["question"])
        if not (got.hits or got.related):
            continue
        plan = searcher.plan(q["question"])
        cands = list(searcher.candidates(plan))
        _, _, x = searcher.features(plan, q["question"], (), cands)
        xs.append(gate_features(x, searcher.ranker.score(x), dense))
        ys.append(float(answerable(q)))
    return np.vstack(xs), np.array(ys)


def _neutral_start(path: Path) -> None:
    """Weights the search can start with when the file's features are not the code's (a
    feature added or removed): the BM25 stage's own order, no gate."""
    try:
        load_ranker(True, path)
        load_ranker(False, path)
    except (OSError, KeyError, ValueError):
        spec = {
            kind: {
                "features": list(feature_names(dense)),
                "weights": [1.0 if n == "bm25_pos" else 0.0 for n in feature_names(dense)],
                "bias": 0.0,
            }
            for kind, dense in (("dense", True), ("bm25", False))
        }
        path.write_text(json.dumps(spec) + "\n", encoding="utf-8")
        load_ranker.cache_clear()
        load_gate.cache_clear()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", nargs="+", action="append", required=True, metavar="DIR FILE",
                    help="a corpus folder and the question files asked of it")  # fmt: skip
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--closed", type=float, default=0.01,
                    help="share of answerable tuning questions the gate may close on")  # fmt: skip
    ap.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    args = ap.parse_args()
    _neutral_start(args.out)
    spec: dict = {}
    for dense in (True, False):
        settings = dataclasses.replace(Settings(), dense="on" if dense else "off", vector_dir=None)
        kind = "dense" if dense else "bm25"
        engines, asked = [], []
        xs, ys, ws = [], [], []
        for corpus, *files in args.set:
            engine = build_engine(Path(corpus), settings=settings)
            questions = [q for f in files for q in tuning_half(Path(f))]
            engines.append(engine)
            asked.append(questions)
            x, y = rows_of(engine.searcher, questions)
            xs.append(x)
            ys.append(y)
            ws.append(np.full(len(y), 1.0 / len(y)))  # each corpus weighs the same
            print(f"{kind} {corpus}: {len(questions)} questions, {len(y)} candidates, "
                  f"{int(y.sum())} right")  # fmt: skip
        names = feature_names(dense)
        weights, bias = fit_logistic(np.vstack(xs), np.concatenate(ys), args.l2, np.concatenate(ws))
        spec[kind] = {
            "features": list(names),
            "weights": [round(float(w), 6) for w in weights],
            "bias": round(bias, 6),
        }
        print(f"{kind} ranker:", dict(zip(names, np.round(weights, 2), strict=True)))
        ranker = Ranker(names, np.array(spec[kind]["weights"]), spec[kind]["bias"])
        gx, gy, gw = [], [], []
        for engine, questions in zip(engines, asked, strict=True):
            engine.searcher.ranker = ranker
            x, y = gate_rows(engine.searcher, questions)
            gx.append(x)
            gy.append(y)
            gw.append(np.full(len(y), 1.0 / len(y)))
        x, y = np.vstack(gx), np.concatenate(gy)
        names = gate_names(dense)
        weights, bias = fit_logistic(x, y, args.l2, np.concatenate(gw))
        scores = x @ weights + bias
        # at most --closed of the answerable questions below the threshold
        threshold = float(np.quantile(scores[y > 0], args.closed)) - 1e-6
        spec["gate_" + kind] = {
            "features": list(names),
            "weights": [round(float(w), 6) for w in weights],
            "bias": round(bias, 6),
            "threshold": round(threshold, 6),
        }
        closed = scores < threshold
        print(f"{kind} gate:", dict(zip(names, np.round(weights, 2), strict=True)),
              f"threshold {threshold:.2f}: answerable closed {closed[y > 0].mean():.3f}, "
              f"others closed {closed[y == 0].mean():.3f} (of {int((y == 0).sum())})")  # fmt: skip
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
