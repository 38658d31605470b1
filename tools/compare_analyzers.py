"""Our analyser (``bot/analysis.py``: terms) against bm25s's (English stopwords, PyStemmer's
English stemmer), each feeding the same plain BM25 (bm25s's, k1 1.5, b 0.75 and our 0.3) over
the same passages of both corpora: success@1 / @3 of the answerable questions, no other step
of the question path. The README's analyser table comes from this command (bm25s is in the
dev extras):

    .venv/bin/python tools/compare_analyzers.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bm25s  # noqa: E402
import Stemmer  # noqa: E402

from bot.analysis import terms  # noqa: E402
from bot.engine import build_engine  # noqa: E402
from bot.evaluate import normalize, read_set  # noqa: E402

DATA = ROOT / "tests" / "data"
CORPORA = (
    ("five articles", ROOT / "corpus", [DATA / "natural.jsonl", DATA / "dev.jsonl"]),
    ("SQuAD", DATA / "squad" / "corpus", [DATA / "squad" / "squad_ans.jsonl"]),
)
STEMMER = Stemmer.Stemmer("english")


def ours(texts: list[str]) -> list[list[str]]:
    return [terms(t) for t in texts]


def bm25s_own(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(
        texts, stopwords="en", stemmer=STEMMER, return_ids=False, show_progress=False
    )


def right(q: dict, p) -> bool:
    if "line" in q:
        return p.file == q["file"] and p.line_start <= int(q["line"]) <= p.line_end
    t = normalize(p.text)
    return any(a["file"] == p.file and normalize(a["quote"]) in t for a in q["answers"])


def main() -> int:
    print("| corpus | analyser | k1, b | success@1 | success@3 |")
    print("|---|---|---|---|---|")
    for name, folder, files in CORPORA:
        store = build_engine(folder).searcher.store
        passages = [store.passage(i) for i in range(len(store))]
        texts = [p.text for p in passages]
        questions = [q for f in files for q in read_set(f) if "line" in q or q.get("answers")]
        for label, analyse in (("ours", ours), ("bm25s", bm25s_own)):
            for k1, b in ((1.5, 0.75), (1.5, 0.3)):
                model = bm25s.BM25(k1=k1, b=b)
                model.index(analyse(texts), show_progress=False)
                s1 = s3 = 0
                for q in questions:
                    asked = [t for t in analyse([q["question"]])[0] if t in model.vocab_dict]
                    if not asked:
                        continue
                    docs, _ = model.retrieve([asked], k=3, show_progress=False)
                    ok = [right(q, passages[int(d)]) for d in docs[0]]
                    s1 += ok[0]
                    s3 += any(ok)
                n = len(questions)
                print(f"| {name} | {label} | {k1}, {b} | {s1 / n:.3f} | {s3 / n:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
