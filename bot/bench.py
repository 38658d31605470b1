"""``python -m bot bench``: speed and memory of the bot next to plain rank-bm25 (and bm25s).

The benchmark generates a deterministic synthetic news-like corpus (Zipf-distributed vocabulary:
English function words on top, then pronounceable made-up words; ~55-word paragraphs, 10 per
article file, a title line per file) and questions drawn from its passages, then measures, each
in its own fresh process so that peak memory is that system's alone:

- **ours**: ``python -m bot index`` (build time), and ``python -m bot ask --json -`` fed one
  question at a time: cold start (spawn -> first answer, no saved index), warm start (the same
  with the index saved by the previous run), per-question latency over the whole path (analysis,
  ranking, excerpts, JSON, pipe I/O), peak RSS (``VmHWM``) of the serving process;
- **rank-bm25**: ``BM25Okapi`` over ``text.lower().split()`` tokens of the same passages,
  ``get_scores`` + sort per question, in-process timing (no I/O, no excerpts); warm start = load
  of a pickled model;
- **bm25s** (if importable): stopwords + Snowball, ``retrieve`` top-3 per question; warm start =
  ``BM25.load(mmap=True)``.

It prints figures (a table, ratios, and a final ``JSON: {...}`` line); it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GENERATOR_VERSION = 1
PASSAGES_PER_FILE = 10
FILES_PER_CHUNK = 1000
WARMUP_QUESTIONS = 20
BASELINE_WARMUP = 3
IO_FLOOR_LINES = 100
TOP = 3

# --- the synthetic corpus ----------------------------------------------------------------------

# The most common English function words: the top Zipf ranks, in rough frequency order.
_FUNCTION_TEXT = """
        the of and to a in is that for on with as was by at it he from his be are this an
        have has had not but or which were been their they its who said will would also one
        more than after about there her she we new first two can into other up out all over
        when some could what if no time year people so only them our just most these years
        like then may any because before while many where those such through during under
        between both each few own same here him how why down off again further once very
        should now being did does do having my your me us i you against above below until
        nor too last three made against since still well back even must much get make way
        another around last among while without however though against off per within
        upon whether yet across along already often us every whose whom itself ever never
