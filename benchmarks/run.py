"""``python -m benchmarks`` (``make bench``): this project against tantivy and bm25s (numba).

For each corpus kind (see ``corpus.py``), on the same passages and questions, in one run:

With ``--base DIR``, another checkout of the project (its own ``.venv``) is measured beside this
one as system ``base``, in the same turns (``make bench BASE=DIR``). Then, unless
``--squad-rounds 0``, the SQuAD part (``squad.py``): the whole question path on real paragraphs
against a bm25s script, and the sentence model's own cost. The synthetic corpora measure the
BM25 stage: ``DENSE=off`` (at 100k passages ``DENSE=auto`` is off too: ``DENSE_MAX_PASSAGES``).

1. **build**: ``python -m bot index`` and each peer's build, each in its own process: wall
   time, CPU seconds (the process and its workers), peak resident memory of the process tree;
2. **warm start**: a fresh serving process over the saved index -> its first answer;
3. **whole process, batch**: every question written at once to ``python -m bot ask --json -``
   (and to each peer's server, which answers in the same JSON lines with the same passages'
   texts) -> ms per question; the systems take turns, ``--rounds`` times;
4. **in-process**: ranking only, top 3, questions analysed beforehand (ours:
   ``BM25Index.top_k`` on the question's weighted terms; tantivy: ``searcher.search``; bm25s:
   ``retrieve``), the systems taking turns, ``--rounds`` times;
5. **exactness**: ours top_k against exhaustive scoring on every question (k = 3 and 30), and
   against rank-bm25's ``BM25Okapi.get_scores`` on a sample.

It prints tables, ratios and a final ``JSON: {...}`` line; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from .corpus import KINDS, Question, ensure_corpus, make_questions, passage_location
from .harness import BenchError, Child, child_env, run_measured, say
from .report import format_report
from .squad import DEFAULT_CORPUS, DEFAULT_QUESTIONS, base_python, bench_squad

WARMUP = 20
TOP = 3


def _stats(seconds: list[float]) -> dict[str, float]:
    a = np.asarray(seconds) * 1000.0
    return {
        "median_ms": round(float(np.median(a)), 4),
        "p99_ms": round(float(np.percentile(a, 99)), 4),
        "mean_ms": round(float(a.mean()), 4),
    }


def _index_of(name: str, kind_dir: Path, index_dir: Path) -> Path:
    return kind_dir / "index-base" if name.startswith("base") else index_dir


def _python(name: str, kind_dir: Path, index_dir: Path, base: Path | None) -> tuple[str, dict]:
    """The interpreter and environment of a system: ``base``/``base-index`` run the other
    checkout's code with its own venv and index folder; the rest this checkout's."""
    py, env = sys.executable, child_env(index_dir)
    if name.startswith("base"):
        assert base is not None
        py, env = base_python(base), child_env(_index_of(name, kind_dir, index_dir), root=base)
    # the BM25 stage: no sentence model (above DENSE_MAX_PASSAGES, 20k, auto is off anyway)
    env["DENSE"] = "off"
    return py, env


def build_all(
    kind_dir: Path, corpus: Path, systems: list[str], index_dir: Path, base: Path | None = None
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name in systems:
        py, env = _python(name, kind_dir, index_dir, base)
        if name in ("ours", "base"):
            shutil.rmtree(_index_of(name, kind_dir, index_dir), ignore_errors=True)
            cmd = [py, "-m", "bot", "index", "--corpus", str(corpus)]
        else:
            cmd = [py, "-m", "benchmarks.peers", name, "build", "--corpus", str(corpus)]
            cmd += ["--model", str(kind_dir / f"model-{name}")]
        say(f"{name}: build ...")
        r = run_measured(cmd, env, kind_dir, kind_dir / f"{name}-build.log")
        if r.returncode != 0:
            raise BenchError(f"{name} build failed ({r.returncode}); see {kind_dir}")
        out[name] = {
            "build_wall_s": r.wall_s,
            "build_cpu_s": r.cpu_s,
            "build_peak_tree_rss_mb": r.peak_tree_rss_mb,
        }
    return out


def _serve_cmd(
    name: str, py: str, corpus: Path, kind_dir: Path, qfile: Path, n_rank: int
) -> list[str]:
    if name in ("ours", "base"):  # the project itself, as a user runs it
        return [py, "-m", "bot", "ask", "--json", "--top", str(TOP), "--corpus", str(corpus), "-"]
    system = "ours" if name in ("ours-index", "base-index") else name
    cmd = [py, "-m", "benchmarks.peers", system, "serve", "--corpus", str(corpus)]
    cmd += ["--model", str(kind_dir / f"model-{name}"), "--questions", str(qfile)]
    n_rank = 0 if name == "base-index" else n_rank  # (exactness: this checkout's index only)
    return cmd + ["--warmup", str(WARMUP), "--rank-bm25-questions", str(n_rank)]


def bench_kind(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    n, q = args.passages, args.questions
    info = ensure_corpus(workdir, n, args.seed, kind)
    corpus = Path(info.folder)
    say(f"{kind}: corpus {corpus} ({'reused' if info.cached else 'generated'})")
    kind_dir = workdir / f"run-{kind}-{n}"
    kind_dir.mkdir(exist_ok=True)
    index_dir = kind_dir / "index-ours"
    questions = make_questions(corpus, n, WARMUP + q, args.seed)
    qfile = kind_dir / "questions.jsonl"
    qfile.write_text("".join(json.dumps(asdict(x)) + "\n" for x in questions), "utf-8")
    peers = [p for p in ("tantivy", "bm25s") if p not in args.skip]
    base = Path(args.base).resolve() if args.base else None
    mine = ["ours", "base"] if base else ["ours"]
    res: dict[str, Any] = {
        "corpus": asdict(info),
        "sample_questions": [x.text for x in questions[WARMUP : WARMUP + 3]],
    }
    res["systems"] = build_all(kind_dir, corpus, [*mine, *peers], index_dir, base)

    # serving processes, started one after another (warm start = spawn -> first answer)
    children: dict[str, Child] = {}
    indexes = ["ours-index", "base-index"] if base else ["ours-index"]
    try:
        for name in [*mine, *indexes, *peers]:
            py, env = _python(name, kind_dir, index_dir, base)
            cmd = _serve_cmd(name, py, corpus, kind_dir, qfile, args.rank_bm25_questions)
            child = Child(cmd, env, kind_dir, kind_dir / f"{name}-serve.log")
            children[name] = child
            if name not in ("ours", "base"):
                child.readline()  # READY
            child.send(questions[0].text)
            child.readline()
            warm = time.perf_counter() - child.t_spawn
            if name not in indexes:
                res["systems"][name]["warm_start_s"] = round(warm, 4)
                res["systems"][name]["warm_start_cpu_s"] = round(child.cpu(), 3)
            for x in questions[1:WARMUP]:
                child.ask(x.text)
        whole = [n for n in children if n not in indexes]
        timed = [x.text for x in questions[WARMUP:]]
        per_q: dict[str, list[float]] = {n: [] for n in whole}
        cpu_q: dict[str, list[float]] = {n: [] for n in whole}
        inproc: dict[str, list[float]] = {n: [] for n in [*indexes, *peers]}
        inproc30: list[float] = []
        for r in range(args.rounds):
            say(f"{kind}: round {r + 1}/{args.rounds}: whole process (batch), in-process")
            order = whole[r % len(whole) :] + whole[: r % len(whole)]
            for name in order:
                cpu0 = children[name].cpu()
                answers, dt = children[name].batch(timed)
                cpu_q[name].append((children[name].cpu() - cpu0) / len(timed))
                quoted = _check_answers(name, answers, questions[WARMUP:])
                per_q[name].append(dt / len(timed))
                res["systems"][name].update(quoted)
            order = list(inproc)
            order = order[r % len(order) :] + order[: r % len(order)]
            for name in order:
                line, _ = children[name].ask(f"#inproc {TOP}")
                inproc[name].extend(json.loads(line))
            line, _ = children["ours-index"].ask("#inproc 30")
            inproc30.extend(json.loads(line))
        for name in whole:
            s = res["systems"][name]
            s["whole_ms_per_question"] = round(float(np.median(per_q[name])) * 1000, 4)
            s["whole_rounds_ms"] = [round(x * 1000, 4) for x in per_q[name]]
            s["whole_cpu_ms_per_question"] = round(float(np.median(cpu_q[name])) * 1000, 4)
            s.update({f"serve_{k}": v for k, v in children[name].rss().items()})
        for name, times in inproc.items():
            key = name.removesuffix("-index")
            res["systems"][key]["inproc"] = _stats(times)
        res["systems"]["ours"]["inproc_k30"] = _stats(inproc30)
        say(f"{kind}: exactness checks ...")
        line, _ = children["ours-index"].ask("#check")
        res["exactness"] = json.loads(line)
        for name, child in children.items():
            if child.close() != 0:
                raise BenchError(f"{name} server exited with an error; see {child.log}")
        for name in mine:
            log = (kind_dir / f"{name}-serve.log").read_text("utf-8", "replace")
            used = not re.search(r"not usable|rebuilding|building", log)
            res[f"{name}_warm_used_saved_index"] = used
    finally:
        for child in children.values():
            child.kill()
    return res


def _check_answers(name: str, answers: list[bytes], questions: list[Question]) -> dict[str, float]:
    """Answers in order, one per question; the share answered (hits, or related passages)
    and the share whose source passage is among the quotes."""
    answered = at_source = 0
    for a, q in zip(answers, questions, strict=True):
        obj = json.loads(a)
        if obj.get("question") != q.text:
            raise BenchError(f"{name}: answer out of order: {obj.get('question')!r} != {q.text!r}")
        quoted = obj["hits"] + obj.get("related", [])
        answered += bool(quoted)
        file, line = passage_location(q.passage)
        at_source += any(
            h["file"] == file and h["lines"][0] <= line <= h["lines"][1] for h in quoted
        )
    return {
        "answered": round(answered / len(questions), 4),
        "source_quoted": round(at_source / len(questions), 4),
    }


def machine_info() -> dict[str, Any]:
    from importlib import metadata

    info: dict[str, Any] = {"nproc": os.cpu_count(), "python": platform.python_version()}
    try:
        cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        info["cpu"] = cpu.group(1).strip() if cpu else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    for pkg in ("numpy", "tantivy", "bm25s", "numba", "rank-bm25"):
        try:
            info[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            info[pkg] = None
    return info


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--passages", type=int, default=100_000, metavar="N")
    p.add_argument("--questions", type=int, default=1000, metavar="Q", help="timed questions")
    p.add_argument("--kinds", default=",".join(KINDS), help="corpus kinds (default: both)")
    p.add_argument("--rounds", type=int, default=3, help="turns each system takes (default 3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--skip", default="", help="peers to leave out, comma-separated (tantivy, bm25s)"
    )
    p.add_argument(
        "--rank-bm25-questions",
        type=int,
        default=None,
        metavar="K",
        help="questions checked against rank-bm25 (default 20; 0 above 200k passages)",
    )
    p.add_argument(
        "--base",
        metavar="DIR",
        help="another checkout of this project (its own .venv, made with make there), measured "
        "beside this one in the same run: 100k passages and the SQuAD corpus",
    )
    p.add_argument(
        "--squad-rounds", type=int, default=5, help="turns on the SQuAD corpus (0: skip it)"
    )
    p.add_argument(
        "--squad-no-model",
        action="store_true",
        help="on the SQuAD corpus, leave out DENSE=on and the sentence model's own cost",
    )
    p.add_argument("--squad-corpus", default=str(DEFAULT_CORPUS), metavar="DIR")
    p.add_argument(
        "--squad-questions",
        nargs="+",
        default=[str(f) for f in DEFAULT_QUESTIONS],
        metavar="FILE",
        help="question sets (JSON lines with a question field)",
    )
    p.add_argument("--workdir", metavar="DIR", help="default: $TMPDIR/article-quote-bot-bench")
    p.add_argument("--json-out", metavar="FILE")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.skip = {s for s in args.skip.split(",") if s}
    kinds = [k for k in args.kinds.split(",") if k]
    if (
        args.passages < 1
        or args.questions < 1
        or args.rounds < 1
        or args.squad_rounds < 0
        or set(kinds) - set(KINDS)
    ):
        print("error: positive --passages/--questions/--rounds; kinds: english, frequent")
        return 2
    if args.rank_bm25_questions is None:
        args.rank_bm25_questions = 20 if args.passages <= 200_000 else 0
    for peer, module in (("tantivy", "tantivy"), ("bm25s", "numba")):
        try:
            __import__(module)
        except ImportError:
            say(f"{peer}: not installed (pip install -e '.[bench]'); skipped")
            args.skip.add(peer)
    workdir = Path(args.workdir or Path(tempfile.gettempdir()) / "article-quote-bot-bench")
    workdir.mkdir(parents=True, exist_ok=True)
    workdir = workdir.resolve()
    res: dict[str, Any] = {
        "n_passages": args.passages,
        "n_questions": args.questions,
        "rounds": args.rounds,
        "machine": machine_info(),
        "base": str(Path(args.base).resolve()) if args.base else None,
        "kinds": {},
    }
    try:
        for kind in kinds:
            res["kinds"][kind] = bench_kind(kind, args, workdir)
        if args.squad_rounds > 0:
            res["squad"] = bench_squad(args, workdir)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_report(res))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    print("JSON: " + json.dumps(res), flush=True)
    return 0
