"""The systems compared, each run as its own process: ``python -m benchmarks.peers NAME MODE``.

- ``tantivy`` (Rust, BM25, block-max WAND): the same passages, an analyser like ours (simple
  tokenizer, lowercase, English stopwords, English stemmer), term frequencies without positions;
- ``bm25s`` with its numba backend: stopwords + Snowball, ``retrieve(k)``;
- ``ours``: the project's saved index, loaded the way ``python -m bot ask`` loads it, for the
  in-process figures (``BM25Index.top_k`` on the questions' weighted terms) and the exactness
  checks (top_k against exhaustive scoring on every question, and against rank-bm25's
  ``BM25Okapi.get_scores`` on a sample).

MODE ``build`` indexes the corpus into MODEL and exits; ``serve`` loads MODEL, prints READY,
then answers each stdin line like ``python -m bot ask --json -`` does (question -> one JSON line
with the top hits' file, lines and text), except a line ``#inproc K`` (time every question of
QUESTIONS in-process, ranking only, k=K: one JSON line of seconds) and ``#check`` (ours only).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .corpus import Question, passage_location

TOP = 3
_NON_WORD = re.compile(r"[^0-9A-Za-z]+")


def passage_texts(corpus: Path) -> list[str]:
    """The generated corpus's passages in order (title line skipped, one per paragraph)."""
    texts: list[str] = []
    for f in sorted(p for p in corpus.iterdir() if p.suffix == ".txt"):
        paras = f.read_text(encoding="ascii").rstrip("\n").split("\n\n")[1:]
        texts.extend(p.strip() for p in paras)
    return texts


def read_questions(path: Path) -> list[Question]:
    with path.open(encoding="utf-8") as f:
        return [Question(**json.loads(line)) for line in f if line.strip()]


def answer_json(question: str, docs: list[int], text_of: Any) -> str:
    hits = []
    for d in docs:
        name, line = passage_location(d)
        hits.append({"file": name, "lines": [line, line], "text": text_of(d)})
    return json.dumps({"question": question, "hits": hits}, ensure_ascii=False)


# --- tantivy -------------------------------------------------------------------------------------


def _tantivy_analyzer():  # noqa: ANN202
    import tantivy

    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stopword("english"))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


class Tantivy:
    def __init__(self, model: Path) -> None:
        import tantivy

        self.index = tantivy.Index.open(str(model))
        self.index.register_tokenizer("bench_en", _tantivy_analyzer())
        self.searcher = self.index.searcher()

    @staticmethod
    def build(texts: list[str], model: Path) -> None:
        import tantivy

        sb = tantivy.SchemaBuilder()
        sb.add_text_field("text", stored=True, tokenizer_name="bench_en", index_option="freq")
        sb.add_unsigned_field("passage", stored=True)
        model.mkdir(parents=True)
        index = tantivy.Index(sb.build(), path=str(model))
        index.register_tokenizer("bench_en", _tantivy_analyzer())
        writer = index.writer(heap_size=512_000_000, num_threads=0)
        for i, t in enumerate(texts):
            writer.add_document(tantivy.Document(text=t, passage=i))
        writer.commit()
        writer.wait_merging_threads()

    def query(self, q: str):  # noqa: ANN201
        clean = _NON_WORD.sub(" ", q).strip() or "nothing"
        return self.index.parse_query(clean, ["text"])

    def rank(self, query: Any, k: int) -> list[Any]:
        return [addr for _score, addr in self.searcher.search(query, k).hits]

    def answer(self, q: str) -> str:
        addrs = self.rank(self.query(q), TOP)
        docs = [self.searcher.doc(a) for a in addrs]
        by_id = {d["passage"][0]: d["text"][0] for d in docs}
        return answer_json(q, list(by_id), by_id.__getitem__)

    def timed(self, questions: list[Question], k: int) -> list[float]:
        queries = [self.query(q.text) for q in questions]
        out = []
        for query in queries:
            t0 = time.perf_counter()
            self.rank(query, k)
            out.append(time.perf_counter() - t0)
        return out


# --- bm25s (numba) -----------------------------------------------------------------------------


class Bm25s:
    def __init__(self, model: Path) -> None:
        import bm25s
        import Stemmer

        self.bm25s = bm25s
        self.stemmer = Stemmer.Stemmer("english")
        self.retriever = bm25s.BM25.load(model, mmap=True, load_corpus=True, show_progress=False)
        self.retriever.backend = "numba"
        self.texts = self.retriever.corpus
        self.retriever.corpus = None

    @staticmethod
    def build(texts: list[str], model: Path) -> None:
        import bm25s
        import Stemmer

        tokens = bm25s.tokenize(
            texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False
        )
        retriever = bm25s.BM25(backend="numba")
        retriever.index(tokens, show_progress=False)
        retriever.save(model, corpus=texts, show_progress=False)

    def tokens(self, q: str) -> list[str]:
        return self.bm25s.tokenize(
            q, stopwords="en", stemmer=self.stemmer, return_ids=False, show_progress=False
        )[0]

    def rank(self, tokens: list[str], k: int) -> list[int]:
        if not tokens:
            return []
        docs, _ = self.retriever.retrieve(
            [tokens], k=k, show_progress=False, n_threads=1, backend_selection="numba"
        )
        return [int(d) for d in docs[0]]

    def answer(self, q: str) -> str:
        docs = self.rank(self.tokens(q), TOP)
        return answer_json(q, docs, lambda d: self.texts[d]["text"])

    def timed(self, questions: list[Question], k: int) -> list[float]:
        toks = [self.tokens(q.text) for q in questions]
        out = []
        for t in toks:
            t0 = time.perf_counter()
            self.rank(t, k)
            out.append(time.perf_counter() - t0)
        return out


