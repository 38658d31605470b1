"""A plain bm25s script, the peer of the SQuAD part of ``python -m benchmarks``.

``python -m benchmarks.bm25s_ask --corpus DIR`` indexes every non-empty line of each ``.txt`` file
of DIR (bm25s, English stopwords, PyStemmer's English stemmer, its default BM25 and backend: what
a short script does), then answers each stdin line with one JSON line of its top 3 lines (file,
line numbers, text), in the shape of ``python -m bot ask --json -``. It is timed as a whole
process, start to exit, beside the project's ``ask``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bm25s_ask")
    p.add_argument("--corpus", required=True)
    p.add_argument("--top", type=int, default=3)
    args = p.parse_args(argv)

    import bm25s
    import Stemmer

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    stemmer = Stemmer.Stemmer("english")
    lines: list[tuple[str, int, str]] = []
    for path in sorted(Path(args.corpus).glob("*.txt")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                lines.append((path.name, n, line))
    retriever = bm25s.BM25()
    corpus_tokens = bm25s.tokenize(
        [t for _, _, t in lines], stopwords="en", stemmer=stemmer, show_progress=False
    )
    retriever.index(corpus_tokens, show_progress=False)
    k = min(args.top, len(lines))
    out = sys.stdout
    for raw in sys.stdin.buffer:
        q = raw.decode("utf-8", "replace").rstrip("\r\n")
        tokens = bm25s.tokenize(
            [q], stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
        )
        hits = []
        if tokens[0]:
            docs, scores = retriever.retrieve(tokens, k=k, show_progress=False)
            for d, s in zip(docs[0], scores[0], strict=True):
                if s > 0:
                    file, n, text = lines[int(d)]
                    hits.append({"file": file, "lines": [n, n], "score": float(s), "text": text})
        out.write(json.dumps({"question": q, "hits": hits}, ensure_ascii=False) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
