"""Processes under measurement: spawn, feed lines, time answers, read CPU time and memory.

Every system runs in its own process, so its memory is its own; the bench itself only writes
questions to pipes and reads answers.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class BenchError(Exception):
    pass


def say(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def child_env(index_dir: Path | None = None, root: Path = PROJECT_ROOT) -> dict[str, str]:
    """The environment of a measured process: ``root``'s code first on the path (another
    checkout's for ``--base``), ``INDEX_DIR`` set, no bot token."""
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    pp = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(root) + (os.pathsep + pp if pp else "")
    if index_dir is not None:
        env["INDEX_DIR"] = str(index_dir)
    return env


def status_kb(pid: int | str, key: str) -> int | None:
    """A ``/proc/PID/status`` figure in kB (VmHWM, VmRSS, RssAnon, RssFile), if readable."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    m = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) if m else None


def cpu_seconds(pid: int | str) -> float | None:
    """User + system CPU seconds of a live process and its threads (``/proc/PID/stat``): on a
    shared machine, steadier than wall time."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mb(kb: int | None) -> float | None:
    return None if kb is None else round(kb / 1024, 1)


def tail(path: Path, n: int = 2000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-n:]
    except OSError:
        return ""


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, in kB."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        total += status_kb(p, "VmRSS") or 0
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                kids = Path(f"/proc/{p}/task/{tid}/children").read_text().split()
                todo.extend(int(k) for k in kids)
        except OSError:
            pass
    return total


@dataclass
class RunResult:
    wall_s: float
    cpu_s: float  # user + system of the process and every child it waited for
    peak_tree_rss_mb: float  # largest sum of resident memory over the process tree (sampled)
    stdout: str
    returncode: int


def run_measured(cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> RunResult:
    """Run ``cmd`` to completion: wall time, CPU seconds and peak memory of its whole tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with log.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=err)
        peak = 0
        out: list[bytes] = []
        reader = threading.Thread(target=lambda: out.append(proc.stdout.read()))  # type: ignore[union-attr]
        reader.start()
        while proc.poll() is None:
            peak = max(peak, _tree_rss_kb(proc.pid))
            time.sleep(0.05)
        reader.join()
        wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return RunResult(
        wall_s=round(wall, 3),
        cpu_s=round(cpu, 2),
        peak_tree_rss_mb=round(peak / 1024, 1),
        stdout=b"".join(out).decode("utf-8", "replace"),
        returncode=proc.returncode,
    )


class Child:
    """A long-lived process fed one line at a time; stderr goes to a log file."""

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
                f"stderr:\n{tail(self.log)}"
            )
        return line

    def send(self, line: str) -> None:
        self.proc.stdin.write(line.encode("utf-8") + b"\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]

    def ask(self, line: str) -> tuple[bytes, float]:
        """Send one line, wait for one line back: (line, seconds)."""
        t0 = time.perf_counter()
        self.send(line)
        out = self.readline()
        return out, time.perf_counter() - t0

    def batch(self, lines: list[str]) -> tuple[list[bytes], float]:
        """All lines written at once (from a thread, so the pipes never block each other), all
        answers read: (answers, seconds from the first write to the last answer)."""
        data = "".join(q + "\n" for q in lines).encode("utf-8")

        def write() -> None:
            self.proc.stdin.write(data)  # type: ignore[union-attr]
            self.proc.stdin.flush()  # type: ignore[union-attr]

        t0 = time.perf_counter()
        writer = threading.Thread(target=write)
        writer.start()
        answers = [self.readline() for _ in lines]
        dt = time.perf_counter() - t0
        writer.join()
        return answers, dt

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid) or 0.0

    def rss(self) -> dict[str, float | None]:
        pid = self.proc.pid
        return {
            "peak_rss_mb": mb(status_kb(pid, "VmHWM")),
            "rss_mb": mb(status_kb(pid, "VmRSS")),
            "rss_anon_mb": mb(status_kb(pid, "RssAnon")),
            "rss_file_mb": mb(status_kb(pid, "RssFile")),
        }

    def close(self, timeout: float = 120) -> int:
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

    def __exit__(self, *exc: object) -> None:
        self.kill()