"""
FUNCTION_WORDS = tuple(dict.fromkeys(_FUNCTION_TEXT.split()))
CONSONANTS = "bdfgklmnprstvz"
VOWELS = "aeiou"
FINALS = "nrslkmt"
SYNTHETIC_WORDS = 300_000
ZIPF_EXPONENT = 1.1
PARAGRAPH_WORDS = (35, 75)  # inclusive; mean 55
SENTENCE_WORDS = (15, 25)  # inclusive
MIN_LAST_SENTENCE = 6
TITLE_WORDS = 6
# Prefixes that shape a question; function words are mixed into the body as well.
QUESTION_PREFIXES = (
    "What about",
    "What did",
    "How did",
    "Why is",
    "Who said",
    "What is the",
    "Where is",
    "When did",
)
QUESTION_FILLERS = ("the", "of", "in", "and", "for", "to", "with", "on", "a")


def vocabulary(seed: int = 0) -> list[str]:
    """Words by Zipf rank: function words, then synthetic words (shorter ones more frequent)."""
    from .analysis import STOPWORDS

    rng = np.random.default_rng([seed, 7])
    syll = [c + v for c in CONSONANTS for v in VOWELS]
    two = [a + b for a in syll for b in syll]
    two_f = [w + f for w in two for f in FINALS]
    three = [a + b + c for a in syll for b in syll for c in syll]
    taken = set(FUNCTION_WORDS) | set(STOPWORDS)
    two = [w for w in two if w not in taken]
    rng.shuffle(two)
    longer = np.array([w for w in two_f + three if w not in taken], dtype=object)
    rng.shuffle(longer)
    need = SYNTHETIC_WORDS - len(two)
    return list(FUNCTION_WORDS) + two + longer[:need].tolist()


@dataclass
class CorpusInfo:
    folder: str
    n_passages: int
    seed: int
    files: int
    words: int
    bytes: int
    vocabulary: int
    generate_seconds: float
    cached: bool = False
    version: int = GENERATOR_VERSION


def _zipf_cdf(n: int) -> np.ndarray:
    w = np.arange(1, n + 1, dtype=np.float64) ** -ZIPF_EXPONENT
    cdf = np.cumsum(w)
    return cdf / cdf[-1]


def _sample(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    ids = np.searchsorted(cdf, rng.random(n), side="right")
    return np.minimum(ids, cdf.shape[0] - 1)


def file_name(i: int) -> str:
    return f"article_{i:06d}.txt"


def passage_location(p: int) -> tuple[str, int]:
    """(file name, 1-based line) of passage ``p``: title, blank, then a paragraph every 2 lines."""
    return file_name(p // PASSAGES_PER_FILE), 3 + 2 * (p % PASSAGES_PER_FILE)


def generate_corpus(folder: Path, n_passages: int, seed: int, progress: bool = False) -> CorpusInfo:
    """Write ``n_passages`` paragraphs, 10 per file, into ``folder`` (which must not exist)."""
    t0 = time.perf_counter()
    words = vocabulary(seed)
    lower = np.array(words, dtype=object)
    caps = np.array([w[0].upper() + w[1:] for w in words], dtype=object)
    cdf = _zipf_cdf(len(words))
    n_func = len(FUNCTION_WORDS)
    title_cdf = _zipf_cdf(len(words) - n_func)
    seps = np.array([" ", ". ", ".\n\n"], dtype=object)
    rng = np.random.default_rng([seed, 1])
    n_files = -(-n_passages // PASSAGES_PER_FILE)
    folder.mkdir(parents=True)
    total_words = total_bytes = 0
    bar = _bar(n_files, "generate corpus", progress)
    for f0 in range(0, n_files, FILES_PER_CHUNK):
        f1 = min(n_files, f0 + FILES_PER_CHUNK)
        p0, p1 = f0 * PASSAGES_PER_FILE, min(n_passages, f1 * PASSAGES_PER_FILE)
        n_par = p1 - p0
        lens = rng.integers(PARAGRAPH_WORDS[0], PARAGRAPH_WORDS[1] + 1, n_par)
        ends = np.cumsum(lens)
        starts = ends - lens
        n_tok = int(ends[-1])
        ids = _sample(rng, cdf, n_tok)
        # sentence ends inside each paragraph; the last sentence has at least 6 words
        max_sent = PARAGRAPH_WORDS[1] // SENTENCE_WORDS[0] + 1
        cum = np.cumsum(
            rng.integers(SENTENCE_WORDS[0], SENTENCE_WORDS[1] + 1, (n_par, max_sent)), axis=1
        )
        ok = cum <= (lens - MIN_LAST_SENTENCE)[:, None]
        sent_end = (starts[:, None] + cum - 1)[ok]
        code = np.zeros(n_tok, dtype=np.int8)
        code[sent_end] = 1
        code[ends - 1] = 2
        cap = np.zeros(n_tok, dtype=bool)
        cap[starts] = True
        cap[sent_end + 1] = True
        toks = np.where(cap, caps[ids], lower[ids])
        inter = np.empty(2 * n_tok, dtype=object)
        inter[0::2] = toks
        inter[1::2] = seps[code]
        pieces = inter.tolist()
        titles = caps[n_func + _sample(rng, title_cdf, (f1 - f0) * TITLE_WORDS)].tolist()
        for k, f in enumerate(range(f0, f1)):
            a = f * PASSAGES_PER_FILE - p0
            b = min(n_par, a + PASSAGES_PER_FILE)
            ta, tb = 2 * int(starts[a]), 2 * int(ends[b - 1])
            title = " ".join(titles[k * TITLE_WORDS : (k + 1) * TITLE_WORDS])
            text = title + "\n\n" + "".join(pieces[ta : tb - 1]) + ".\n"
            data = text.encode("ascii")
            (folder / file_name(f)).write_bytes(data)
            total_bytes += len(data)
        total_words += n_tok
        bar.update(f1 - f0)
    bar.close()
    return CorpusInfo(
        folder=str(folder),
        n_passages=n_passages,
        seed=seed,
        files=n_files,
        words=total_words,
        bytes=total_bytes,
        vocabulary=len(words),
        generate_seconds=round(time.perf_counter() - t0, 3),
    )


def ensure_corpus(workdir: Path, n_passages: int, seed: int, progress: bool = False) -> CorpusInfo:
    """The corpus for (N, seed) in ``workdir``, generated once and reused."""
    folder = workdir / f"corpus-{n_passages}-s{seed}"
    marker = workdir / f"corpus-{n_passages}-s{seed}.json"
    if marker.is_file() and folder.is_dir():
        try:
            info = CorpusInfo(**json.loads(marker.read_text(encoding="utf-8")))
        except (TypeError, ValueError):
            info = None
        if info is not None and info.version == GENERATOR_VERSION:
            info.cached = True
            info.folder = str(folder)
            return info
    tmp = workdir / f".corpus-{n_passages}-s{seed}.tmp"
    for stale in (tmp, folder):
        if stale.exists():
            shutil.rmtree(stale)
    marker.unlink(missing_ok=True)
    info = generate_corpus(tmp, n_passages, seed, progress)
    tmp.rename(folder)
    info.folder = str(folder)
    marker.write_text(json.dumps(asdict(info)), encoding="utf-8")
    return info


@dataclass(frozen=True)
class Question:
    text: str
    passage: int  # the passage the words were drawn from (global index, file order)


def make_questions(folder: Path, n_passages: int, n: int, seed: int) -> list[Question]:
    """``n`` questions, each made of 3-6 content words of one random passage plus fillers."""
    rng = np.random.default_rng([seed, 2])
    function = set(FUNCTION_WORDS)
    out: list[Question] = []
    cache: dict[str, list[str]] = {}
    for p in rng.integers(0, n_passages, n).tolist():
        name, _ = passage_location(p)
        paras = cache.get(name)
        if paras is None:
            text = (folder / name).read_text(encoding="ascii")
            paras = text.rstrip("\n").split("\n\n")[1:]
            cache = {name: paras}
        words = [w.strip(".").lower() for w in paras[p % PASSAGES_PER_FILE].split()]
        content = list(dict.fromkeys(w for w in words if w not in function))
        k = min(len(content), int(rng.integers(3, 7)))
        picked = sorted(rng.choice(len(content), size=k, replace=False).tolist())
        body = [content[i] for i in picked]
        for _ in range(int(rng.integers(1, 3))):
            pos = int(rng.integers(1, len(body))) if len(body) > 1 else len(body)
            body.insert(pos, QUESTION_FILLERS[int(rng.integers(len(QUESTION_FILLERS)))])
        prefix = QUESTION_PREFIXES[int(rng.integers(len(QUESTION_PREFIXES)))]
        out.append(Question(f"{prefix} {' '.join(body)}?", p))
    return out


# --- measuring helpers -------------------------------------------------------------------------


def _bar(total: int, desc: str, enabled: bool):  # noqa: ANN202
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, file=sys.stderr, disable=not enabled, leave=False)


def _say(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def _proc_status_kb(pid: int | str, key: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    m = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) if m else None


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """Peak resident set size (VmHWM) of a live process in MB; current RSS if /proc is absent."""
    kb = _proc_status_kb(pid, "VmHWM")
    if kb is not None:
        return round(kb / 1024, 1)
    try:
        import psutil

        p = psutil.Process() if pid == "self" else psutil.Process(int(pid))
        return round(p.memory_info().rss / 2**20, 1)
    except Exception:  # noqa: BLE001 - a missing figure is reported as null
        return None


def _stats_ms(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {}
    a = np.asarray(seconds) * 1000.0
    return {
        "median_ms": round(float(np.median(a)), 4),
        "p99_ms": round(float(np.percentile(a, 99)), 4),
        "mean_ms": round(float(a.mean()), 4),
        "max_ms": round(float(a.max()), 4),
    }


def _child_env(index_dir: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    pp = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(PROJECT_ROOT) + (os.pathsep + pp if pp else "")
    if index_dir is not None:
        env["INDEX_DIR"] = str(index_dir)
    return env


def code_version() -> str:
    """A hash of the bot's source files (not this one): tells whether they changed mid-run."""
    import hashlib

    h = hashlib.sha1()
    for f in sorted(Path(__file__).parent.glob("*.py")):
        if f.name != "bench.py":
            h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


