"""Command line: ask, eval, chat, check, index, bench, run.

``python -m bot`` starts the Telegram bot when TELEGRAM_BOT_TOKEN is set, else the console chat.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .config import ConfigError, Settings, load_settings
from .corpus import CorpusError
from .logs import setup_logging
from .render import answer_json, render_answer, render_empty_question, render_sources

log = logging.getLogger("bot")


def _engine(args: argparse.Namespace, settings: Settings):  # -> Engine
    from .engine import open_engine

    corpus = Path(args.corpus) if getattr(args, "corpus", None) else settings.corpus_dir
    return open_engine(corpus, settings, progress=sys.stderr.isatty())


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(args, settings)
    if args.question == "-":
        for line in sys.stdin:
            q = line.rstrip("\n")
            _answer(engine, q, args)
        return 0
    _answer(engine, args.question, args)
    return 0


def _answer(engine, question: str, args: argparse.Namespace) -> None:  # noqa: ANN001
    # the command line shows no bold: skip computing highlight spans
    answer = engine.answer(question, top=args.top, highlight=False)
    if args.json:
        sys.stdout.write(json.dumps(answer_json(answer), ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return
    reply = render_answer(answer) if question.strip() else render_empty_question()
    print(reply.plain, flush=True)


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(args, settings)
    interactive = sys.stdin.isatty()
    if interactive:
        print(
            f"Serving {engine.n_articles} articles ({engine.n_passages} passages). "
            "Ask a question; /sources lists the articles; Ctrl-D quits."
        )
    while True:
        if interactive:
            print("> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            return 0
        q = line.strip()
        if q in ("/sources", "/help", "/start"):
            if q == "/sources":
                print(render_sources(engine.articles(), per_page=None).plain + "\n", flush=True)
            else:
                print(render_empty_question().plain + "\n", flush=True)
            continue
        reply = (
            render_answer(engine.answer(q, top=args.top, highlight=False))
            if q
            else render_empty_question()
        )
        print(reply.plain + "\n", flush=True)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from .evaluate import evaluate, load_questions, report

    path = Path(args.file)
    try:
        questions = load_questions(path)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read question set: {exc}", file=sys.stderr)
        return 2
    engine = _engine(args, settings)
    res = evaluate(engine.search, questions, top=max(args.top, 3))
    print(report(res))
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from .corpus import load_corpus

    corpus = Path(args.corpus) if args.corpus else settings.corpus_dir
    c = load_corpus(corpus, max_bytes=settings.max_file_bytes)
    for p in c.problems:
        print(f"problem: {p.file}: {p.reason}")
    print(
        f"{len(c.articles)} article(s), {len(c.passages)} passage(s), "
        f"{len(c.problems)} problem(s) in {corpus}"
    )
    return 1 if c.problems else 0


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from .engine import open_engine

    corpus = Path(args.corpus) if args.corpus else settings.corpus_dir
    engine = open_engine(corpus, settings, progress=sys.stderr.isatty(), force_rebuild=True)
    for p in engine.problems:
        print(f"problem: {p.file}: {p.reason}")
    print(
        f"indexed {engine.n_articles} article(s), {engine.n_passages} passage(s) "
        f"in {engine.build_seconds:.2f} s; {len(engine.problems)} problem(s)"
    )
    return 1 if engine.problems else 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from .bench import main as bench_main

    return bench_main(args.bench_args)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.token:
        print(
            "error: TELEGRAM_BOT_TOKEN is not set (environment or .env); "
            "without it use `python -m bot chat`",
            file=sys.stderr,
        )
        return 2
    from .telegram.app import run_bot

    return run_bot(settings)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bot",
        description="Answer questions about news articles by quoting them.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--corpus", metavar="DIR", help="article folder (default: CORPUS_DIR or corpus/)"
    )
    common.add_argument(
        "--top", type=int, default=3, metavar="N", help="hits per answer (default 3)"
    )
    sub = p.add_subparsers(dest="command")
    a = sub.add_parser("ask", parents=[common], help="answer one question (or - for stdin lines)")
    a.add_argument("question", help='the question, or "-" to read one per line from stdin')
    a.add_argument("--json", action="store_true", help="one JSON object per question")
    a.set_defaults(func=cmd_ask)
    e = sub.add_parser("eval", parents=[common], help="score a question set (.jsonl)")
    e.add_argument("file")
    e.set_defaults(func=cmd_eval)
    c = sub.add_parser("chat", parents=[common], help="console chat on stdin/stdout")
    c.set_defaults(func=cmd_chat)
    k = sub.add_parser("check", parents=[common], help="list corpus problems; exit 1 if any")
    k.set_defaults(func=cmd_check)
    i = sub.add_parser("index", parents=[common], help="rebuild the saved index now")
    i.set_defaults(func=cmd_index)
    b = sub.add_parser("bench", help="benchmark against rank-bm25 (see --help)", add_help=False)
    b.add_argument("bench_args", nargs=argparse.REMAINDER)
    b.set_defaults(func=cmd_bench)
    r = sub.add_parser("run", parents=[common], help="start the Telegram bot")
    r.set_defaults(func=cmd_run)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # its own options (argparse's REMAINDER would reject them)
        from .bench import main as bench_main

        return bench_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    quiet = args.command in ("ask", "eval", "chat", "check", "bench") or (
        args.command is None and not settings.token
    )
    # one-shot commands print results, not progress logs (unless LOG_LEVEL=DEBUG)
    setup_logging("WARNING" if quiet and settings.log_level in ("INFO",) else settings.log_level)
    if getattr(args, "top", 3) < 1 or getattr(args, "top", 3) > 50:
        print("error: --top must be between 1 and 50", file=sys.stderr)
        return 2
    if args.command is None:
        args.corpus, args.top = None, settings.top
        func = cmd_run if settings.token else cmd_chat
    else:
        func = args.func
    try:
        return func(args, settings)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