# --- ours (the saved index, in-process) ------------------------------------------------------


class Ours:
    def __init__(self, corpus: Path) -> None:
        from bot.config import load_settings
        from bot.engine import open_engine

        self.engine = open_engine(corpus, load_settings())
        if not self.engine.from_cache:
            print("WARNING: ours: no saved index, built one", file=sys.stderr)
        self.index = self.engine.searcher.index

    def plans(self, questions: list[Question]) -> list[tuple[list[int], list[float]]]:
        out = []
        for q in questions:
            p = self.engine.searcher.plan(q.text)
            out.append((p.ids, p.weights))
        return out

    def answer(self, q: str) -> str:
        from bot.render import answer_json

        return json.dumps(answer_json(self.engine.answer(q, top=TOP, highlight=False)))

    def timed(self, questions: list[Question], k: int) -> list[float]:
        out = []
        top_k = self.index.top_k
        for ids, weights in self.plans(questions):
            t0 = time.perf_counter()
            top_k(ids, weights, k)
            out.append(time.perf_counter() - t0)
        return out

    def exhaustive(self, ids: list[int], weights: list[float], k: int) -> tuple[list, list]:
        """Every passage scored (a dense sum, contributions in question order), then sorted."""
        idx = self.index
        total = np.zeros(idx.n_docs)
        holds = np.zeros(idx.n_docs, dtype=bool)
        for t, w in zip(ids, weights, strict=True):
            s, e = int(idx.post_ptr[t]), int(idx.post_ptr[t + 1])
            total[idx.post_docs[s:e]] += w * idx.post_scores[s:e]
            if w:
                holds[idx.post_docs[s:e]] = True
        cand = np.flatnonzero(holds)
        order = cand[np.lexsort((cand, -total[cand]))][:k]
        return order.tolist(), total[order].tolist()

    def check(self, questions: list[Question], n_rank_bm25: int) -> dict[str, Any]:
        """Disagreements of top_k with exhaustive scoring (k = 3 and 30, every question), and
        of exhaustive scoring with rank-bm25 on the first ``n_rank_bm25`` questions."""
        plans = self.plans(questions)
        bad = {3: 0, 30: 0}
        for ids, weights in plans:
            for k in bad:
                d, s = self.index.top_k(ids, weights, k)
                if (d.tolist(), s.tolist()) != self.exhaustive(ids, weights, k):
                    bad[k] += 1
        res: dict[str, Any] = {
            "questions": len(plans),
            "top3_disagreements": bad[3],
            "top30_disagreements": bad[30],
        }
        if n_rank_bm25 > 0:
            from rank_bm25 import BM25Okapi

            from bot.analysis import terms

            store = self.engine.searcher.store
            t0 = time.perf_counter()
            ref = BM25Okapi(
                [terms(store.text(i)) for i in range(len(store))],
                k1=self.index.k1,
                b=self.index.b,
                epsilon=self.index.epsilon,
            )
            names = sorted(self.index.vocab, key=self.index.vocab.__getitem__)
            wrong = 0
            for ids, _ in plans[:n_rank_bm25]:
                scores = ref.get_scores([names[t] for t in ids])
                d, s = self.index.top_k(ids, None, 30)
                holds = np.flatnonzero(scores > 0)
                want = holds[np.lexsort((holds, -scores[holds]))][:30]
                if d.tolist() != want.tolist() or s.tolist() != scores[want].tolist():
                    wrong += 1
            res["rank_bm25_questions"] = min(n_rank_bm25, len(plans))
            res["rank_bm25_disagreements"] = wrong
            res["rank_bm25_seconds"] = round(time.perf_counter() - t0, 1)
        return res


SYSTEMS = {"tantivy": Tantivy, "bm25s": Bm25s}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.peers")
    p.add_argument("system", choices=("tantivy", "bm25s", "ours"))
    p.add_argument("mode", choices=("build", "serve"))
    p.add_argument("--corpus", required=True)
    p.add_argument("--model", default="")
    p.add_argument("--questions", default="")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--rank-bm25-questions", type=int, default=0)
    args = p.parse_args(argv)
    logging.disable(logging.WARNING)
    corpus, model = Path(args.corpus), Path(args.model)
    if args.mode == "build":
        t0 = time.perf_counter()
        shutil.rmtree(model, ignore_errors=True)
        SYSTEMS[args.system].build(passage_texts(corpus), model)
        print(json.dumps({"build_s": round(time.perf_counter() - t0, 3)}), flush=True)
        return 0
    sysm = Ours(corpus) if args.system == "ours" else SYSTEMS[args.system](model)
    questions = read_questions(Path(args.questions)) if args.questions else []
    warm, timed = questions[: args.warmup], questions[args.warmup :]
    print("READY", flush=True)
    for line in sys.stdin:
        q = line.rstrip("\n")
        if q.startswith("#inproc"):
            k = int(q.split()[1])
            sysm.timed(warm, k)
            out: Any = sysm.timed(timed, k)
        elif q == "#check" and isinstance(sysm, Ours):
            out = sysm.check(timed, args.rank_bm25_questions)
        else:
            sys.stdout.write(sysm.answer(q) + "\n")
            sys.stdout.flush()
            continue
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
