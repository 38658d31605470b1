"""Benchmark the bot end to end: update -> reply through the Bot API stand-in.

Runs the real bot (``bot.telegram.app.serve``, PTB's real HTTP stack and long polling) against
``benchmarks.botapi.standin.BotAPIStandIn`` over the real corpus and reports

* latency: K questions asked one after another (median, p90, p99, max), from just before the
  update is enqueued in the stand-in to the moment the bot's ``sendMessage`` reply (replying to
  that question) is stored by the stand-in.  Questions are ``--gap`` apart (default 50 ms):
  the bot paces its sends to 25 messages/s, a little under Telegram's 30 (``SendPacer``), so
  questions asked back to back (``--back-to-back``) measure that pacing (~40 ms each), not the bot;
* throughput: U users in U private chats asking P questions each, all pushed at once; wall time
  until every reply has arrived, questions/second and the latency distribution under load.
  Every question must get exactly one reply, replying to it, and no error reply.

A benchmark command, not a test: ``make bench-bot`` or, from the project root,
``.venv/bin/python -m benchmarks.telegram [--questions K] [--users U] [--per-user P]
[--json-out FILE]``.  The last output line is ``JSON: {...}``.

The stand-in runs in the same process as the bot (threads), so the figures include its overhead
(HTTP server, strict HTML parsing, one OS thread per connection, all under the same GIL).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import platform
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import telegram

from bot.engine import Engine, build_engine
from bot.render import NO_ANSWER
from bot.telegram.handlers import ERROR_TEXT
from bot.telegram.ratelimit import SendPacer, TokenBucket

from .botapi.harness import running_bot
from .botapi.standin import BotAPIStandIn

PROJECT = Path(__file__).resolve().parent.parent
CORPUS_DIR = PROJECT / "corpus"
DEV_SET = PROJECT / "tests" / "data" / "dev.jsonl"
REPLY_TIMEOUT = 30.0  # seconds a single reply may take before the run is declared broken
GRACE = 0.5  # seconds to wait after the last reply, to catch late duplicates

# Realistic questions about the articles (the dev set's questions are added when available),
# with variations in wording/case/punctuation, and some the articles can't answer.
EXTRA_QUESTIONS = [
    "When was INDUS-X launched?",
    "what is indus-x",
    "Tell me about the INDUS-X summit",
    "who is pete hegseth",
    "Who is Kathleen Hicks?",
    "What did Jaishankar say about defence cooperation?",
    "Who met Jaishankar at the Pentagon?",
    "What is COMCASA?",
    "What is BECA",
    "What is iCET?",
    "Which Apache helicopters does India operate?",
    "What did Rajnath Singh and Hegseth agree on?",
    "aggression in the Indo-Pacific",
    "Stryker armored combat vehicles",
    "What is the Major Defense Partnership?",
    "Who is Prime Minister Narendra Modi?",
    "What is the US-India Strategic Partnership Forum?",
    "When did Hicks meet Misri?",
    "What is the Quad?",
    "Which agreements did India and the US sign?",
    "defense industrial cooperation",
    "What are the priorities of the defense partnership?",
    "What happened on September 25, 2024?",
    "What about the Security of Supply Arrangement?",
    "Why is the Indo-Pacific important to both countries?",
]
NO_MATCH_QUESTIONS = [
    "What is the weather in Delhi today?",
    "How do I cook pasta carbonara?",
    "Who won the football world cup in 2022?",
    "What is the boiling point of nitrogen?",
    "Recommend a good science fiction novel",
    "How tall is Mount Everest?",
]


def question_pool() -> list[str]:
    """A fixed, deterministic list of distinct questions (dev set first, when present)."""
    pool: list[str] = []
    if DEV_SET.exists():
        for line in DEV_SET.read_text(encoding="utf-8").splitlines():
            if line.strip():
                pool.append(json.loads(line)["question"])
    pool += EXTRA_QUESTIONS + NO_MATCH_QUESTIONS
    return list(dict.fromkeys(pool))


# -- the stand-in, with timestamps ----------------------------------------------------------------


class TimedStandIn(BotAPIStandIn):
    """The stand-in, plus the time each ``sendMessage`` was stored, keyed by the message it
    replies to.  Only adds bookkeeping after the stand-in's own handling."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reply_cond = threading.Condition()
        # (chat_id, replied-to message_id or None) -> [(perf_counter, plain text)]
        self._replies: dict[tuple[int, int | None], list[tuple[float, str]]] = {}

    def _m_send_message(self, p: dict[str, str]) -> Any:
        msg = super()._m_send_message(p)
        t = time.perf_counter()
        key = (msg["chat"]["id"], msg.get("reply_to_message", {}).get("message_id"))
        with self._reply_cond:
            self._replies.setdefault(key, []).append((t, msg.get("text", "")))
            self._reply_cond.notify_all()
        return msg

    def replies_to(self, chat_id: int, message_id: int | None) -> list[tuple[float, str]]:
        with self._reply_cond:
            return list(self._replies.get((chat_id, message_id), []))

    def replies_in(self, chat_ids: set[int]) -> int:
        with self._reply_cond:
            return sum(len(v) for (c, _), v in self._replies.items() if c in chat_ids)

    def wait_replies(self, keys: list[tuple[int, int]], timeout: float) -> bool:
        """Wait until every key has at least one reply; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._reply_cond:
            while True:
                if all(k in self._replies for k in keys):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._reply_cond.wait(remaining)


# -- log tally ------------------------------------------------------------------------------------


class LogTally(logging.Handler):
    """Counts WARNING+ records (by logger and level) and keeps the first few messages."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.samples: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.levelname} {record.name}"] += 1
        if len(self.samples) < 10:
            self.samples.append(f"{record.levelname} {record.name}: {record.getMessage()[:200]}")


