"""Per-question cost of two checkouts of this project, side by side (issue 8's cost item: the
question path against the code before it). A development tool that prints figures; it asserts
nothing.

Each checkout answers the same questions in a long-lived ``python -m bot ask --json -`` process
over its own saved index of the same corpus; the two take turns, ``--rounds`` times; the figure
is the median ms per question, with the peak resident memory and the warm start (spawn -> first
answer) of each process. Corpus and questions are the benchmark's (``python -m benchmarks``
writes them under its work folder).

    git worktree add /tmp/old 6434442 && python3 -m venv /tmp/old/.venv \\
        && /tmp/old/.venv/bin/pip install -e /tmp/old
    .venv/bin/python tools/compare_checkouts.py /tmp/old . --kind english
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(tempfile.gettempdir()) / "article-quote-bot-bench"


def start(root: Path, corpus: Path, index_dir: Path, first: str) -> tuple[subprocess.Popen, float]:
    env = dict(os.environ, INDEX_DIR=str(index_dir))
    py = str(root / ".venv" / "bin" / "python")
    subprocess.run(
        [py, "-m", "bot", "index", "--corpus", str(corpus)],
        cwd=root, env=env, check=True, capture_output=True,
    )  # fmt: skip
    t0 = time.perf_counter()
    cmd = [py, "-m", "bot", "ask", "--json", "--top", "3", "--corpus", str(corpus), "-"]
    proc = subprocess.Popen(
        cmd, cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    ask(proc, [first])
    return proc, time.perf_counter() - t0


def ask(proc: subprocess.Popen, questions: list[str]) -> float:
    """All questions written at once (from a thread), all answers read: seconds."""
    data = "".join(q + "\n" for q in questions).encode("utf-8")

    def write() -> None:
        proc.stdin.write(data)  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]

    t0 = time.perf_counter()
    writer = threading.Thread(target=write)
    writer.start()
    for _ in questions:
        proc.stdout.readline()  # type: ignore[union-attr]
    writer.join()
    return time.perf_counter() - t0


def peak_rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) // 1024
    return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old", type=Path, help="checkout with its own .venv")
    ap.add_argument("new", type=Path, help="checkout with its own .venv")
    ap.add_argument("--kind", default="english", help="benchmark corpus kind")
    ap.add_argument("--passages", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    corpus = BENCH / f"corpus-{args.kind}-{args.passages}-s0"
    qfile = BENCH / f"run-{args.kind}-{args.passages}" / "questions.jsonl"
    if not corpus.is_dir() or not qfile.is_file():
        raise SystemExit(f"run python -m benchmarks --passages {args.passages} first")
    questions = [json.loads(line)["text"] for line in qfile.read_text("utf-8").splitlines()]
    warm, timed = questions[:20], questions[20:]
    roots = {"old": args.old.resolve(), "new": args.new.resolve()}
    procs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, root in roots.items():
            proc, warm_s = start(root, corpus, Path(tmp) / name, warm[0])
            ask(proc, warm[1:])
            procs[name] = (proc, warm_s)
        times: dict[str, list[float]] = {name: [] for name in procs}
        for r in range(args.rounds):
            for name in list(procs)[:: 1 if r % 2 == 0 else -1]:
                times[name].append(ask(procs[name][0], timed) / len(timed) * 1000)
        for name, (proc, warm_s) in procs.items():
            print(
                f"{args.kind} {name} ({roots[name]}): median {statistics.median(times[name]):.3f}"
                f" ms/question (rounds {', '.join(f'{t:.3f}' for t in times[name])}), peak RSS"
                f" {peak_rss_mb(proc.pid)} MB, warm start {warm_s:.2f} s"
            )
            proc.stdin.close()  # type: ignore[union-attr]
            proc.wait()
    ratio = statistics.median(times["new"]) / statistics.median(times["old"])
    print(f"{args.kind} new / old: {ratio:.2f}x per question")


if __name__ == "__main__":
    main()