def _tail(path: Path, n: int = 2000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-n:]
    except OSError:
        return ""


class BenchError(Exception):
    pass


class Child:
    """A subprocess fed one line at a time; stderr goes to a log file."""

    def __init__(self, cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.log = log
        self._log_f = log.open("wb")
        self.t_spawn = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log_f, env=env, cwd=cwd
        )

    def readline(self) -> bytes:
        line = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            self.proc.wait()
            raise BenchError(
                f"{self.proc.args!r} ended (exit {self.proc.returncode}) without output; "
                f"stderr:\n{_tail(self.log)}"
            )
        return line

    def ask(self, question: str) -> tuple[bytes, float]:
        """Send one line, wait for one line back: (line, seconds)."""
        stdin = self.proc.stdin
        t0 = time.perf_counter()
        stdin.write(question.encode("utf-8") + b"\n")  # type: ignore[union-attr]
        stdin.flush()  # type: ignore[union-attr]
        line = self.readline()
        return line, time.perf_counter() - t0

    def peak_rss_mb(self) -> float | None:
        return peak_rss_mb(self.proc.pid)

    def close(self, timeout: float = 600) -> int:
        """End of input; the exit status."""
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            if self.proc.stdout:
                self.proc.stdout.read()
            return self.proc.wait(timeout=timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log_f.close()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001
        self.kill()  # on errors and Ctrl-C; a no-op after close()


# --- ours ----------------------------------------------------------------------------------------


def _hit_at(obj: dict, q: Question) -> bool:
    name, line = passage_location(q.passage)
    quoted = obj["hits"] + obj.get("related", [])  # synthetic questions may lack their answer kind
    return any(h["file"] == name and h["lines"][0] <= line <= h["lines"][1] for h in quoted)


def run_ours(
    corpus: Path, workdir: Path, questions: list[Question], warmup: int, progress: bool
) -> dict[str, object]:
    py = sys.executable
    index_dir = workdir / f"index-{Path(corpus).name}"
    env = _child_env(index_dir)
    out: dict[str, object] = {"system": "ours", "index_dir": str(index_dir)}

    # 1. index build: `python -m bot index` (run in-process by a tiny wrapper that adds VmHWM)
    shutil.rmtree(index_dir, ignore_errors=True)
    _say("ours: python -m bot index ...")
    cmd = [py, "-m", "bot.bench", "--worker", "index", "--corpus", str(corpus)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, cwd=workdir, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise BenchError(f"`python -m bot index` failed ({r.returncode}):\n{r.stderr[-2000:]}")
    m = re.search(r"indexed .* in ([\d.]+) s", r.stdout)
    rss = re.search(r"^RSS_PEAK_MB (\S+)$", r.stdout, re.M)
    out["build_s"] = float(m.group(1)) if m else round(wall, 3)
    out["build_wall_s"] = round(wall, 3)
    out["index_peak_rss_mb"] = float(rss.group(1)) if rss and rss.group(1) != "None" else None
    out["index_output"] = m.group(0) if m else r.stdout.strip()[:200]

    ask_cmd = [py, "-m", "bot", "ask", "--json", "--top", str(TOP), "--corpus", str(corpus), "-"]

    # 2. cold start: no saved index
    shutil.rmtree(index_dir, ignore_errors=True)
    _say("ours: cold start ...")
    with Child(ask_cmd, env, workdir, workdir / "ours-cold.log") as child:
        child.ask(questions[0].text)
        out["cold_start_s"] = round(time.perf_counter() - child.t_spawn, 4)
        out["cold_peak_rss_mb"] = child.peak_rss_mb()
        child.close()
    saved = index_dir.is_dir() and any(index_dir.rglob("*"))
    out["index_saved"] = saved
    if saved:
        out["index_disk_mb"] = round(
            sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file()) / 2**20, 1
        )

    # 3. warm start and per-question latency, in one fresh process
    _say("ours: warm start and per-question latency ...")
    with Child(ask_cmd, env, workdir, workdir / "ours-warm.log") as child:
        child.ask(questions[0].text)
        out["warm_start_s"] = round(time.perf_counter() - child.t_spawn, 4)
        out["warm_start_peak_rss_mb"] = child.peak_rss_mb()
        for q in questions[1:warmup]:
            child.ask(q.text)
        timed = questions[warmup:]
        times: list[float] = []
        lines: list[bytes] = []
        bar = _bar(len(timed), "ours", progress)
        for q in timed:
            line, dt = child.ask(q.text)
            times.append(dt)
            lines.append(line)
            bar.update(1)
        bar.close()
        # the floor of that path: an empty line is answered without searching
        floor = [child.ask("")[1] for _ in range(IO_FLOOR_LINES)]
        out["io_floor_median_ms"] = round(float(np.median(floor)) * 1000, 4)
        out["warm_peak_rss_mb"] = out["peak_rss_mb"] = child.peak_rss_mb()
        # what the resident set is made of at the end: heap vs mapped index files
        for key in ("RssAnon", "RssFile"):
            kb = _proc_status_kb(child.proc.pid, key)
            out[f"warm_end_{key.lower()}_mb"] = round(kb / 1024, 1) if kb is not None else None
        rc = child.close()
    if rc != 0:
        raise BenchError(f"`python -m bot ask` exited {rc}:\n{_tail(child.log)}")
    log_text = _tail(child.log, 100_000)
    out["warm_used_saved_index"] = bool(saved) and not re.search(
        r"not usable|building index|rebuilding", log_text
    )
    answered = at3 = 0
    for q, line in zip(timed, lines, strict=True):
        obj = json.loads(line)
        if obj.get("question") != q.text:
            raise BenchError(f"answer out of order: {obj.get('question')!r} != {q.text!r}")
        answered += bool(obj["hits"] or obj.get("related"))
        at3 += _hit_at(obj, q)
    out.update(_stats_ms(times))
    out["questions_timed"] = len(times)
    out["answered"] = round(answered / len(timed), 4)
    out["source_at_3"] = round(at3 / len(timed), 4)
    return out


# --- baselines (each in its own process: `python -m bot.bench --worker NAME`) ------------------


def _passage_texts(corpus: Path) -> list[str]:
    from .corpus import load_corpus

    c = load_corpus(corpus)
    return [p.text for a in c.articles for p in a.passages]


def _read_questions(path: Path) -> list[Question]:
    with path.open(encoding="utf-8") as f:
        return [Question(**json.loads(line)) for line in f if line.strip()]


def _emit(tag: str, obj: object = None) -> None:
    sys.stdout.write(tag + ("" if obj is None else " " + json.dumps(obj)) + "\n")
    sys.stdout.flush()


def _serve_baseline(
    ask: Any, save: Any, questions: list[Any], args: argparse.Namespace, res: dict[str, Any]
) -> int:
    """The shared tail of a baseline worker: first answer, timed questions (cold phase), peak
    RSS, optional save of the model, result line."""
    ask(questions[0].text)
    _emit("FIRST")
    if args.phase == "cold":
        res.update(_timed_loop(ask, questions, args.warmup, args.n_questions))
    res["peak_rss_mb"] = peak_rss_mb()
    if args.phase == "cold" and args.save:
        t0 = time.perf_counter()
        save()
        res["save_s"] = round(time.perf_counter() - t0, 3)
    _emit("RESULT", res)
    return 0


def _timed_loop(ask, questions: list[Question], warmup: int, k: int) -> dict[str, object]:  # noqa: ANN001
    for q in questions[1:warmup]:
        ask(q.text)
    timed = questions[WARMUP_QUESTIONS:][:k]  # the questions ours is timed on (the first k)
    times: list[float] = []
    at3 = 0
    for q in timed:
        t0 = time.perf_counter()
        top = ask(q.text)
        times.append(time.perf_counter() - t0)
        at3 += q.passage in top
    res: dict[str, object] = dict(_stats_ms(times))
    res["questions_timed"] = len(times)
    res["source_at_3"] = round(at3 / len(timed), 4) if timed else None
    return res


def _worker_rank_bm25(args: argparse.Namespace) -> int:
    import pickle

    from rank_bm25 import BM25Okapi

    questions = _read_questions(Path(args.questions_file))
    model_file = Path(args.model)
    res: dict[str, object] = {}
    t0 = time.perf_counter()
    if args.phase == "cold":
        texts = _passage_texts(Path(args.corpus))
        tokenized = [t.lower().split() for t in texts]
        bm25 = BM25Okapi(tokenized)
        del tokenized
        res["build_s"] = round(time.perf_counter() - t0, 3)
    else:
        with model_file.open("rb") as f:
            texts, bm25 = pickle.load(f)
        res["load_s"] = round(time.perf_counter() - t0, 3)

    def ask(q: str) -> list[int]:
        scores = bm25.get_scores(q.lower().split())
        top = np.argsort(scores)[::-1][:TOP].tolist()
        _ = [texts[i] for i in top]
        return top

    def save() -> None:
        with model_file.open("wb") as f:
            pickle.dump((texts, bm25), f, protocol=pickle.HIGHEST_PROTOCOL)

    return _serve_baseline(ask, save, questions, args, res)


def _worker_bm25s(args: argparse.Namespace) -> int:
    import logging

    logging.disable(logging.WARNING)
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    questions = _read_questions(Path(args.questions_file))
    model_dir = Path(args.model)
    res: dict[str, object] = {}
    t0 = time.perf_counter()
    if args.phase == "cold":
        texts = _passage_texts(Path(args.corpus))
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        del tokens
        res["build_s"] = round(time.perf_counter() - t0, 3)
    else:
        retriever = bm25s.BM25.load(model_dir, load_corpus=True, mmap=True)
        texts, retriever.corpus = retriever.corpus, None  # retrieve() returns ids, as when cold
        res["load_s"] = round(time.perf_counter() - t0, 3)

    def ask(q: str) -> list[int]:
        qt = bm25s.tokenize(
            q, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False
        )
        docs, _scores = retriever.retrieve(qt, k=TOP, show_progress=False)
        top = [int(d) for d in docs[0]]
        _ = [texts[i] for i in top]
        return top

    def save() -> None:
        shutil.rmtree(model_dir, ignore_errors=True)
        retriever.save(model_dir, corpus=texts, show_progress=False)

    return _serve_baseline(ask, save, questions, args, res)


def _worker_index(args: argparse.Namespace) -> int:
    from .cli import main as cli_main

    rc = cli_main(["index", "--corpus", args.corpus])
    sys.stdout.write(f"RSS_PEAK_MB {peak_rss_mb()}\n")
    sys.stdout.flush()
    return rc


def _run_worker(
    name: str,
    phase: str,
    corpus: Path,
    workdir: Path,
    qfile: Path,
    n_questions: int,
    warmup: int,
    save: bool,
) -> dict[str, object]:
    model = workdir / (f"{name}-{corpus.name}" + ("" if name == "bm25s" else ".pickle"))
    cmd = [sys.executable, "-m", "bot.bench", "--worker", name, "--phase", phase]
    cmd += ["--corpus", str(corpus), "--questions-file", str(qfile), "--model", str(model)]
    cmd += ["--n-questions", str(n_questions), "--warmup", str(warmup)]
    if save:
        cmd.append("--save")
    with Child(cmd, _child_env(), workdir, workdir / f"{name}-{phase}.log") as child:
        child.readline()  # FIRST
        start = time.perf_counter() - child.t_spawn
        result = None
        while result is None:
            line = child.readline().decode()
            if line.startswith("RESULT "):
                result = json.loads(line[7:])
        rc = child.close()
    if rc != 0:
        raise BenchError(f"{name} worker exited {rc}:\n{_tail(child.log)}")
    result[f"{phase}_start_s"] = round(start, 4)
    return result


def run_baseline(
    name: str,
    corpus: Path,
    workdir: Path,
    qfile: Path,
    n_questions: int,
    warm: bool,
) -> dict[str, object]:
    _say(f"{name}: build, cold start, {n_questions} timed questions ...")
    cold = _run_worker(name, "cold", corpus, workdir, qfile, n_questions, BASELINE_WARMUP, warm)
    out: dict[str, object] = {"system": name, **cold}
    out["cold_peak_rss_mb"] = cold.get("peak_rss_mb")
    out["warm_start_s"] = None
    out["warm_peak_rss_mb"] = None
    if warm:
        _say(f"{name}: warm start (load the saved model) ...")
        w = _run_worker(name, "warm", corpus, workdir, qfile, 0, BASELINE_WARMUP, False)
        out["warm_start_s"] = w["warm_start_s"]
        out["warm_load_s"] = w.get("load_s")
        out["warm_peak_rss_mb"] = w.get("peak_rss_mb")
    return out


# --- report --------------------------------------------------------------------------------------


def machine_info() -> dict[str, object]:
    info: dict[str, object] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    kb = None
    try:
        m = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        kb = int(m.group(1)) if m else None
        cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        info["cpu"] = cpu.group(1).strip() if cpu else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    info["ram_gb"] = round(kb / 2**20, 1) if kb else None
    from importlib import metadata

    for pkg in ("numpy", "rank-bm25", "bm25s"):
        try:
            info[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            info[pkg] = None
    return info


def _ratio(a: object, b: object) -> float | None:
    if isinstance(a, int | float) and isinstance(b, int | float) and b > 0:
        return round(a / b, 3)
    return None


def ratios(ours: dict, other: dict) -> dict[str, float | None]:
    return {
        "median_other_over_ours": _ratio(other.get("median_ms"), ours.get("median_ms")),
        "p99_other_over_ours": _ratio(other.get("p99_ms"), ours.get("p99_ms")),
        "build_other_over_ours": _ratio(other.get("build_s"), ours.get("build_s")),
        "cold_start_other_over_ours": _ratio(other.get("cold_start_s"), ours.get("cold_start_s")),
        "warm_start_other_over_ours": _ratio(other.get("warm_start_s"), ours.get("warm_start_s")),
        "peak_rss_ours_over_other": _ratio(ours.get("peak_rss_mb"), other.get("peak_rss_mb")),
        "cold_peak_rss_ours_over_other": _ratio(
            ours.get("cold_peak_rss_mb"), other.get("cold_peak_rss_mb")
        ),
        "warm_peak_rss_ours_over_other": _ratio(
            ours.get("warm_peak_rss_mb"), other.get("warm_peak_rss_mb")
        ),
    }


def _x(v: object, digits: int = 2) -> str:
    return "-" if v is None else _fmt(v, digits) + "x"


def _fmt(v: object, digits: int = 2) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(
        f"{c:>{w}}" if i else f"{c:<{w}}"
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )


def format_table(res: dict) -> str:
    cols = [
        ("system", 10),
        ("passages", 10),
        ("build s", 9),
        ("cold start s", 13),
        ("warm start s", 13),
        ("median ms", 10),
        ("p99 ms", 9),
        ("timed q", 8),
        ("peak RSS MB", 12),
        ("RSS cold MB", 12),
        ("RSS warm MB", 12),
    ]
    widths = [w for _, w in cols]
    lines = [_row([c for c, _ in cols], widths)]
    lines.append("  ".join("-" * w for _, w in cols))
    n = res["n_passages"]
    for key in ("ours", "rank_bm25", "bm25s"):
        r = res.get(key)
        if not r or "skipped" in r:
            continue
        cells = [
            key.replace("_", "-"),
            _fmt(n),
            _fmt(r.get("build_s")),
            _fmt(r.get("cold_start_s")),
            _fmt(r.get("warm_start_s")),
            _fmt(r.get("median_ms"), 3),
            _fmt(r.get("p99_ms"), 3),
            _fmt(r.get("questions_timed")),
            _fmt(r.get("peak_rss_mb"), 0),
            _fmt(r.get("cold_peak_rss_mb"), 0),
            _fmt(r.get("warm_peak_rss_mb"), 0),
        ]
        lines.append(_row(cells, widths))
    return "\n".join(lines)


def format_report(res: dict) -> str:
    m = res["machine"]
    c = res["corpus"]
    ours = res["ours"]
    made = "cached" if c["cached"] else f"generated in {c['generate_seconds']} s"
    out = [
        f"machine: {m.get('cpu')}, {m.get('nproc')} CPU(s), {m.get('ram_gb')} GB RAM, "
        f"Python {m.get('python')}, numpy {m.get('numpy')}",
        f"corpus: N = {res['n_passages']:,} passages in {c['files']:,} files, "
        f"{c['words']:,} words, {c['bytes'] / 2**20:,.1f} MB, vocabulary {c['vocabulary']:,} "
        f"(seed {res['seed']}; {made})",
        f"questions: Q = {res['n_questions']:,} timed for ours (+{WARMUP_QUESTIONS} warm-up), "
        f"e.g. {res['sample_questions'][0]!r}",
        "",
        format_table(res),
        "",
        "build s: in-process time to read, analyse and index the corpus (ours: as printed by "
        f"`python -m bot index`, whose wall time incl. start-up and save was "
        f"{_fmt(ours.get('build_wall_s'))} s, "
        f"peak RSS {_fmt(ours.get('index_peak_rss_mb'), 0)} MB).",
        "cold/warm start: process spawn -> first answer, without / with a saved index "
        "(baselines: a pickled rank-bm25 model, bm25s.BM25.load(mmap=True)).",
        "peak RSS: VmHWM of the process that answered the timed questions (ours: the warm "
        "`ask` process; baselines: the one that built the model, their plain usage);",
        "  RSS cold = process that built the index and answered; RSS warm = process started "
        "from the saved index/model.",
        "ours: per question = `python -m bot ask --json -` round trip (analysis, ranking, "
        "excerpts, JSON, pipe I/O); "
        f"pipe + JSON floor (empty line) {_fmt(ours.get('io_floor_median_ms'), 3)} ms; "
        f"answered {ours.get('answered', 0):.1%}, source passage in the top {TOP}: "
        f"{ours.get('source_at_3', 0):.1%}; saved index: "
        f"{'yes' if ours.get('index_saved') else 'no'}"
        + (f" ({ours['index_disk_mb']} MB)" if ours.get("index_disk_mb") else "")
        + "; the serving process's resident set at the end: "
        f"{_fmt(ours.get('warm_end_rssanon_mb'), 0)} MB heap + "
        f"{_fmt(ours.get('warm_end_rssfile_mb'), 0)} MB mapped files.",
    ]
    if ours.get("index_saved") and not ours.get("warm_used_saved_index"):
        out.append(
            "WARNING: the warm-start process did not use the saved index (it rebuilt; see "
            "ours-warm.log in the workdir), so warm start and RSS warm are not warm figures."
        )
    if res.get("code_changed_during_run"):
        out.append(
            "WARNING: the bot's source files changed while ours was measured (the saved "
            "index is keyed on them); rerun for consistent figures."
        )
    for key in ("rank_bm25", "bm25s"):
        r = res.get(key)
        if not r:
            continue
        name = key.replace("_", "-")
        if "skipped" in r:
            out.append(f"{name}: skipped ({r['skipped']})")
            continue
        timed = r.get("questions_timed")
        how = (
            "`get_scores(q.lower().split())` + argsort"
            if key == "rank_bm25"
            else "tokenize (stopwords, Snowball) + retrieve(k=3)"
        )
        out.append(
            f"{name}: per question = in-process {how}, no I/O or excerpts, over {timed} "
            "question(s)"
            + (f" (SAMPLED: the first {timed} of the {res['n_questions']})" if r["sampled"] else "")
            + f"; source passage in the top {TOP}: {_fmt(r.get('source_at_3'))}"
        )
        rt = res["ratios"].get(key, {})
        out.append(
            f"  median: {name} / ours = {_x(rt.get('median_other_over_ours'), 1)}   "
            f"p99: {name} / ours = {_x(rt.get('p99_other_over_ours'), 1)}   "
            f"build: {name} / ours = {_x(rt.get('build_other_over_ours'))}   "
            f"cold start: {_x(rt.get('cold_start_other_over_ours'))}   "
            f"warm start: {_x(rt.get('warm_start_other_over_ours'))}"
        )
        out.append(
            f"  peak RSS: ours / {name} = {_x(rt.get('peak_rss_ours_over_other'))}   "
            f"cold: ours / {name} = {_x(rt.get('cold_peak_rss_ours_over_other'))}   "
            f"warm: ours / {name} = {_x(rt.get('warm_peak_rss_ours_over_other'))}"
        )
    return "\n".join(out)


# --- command -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bot bench",
        description="Benchmark the bot against plain rank-bm25 (and bm25s) on a synthetic corpus.",
    )
    p.add_argument("--passages", type=int, default=100_000, metavar="N", help="default 100000")
    p.add_argument("--questions", type=int, default=1000, metavar="Q", help="timed questions")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--workdir",
        metavar="DIR",
        help="corpus cache, indexes, logs (default: $TMPDIR/article-quote-bot-bench)",
    )
    p.add_argument("--skip-rank-bm25", action="store_true", help="do not run plain rank-bm25")
    p.add_argument(
        "--rank-bm25-questions",
        type=int,
        metavar="K",
        help="timed rank-bm25 questions (default: Q below 50k passages, 200 below 500k, else 20)",
    )
    p.add_argument("--skip-bm25s", action="store_true", help="do not run bm25s")
    p.add_argument("--bm25s-questions", type=int, metavar="K", help="default: Q")
    p.add_argument(
        "--skip-baseline-warm",
        action="store_true",
        help="do not save/load the baselines' models for their warm start",
    )
    p.add_argument("--json-out", metavar="FILE", help="also write the figures to FILE")
    # internal: the baseline / index processes
    p.add_argument("--worker", choices=("rank-bm25", "bm25s", "index"), help=argparse.SUPPRESS)
    p.add_argument("--phase", choices=("cold", "warm"), default="cold", help=argparse.SUPPRESS)
    p.add_argument("--corpus", help=argparse.SUPPRESS)
    p.add_argument("--questions-file", help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--n-questions", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--warmup", type=int, default=BASELINE_WARMUP, help=argparse.SUPPRESS)
    p.add_argument("--save", action="store_true", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # `python -m bot bench -- --passages N`
        argv = argv[1:]
    args = build_parser().parse_args(argv)
    if args.worker:
        worker = {"rank-bm25": _worker_rank_bm25, "bm25s": _worker_bm25s, "index": _worker_index}
        return worker[args.worker](args)
    if args.passages < 1 or args.questions < 1:
        print("error: --passages and --questions must be positive", file=sys.stderr)
        return 2
    try:
        return _bench(args)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _bench(args: argparse.Namespace) -> int:
    n, q = args.passages, args.questions
    progress = sys.stderr.isatty()
    workdir = Path(args.workdir or Path(tempfile.gettempdir()) / "article-quote-bot-bench")
    workdir.mkdir(parents=True, exist_ok=True)
    workdir = workdir.resolve()
    _say(f"N = {n:,} passages, Q = {q:,} questions, workdir {workdir}")
    info = ensure_corpus(workdir, n, args.seed, progress)
    _say(
        f"corpus {'reused' if info.cached else f'generated in {info.generate_seconds} s'}: "
        f"{info.folder}"
    )
    corpus = Path(info.folder)
    questions = make_questions(corpus, n, WARMUP_QUESTIONS + q, args.seed)
    qfile = workdir / f"questions-{n}-s{args.seed}-{q}.jsonl"
    qfile.write_text("".join(json.dumps(asdict(x)) + "\n" for x in questions), encoding="utf-8")

    res: dict[str, object] = {
        "n_passages": n,
        "n_questions": q,
        "seed": args.seed,
        "machine": machine_info(),
        "corpus": asdict(info),
        "questions_file": str(qfile),
        "sample_questions": [x.text for x in questions[WARMUP_QUESTIONS : WARMUP_QUESTIONS + 3]],
    }
    version = code_version()
    ours = run_ours(corpus, workdir, questions, WARMUP_QUESTIONS, progress)
    res["ours"] = ours
    res["code_version"] = version
    res["code_changed_during_run"] = code_version() != version
    res["ratios"] = {}
    if args.skip_rank_bm25:
        res["rank_bm25"] = {"skipped": "--skip-rank-bm25"}
    else:
        k = args.rank_bm25_questions
        if k is None:
            k = q if n < 50_000 else 200 if n < 500_000 else 20
        k = max(1, min(k, q))
        r = run_baseline("rank-bm25", corpus, workdir, qfile, k, not args.skip_baseline_warm)
        r["sampled"] = k < q
        res["rank_bm25"] = r
        res["ratios"]["rank_bm25"] = ratios(ours, r)
    if args.skip_bm25s:
        res["bm25s"] = {"skipped": "--skip-bm25s"}
    else:
        try:
            import bm25s  # noqa: F401
        except ImportError as exc:
            res["bm25s"] = {"skipped": f"not importable ({exc})"}
        else:
            k = max(1, min(args.bm25s_questions or q, q))
            r = run_baseline("bm25s", corpus, workdir, qfile, k, not args.skip_baseline_warm)
            r["sampled"] = k < q
            res["bm25s"] = r
            res["ratios"]["bm25s"] = ratios(ours, r)

    print(format_report(res))
    text = json.dumps(res)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    print("JSON: " + text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
