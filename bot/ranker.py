"""The learned order of candidates: BM25's evidence and the sentence model's, weighed together.

Every candidate passage gets the features below; a logistic regression fitted on the tuning
halves of the question sets (``tools/fit_ranker.py``, weights in ``data/ranker.json``) turns
them into one score, and the candidates are shown best first. Two weight sets are kept: one with
the sentence model's features, one without (``DENSE=off``, or a corpus larger than
``DENSE_MAX_PASSAGES``), each fitted on its own.

Features (all in [0, 1] or close to it, so the weights read as importances):

- ``bm25_pos``: 1 / (1 + place) in the BM25 stage's order (0 for a passage that only the
  sentence model brought in).
- ``bm25_rank``: the BM25 stage's ranking key relative to its best candidate.
- ``bm25_score``: the plain BM25 score relative to the best candidate's.
- ``coverage``: the share of the question's meaning the passage holds (``search.Evidence``).
- ``complete``: the passage holds every word the question requires.
- ``from_bm25``: the passage is among the BM25 stage's candidates.
- ``topical``: coverage with the words of the article's lead counted in full (within an
  article, what tells passages apart is the rest of the question).
- ``selected``: the passage's article is the one the question names ("the Hicks readout").
- ``sentence``: the largest share of the question's own words (by specificity) that one
  sentence of the passage holds together.
- ``cos``: cosine similarity of question and passage (sentence model).
- ``cos_gap``: that similarity minus the best similarity of any passage.
- ``cos_pos``: 1 / (1 + place) in the sentence model's order.

A second fitted model, the **gate**, decides whether the articles speak of what was asked at
all: from the question's best candidate (its log-odds and coverage), the best coverage of any
candidate and, with the sentence model, how near the nearest passage is. Below its threshold
(``gate.threshold``, chosen on the tuning halves so that at most 1 % of the answerable
questions fall below it) the question gets no quote in any tier: "What is the capital of
France?" is not answered with a passage about private capital.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

WEIGHTS_FILE = Path(__file__).with_name("data") / "ranker.json"
FEATURES = (
    "bm25_pos",
    "bm25_rank",
    "bm25_score",
    "coverage",
    "complete",
    "from_bm25",
    "topical",
    "selected",
    "sentence",
    "cos",
    "cos_gap",
    "cos_pos",
)
DENSE_FEATURES = frozenset({"cos", "cos_gap", "cos_pos"})
GATE_FEATURES = ("top_logodds", "top_coverage", "best_coverage", "max_cos", "top_cos")
DENSE_GATE_FEATURES = frozenset({"max_cos", "top_cos"})


def feature_names(dense: bool) -> tuple[str, ...]:
    return FEATURES if dense else tuple(f for f in FEATURES if f not in DENSE_FEATURES)


def gate_names(dense: bool) -> tuple[str, ...]:
    return (
        GATE_FEATURES if dense else tuple(f for f in GATE_FEATURES if f not in DENSE_GATE_FEATURES)
    )


def gate_features(x: np.ndarray, fused: np.ndarray, dense: bool) -> np.ndarray:
    """The gate's features of one question, from its candidates' rows ``x`` (columns:
    :func:`feature_names`) and their log-odds ``fused``."""
    names = feature_names(dense)
    cov = x[:, names.index("coverage")]
    top = int(np.argmax(fused))
    row = [float(fused[top]), float(cov[top]), float(cov.max())]
    if dense:
        cos = x[:, names.index("cos")]
        best = float(cos[0] - x[0, names.index("cos_gap")])  # cos_gap = cos - the best cos
        row += [best, float(cos[top])]
    return np.array(row, dtype=np.float64)


@dataclass(frozen=True)
class Ranker:
    """A fitted logistic regression over :data:`FEATURES` (or those without the model's)."""

    names: tuple[str, ...]
    weights: np.ndarray
    bias: float

    def score(self, x: np.ndarray) -> np.ndarray:
        """The log-odds that each row's passage answers (rows: candidates, columns: names)."""
        return x @ self.weights + self.bias


@dataclass(frozen=True)
class Gate(Ranker):
    """A fitted logistic regression over :func:`gate_names`: whether the question is about
    the articles at all; ``threshold`` on its log-odds."""

    threshold: float = -np.inf

    def open(self, row: np.ndarray) -> bool:
        return float(self.score(row)) >= self.threshold


def _part(spec: dict, key: str, names: tuple[str, ...], path: Path) -> tuple[np.ndarray, float]:
    part = spec[key]
    if tuple(part["features"]) != names:
        raise ValueError(
            f"{path}: {key} features {part['features']} do not match the code's; refit it"
        )
    return np.array(part["weights"], dtype=np.float64), float(part["bias"])


@cache
def load_ranker(dense: bool, path: Path = WEIGHTS_FILE) -> Ranker:
    spec = json.loads(path.read_text(encoding="utf-8"))
    names = feature_names(dense)
    weights, bias = _part(spec, "dense" if dense else "bm25", names, path)
    return Ranker(names, weights, bias)


@cache
def load_gate(dense: bool, path: Path = WEIGHTS_FILE) -> Gate | None:
    """The gate fitted for this kind of search, or None when none was fitted."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    key = "gate_dense" if dense else "gate_bm25"
    if key not in spec:
        return None
    names = gate_names(dense)
    weights, bias = _part(spec, key, names, path)
    return Gate(names, weights, bias, float(spec[key]["threshold"]))


def fit_logistic(
    x: np.ndarray,
    y: np.ndarray,
    l2: float = 1.0,
    weights: np.ndarray | None = None,
    iterations: int = 50,
) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method, the classes weighted to count
    equally (few candidates are right) and each row by ``weights``; returns (weights, bias)."""
    n, d = x.shape
    base = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    base = base * (n / base.sum())
    pos = max(float(base[y > 0].sum()), 1e-9)
    neg = max(float(base[y <= 0].sum()), 1e-9)
    sample = base * np.where(y > 0, n / (2 * pos), n / (2 * neg))
    a = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-(a @ w)))
        grad = a.T @ (sample * (p - y)) + reg * w
        hess = (a * (sample * p * (1 - p))[:, None]).T @ a + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w[:-1], float(w[-1])