# -- statistics -----------------------------------------------------------------------------------


def pct(sorted_values: list[float], q: float) -> float:
    """Percentile ``q`` (0-100) by linear interpolation between closest ranks."""
    if not sorted_values:
        return float("nan")
    pos = (len(sorted_values) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summary(latencies_ms: list[float]) -> dict[str, float]:
    s = sorted(latencies_ms)
    return {
        "n": len(s),
        "median_ms": round(pct(s, 50), 2),
        "p90_ms": round(pct(s, 90), 2),
        "p99_ms": round(pct(s, 99), 2),
        "max_ms": round(s[-1], 2) if s else float("nan"),
        "min_ms": round(s[0], 2) if s else float("nan"),
    }


# -- phases ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Asked:
    chat_id: int
    message_id: int
    question: str
    t0: float


def check_replies(
    standin: TimedStandIn, asked: list[Asked], chat_ids: set[int]
) -> tuple[list[float], dict[str, Any]]:
    """Latencies of ``asked`` plus correctness counts (exactly one non-error reply each, and no
    reply in those chats that answers something else)."""
    latencies, missing, duplicated, errors, no_match = [], 0, 0, 0, 0
    for a in asked:
        got = standin.replies_to(a.chat_id, a.message_id)
        if not got:
            missing += 1
            continue
        duplicated += len(got) > 1
        t1, text = got[0]
        latencies.append((t1 - a.t0) * 1000)
        errors += text.startswith(ERROR_TEXT)
        no_match += text.startswith(NO_ANSWER)
    total = standin.replies_in(chat_ids)
    checks = {
        "asked": len(asked),
        "replies": total,
        "missing": missing,
        "duplicated": duplicated,
        "stray": total - sum(len(standin.replies_to(a.chat_id, a.message_id)) for a in asked),
        "error_replies": errors,
        "no_match_replies": no_match,
    }
    checks["ok"] = (
        missing == 0
        and duplicated == 0
        and checks["stray"] == 0
        and errors == 0
        and total == len(asked)
    )
    return latencies, checks


def ask_one(standin: TimedStandIn, chat: dict[str, Any], question: str) -> Asked:
    t0 = time.perf_counter()
    msg = standin.send_text(chat, question)
    return Asked(chat["id"], msg["message_id"], question, t0)


def warm_up(standin: TimedStandIn, questions: list[str], n: int = 5) -> None:
    chat = standin.private_chat(user_id=9_000, first_name="Warm")
    for q in questions[:n]:
        a = ask_one(standin, chat, q)
        if not standin.wait_replies([(a.chat_id, a.message_id)], REPLY_TIMEOUT):
            raise SystemExit(f"warm-up: no reply to {q!r}\n{standin.dump()}")


def sequential(
    standin: TimedStandIn, questions: list[str], k: int, gap: float, user_id: int
) -> dict[str, Any]:
    chat = standin.private_chat(user_id=user_id, first_name="Solo")
    asked: list[Asked] = []
    started = time.perf_counter()
    for i in range(k):
        a = ask_one(standin, chat, questions[i % len(questions)])
        asked.append(a)
        if not standin.wait_replies([(a.chat_id, a.message_id)], REPLY_TIMEOUT):
            break
        if gap:
            time.sleep(gap)
    wall = time.perf_counter() - started
    time.sleep(GRACE)
    latencies, checks = check_replies(standin, asked, {chat["id"]})
    return {"gap_ms": gap * 1000, "wall_s": round(wall, 3), **summary(latencies), "checks": checks}


def concurrent(
    standin: TimedStandIn, questions: list[str], users: int, per_user: int, first_id: int
) -> dict[str, Any]:
    chats = [
        standin.private_chat(user_id=first_id + u, first_name=f"User{u}") for u in range(users)
    ]
    jobs = [
        (chats[u], questions[(u * per_user + j) % len(questions)])
        for j in range(per_user)
        for u in range(users)
    ]  # round-robin over users, like a busy moment
    calls_before = len(standin.calls)
    asked: list[Asked] = []
    started = time.perf_counter()
    for chat, q in jobs:
        asked.append(ask_one(standin, chat, q))
    pushed = time.perf_counter() - started
    done = standin.wait_replies([(a.chat_id, a.message_id) for a in asked], REPLY_TIMEOUT * 2)
    last = max(
        (r[0] for a in asked for r in standin.replies_to(a.chat_id, a.message_id)[:1]),
        default=time.perf_counter(),
    )
    wall = last - started
    time.sleep(GRACE)
    latencies, checks = check_replies(standin, asked, {c["id"] for c in chats})
    checks["all_arrived"] = done
    calls = standin.calls[calls_before:]
    statuses = Counter(f"{c.method} {c.status}" for c in calls if c.status != 200)
    polls = sum(c.method == "getUpdates" for c in calls)
    return {
        "users": users,
        "per_user": per_user,
        "questions": len(asked),
        "push_ms": round(pushed * 1000, 2),
        "wall_s": round(wall, 3),
        "questions_per_s": round(len(asked) / wall, 1) if wall > 0 else None,
        **summary(latencies),
        "get_updates_calls": polls,
        "non_200_calls": dict(statuses),
        "checks": checks,
    }


@contextlib.contextmanager
def unthrottled() -> Iterator[None]:
    """Switch off the bot's own overall send pacing (SendPacer: 25 msg/s, under Telegram's
    flood limit) for this process, to see the bot's raw capacity."""
    original = SendPacer.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.overall = TokenBucket(1_000_000, 1.0)

    SendPacer.__init__ = init  # type: ignore[method-assign]
    try:
        yield
    finally:
        SendPacer.__init__ = original  # type: ignore[method-assign]


def run_bot_phase(
    engine: Engine, index_dir: Path, questions: list[str], args: argparse.Namespace, *, full: bool
) -> dict[str, Any]:
    with TimedStandIn() as standin:
        standin.enforce_flood_limits = args.flood_limits
        with running_bot(standin, engine, index_dir=index_dir):
            warm_up(standin, questions)
            out: dict[str, Any] = {}
            if full:
                out["latency"] = sequential(standin, questions, args.questions, args.gap, 9_001)
                if args.back_to_back:
                    out["latency_back_to_back"] = sequential(
                        standin, questions, args.questions, 0.0, 9_002
                    )
                    time.sleep(1.5)  # let the send limiter's bucket drain
            out["throughput"] = concurrent(standin, questions, args.users, args.per_user, 20_000)
        return out


# -- output ---------------------------------------------------------------------------------------


def row(label: str, s: dict[str, Any]) -> str:
    return (
        f"  {label:<34} {s['n']:>5} {s['median_ms']:>9.1f} {s['p90_ms']:>9.1f} "
        f"{s['p99_ms']:>9.1f} {s['max_ms']:>9.1f}"
    )


def check_line(checks: dict[str, Any]) -> str:
    verdict = "OK" if checks["ok"] else "FAILED"
    return (
        f"{verdict}: {checks['replies']} replies to {checks['asked']} questions; "
        f"missing {checks['missing']}, duplicated {checks['duplicated']}, "
        f"stray {checks['stray']}, error replies {checks['error_replies']}, "
        f"no-match replies {checks['no_match_replies']}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=int, default=200, help="sequential questions (K)")
    ap.add_argument("--users", type=int, default=20, help="users asking at once (U)")
    ap.add_argument("--per-user", type=int, default=5, help="questions per user (P)")
    ap.add_argument(
        "--gap",
        type=float,
        default=0.05,
        help="seconds between sequential questions (default 0.05: slower than the bot's "
        "30 msg/s send limit, so its pacing doesn't enter the latency)",
    )
    ap.add_argument(
        "--back-to-back",
        action="store_true",
        help="also ask the sequential questions with no gap (then the send limiter's "
        "1/30 s pacing shows in the latency)",
    )
    ap.add_argument("--json-out", type=Path, help="also write the JSON result to this file")
    ap.add_argument(
        "--unthrottled",
        action="store_true",
        help="also run the throughput test with the bot's 30 msg/s send limiter switched off",
    )
    ap.add_argument(
        "--flood-limits",
        action="store_true",
        help="make the stand-in answer 429 above Telegram's flood limits (30 msg/s overall)",
    )
    args = ap.parse_args(argv)
    if min(args.questions, args.users, args.per_user) < 1:
        ap.error("--questions, --users and --per-user must be at least 1")
    if args.gap < 0:
        ap.error("--gap must not be negative")

    tally = LogTally()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().addHandler(tally)

    machine = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "ptb": telegram.__version__,
    }
    print("Bot benchmark: update -> reply through the Bot API stand-in")
    print(
        f"machine: {machine['nproc']} CPUs, Python {machine['python']}, {machine['platform']}, "
        f"python-telegram-bot {machine['ptb']}"
    )
    print(
        "note: the stand-in runs in the same process as the bot (threads), so the figures "
        "include its overhead"
    )
    t0 = time.perf_counter()
    engine = build_engine(CORPUS_DIR)
    print(
        f"corpus: {engine.n_articles} articles, {engine.n_passages} passages "
        f"(indexed in {time.perf_counter() - t0:.2f} s)"
    )
    questions = question_pool()
    print(f"questions: {len(questions)} distinct, used in a fixed order (warm-up: 5, excluded)")
    sys.stdout.flush()

    with tempfile.TemporaryDirectory(prefix="bench-bot-") as tmp:
        result = run_bot_phase(engine, Path(tmp), questions, args, full=True)
        if args.unthrottled:
            with unthrottled():
                extra = run_bot_phase(engine, Path(tmp), questions, args, full=False)
            result["throughput_unthrottled"] = extra["throughput"]

    lat, thr = result["latency"], result["throughput"]
    print()
    print(f"  {'':<34} {'n':>5} {'median':>9} {'p90':>9} {'p99':>9} {'max':>9}   (ms)")
    print(row(f"one at a time ({args.gap * 1000:.0f} ms apart)", lat))
    if "latency_back_to_back" in result:
        print(row("one at a time, back to back", result["latency_back_to_back"]))
    print(row(f"under load, {args.users} users x {args.per_user}", thr))
    if "throughput_unthrottled" in result:
        print(row("under load, send limiter off", result["throughput_unthrottled"]))
    print()
    print(f"one at a time: {check_line(lat['checks'])}")
    if "latency_back_to_back" in result:
        print(f"back to back: {check_line(result['latency_back_to_back']['checks'])}")
    runs = [("throughput", thr)]
    if "throughput_unthrottled" in result:
        runs.append(("throughput, send limiter off", result["throughput_unthrottled"]))
    for name, t in runs:
        print(
            f"{name}: {t['questions']} questions from {t['users']} users pushed in "
            f"{t['push_ms']:.1f} ms; all replies after {t['wall_s']:.2f} s = "
            f"{t['questions_per_s']} questions/s ({t['get_updates_calls']} getUpdates calls)"
        )
        print(f"  {check_line(t['checks'])}")
        if t["non_200_calls"]:
            print(f"  non-200 Bot API answers: {t['non_200_calls']}")
    print(
        "note: the bot's send pacing (SendPacer) keeps replies at 25 messages/s, a "
        "little under Telegram's 30 (a burst, then 1 per 40 ms), which caps the throughput figure"
    )
    logs = {"counts": dict(tally.counts), "samples": tally.samples}
    if tally.counts:
        print(f"warnings/errors logged: {dict(tally.counts)}")
    else:
        print("warnings/errors logged: none")

    report = {
        "machine": machine,
        "corpus": {"articles": engine.n_articles, "passages": engine.n_passages},
        **result,
        "logs": logs,
    }
    seq_runs = [lat] + (
        [result["latency_back_to_back"]] if "latency_back_to_back" in result else []
    )
    ok = all(r["checks"]["ok"] for r in seq_runs) and all(t["checks"]["ok"] for _, t in runs)
    report["ok"] = ok
    text = json.dumps(report, sort_keys=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", "utf-8")
    print(f"JSON: {text}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
