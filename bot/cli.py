"""Command line: ask, chat, eval, ablate, unanswered, check, index, run (the benchmark is
``python -m benchmarks``).

``python -m bot`` without a command starts the Telegram bot when TELEGRAM_BOT_TOKEN is set,
else the console chat.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from . import __version__
from .config import MAX_TOP, MIN_TOP, ConfigError, Settings, load_settings
from .corpus import CorpusError
from .logs import setup_logging
from .render import (
    answer_json_text,
    render_answer,
    render_empty_question,
    render_sources,
    render_unanswered,
)

log = logging.getLogger("bot")

BARE_COMMAND = (
    "Without a command, python -m bot starts the Telegram bot when TELEGRAM_BOT_TOKEN is set "
    "(environment or .env), else the console chat (`chat`)."
)
CHAT_HISTORY = "chat_history"  # console chat's readline history, in STATE_DIR
CHECK_LINE_CHARS = 70  # `check` shows this much of a line it names


def clean_text(text: str) -> str:
    """Text with undecodable input bytes (argv's surrogate escapes) replaced by U+FFFD, so
    everything printed is valid UTF-8."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _lines(stream: TextIO) -> Iterator[str]:
    """Lines of a text stream without their line ends, invalid UTF-8 replaced."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:  # already text (tests, redirected streams)
        for line in stream:
            yield clean_text(line.rstrip("\r\n"))
        return
    for raw in buffer:
        yield raw.decode("utf-8", "replace").rstrip("\r\n")


def _corpus(args: argparse.Namespace, settings: Settings) -> Path:
    return Path(args.corpus) if getattr(args, "corpus", None) else settings.corpus_dir


def _engine(args: argparse.Namespace, settings: Settings, **how: bool):  # -> Engine
    from .engine import open_engine

    return open_engine(_corpus(args, settings), settings, progress=sys.stderr.isatty(), **how)


def _emit(line: str) -> None:
    """One JSON line of ``ask --json`` (:func:`render.answer_json_text`: the question, hits,
    related passages, and in conversation mode the words carried from earlier turns)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# -- ask -------------------------------------------------------------------------------------


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    question = clean_text(" ".join(args.question))
    if args.conversation is None and not args.question:
        print('error: give a question (ask who signed the agreement?), "-" to read one per line '
              "from stdin, or --conversation FILE", file=sys.stderr)  # fmt: skip
        return 2
    if args.conversation is not None and args.question:
        print("error: --conversation reads its messages from FILE; give no question too",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.conversation is not None:
        return _ask_conversation(args, settings)
    stream = question == "-"
    from .engine import IndexDamaged

    # reading questions from stdin, answering starts at once: the saved index is checked
    # against the corpus meanwhile and, if it turns out stale, rebuilt before the next question
    engine = _engine(args, settings, check_later=stream)
    for q in _lines(sys.stdin) if stream else [question]:
        if engine.needs_rebuild:
            engine = _engine(args, settings, force_rebuild=True)
        # the command line shows no bold: skip computing highlight spans
        try:
            answer = engine.answer(q, top=args.top, highlight=False)
        except IndexDamaged:  # (served before its check, which found it damaged)
            engine = _engine(args, settings, force_rebuild=True)
            answer = engine.answer(q, top=args.top, highlight=False)
        if args.json:
            _emit(answer_json_text(answer, q))
        else:
            reply = render_answer(answer) if q.strip() else render_empty_question()
            print(reply.plain, flush=True)
    if stream:  # a short run too leaves a sound index behind: its arrays checked (ms), and
        # an index found damaged or stale meanwhile rebuilt for the next run
        engine.answered.set()  # (no question came: the check need not wait for one)
        engine.arrays_checked.wait()
        if engine.needs_rebuild:
            _engine(args, settings, force_rebuild=True)
    return 0


def _open_lines(name: str) -> Iterable[str]:
    if name == "-":
        return _lines(sys.stdin)
    try:
        data = Path(name).read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read {name}: {exc.strerror or exc}") from None
    return data.decode("utf-8", "replace").splitlines()


def _ask_conversation(args: argparse.Namespace, settings: Settings) -> int:
    """One message a line; a blank line (or /new) ends a conversation."""
    from .conversation import Conversation, is_reset

    lines = _open_lines(args.conversation)
    engine = _engine(args, settings)
    chat = Conversation(engine)
    for line in lines:
        if not line.strip() or is_reset(line):
            chat.reset()
            continue
        answer = chat.ask(line, top=args.top, highlight=False)
        if args.json:
            _emit(answer_json_text(answer.result, line, answer.reading.carried))
        else:
            reply = render_answer(answer.result, note=answer.reading.note)
            print(reply.plain + "\n", flush=True)
    return 0


# -- chat ------------------------------------------------------------------------------------


def _readline(settings: Settings) -> None:
    """Line editing and history (kept in STATE_DIR) for an interactive console."""
    try:
        import readline
    except ImportError:  # not on every platform; input() still works
        return
    import atexit

    history = settings.state_dir / CHAT_HISTORY
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    readline.set_history_length(500)

    def save() -> None:
        try:
            settings.state_dir.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(history)
        except OSError:
            pass

    atexit.register(save)


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from .conversation import Conversation, is_reset

    engine = _engine(args, settings)
    chat = Conversation(engine)
    unanswered = _unanswered_log(settings)
    interactive = sys.stdin.isatty()
    if interactive:
        _readline(settings)
        print(
            f"Serving {engine.n_articles} articles ({engine.n_passages} passages). Ask a "
            "question; follow-ups keep the context (/new starts afresh); /sources lists the "
            "articles; Ctrl-D quits."
        )
    else:
        sys.stdin.reconfigure(errors="replace")  # type: ignore[union-attr]
    while True:
        try:
            q = clean_text(input("> " if interactive else "")).strip()
        except EOFError:
            if interactive:
                print()
            return 0
        if q == "/sources":
            print(render_sources(engine.articles(), per_page=None).plain + "\n", flush=True)
            continue
        if is_reset(q):
            chat.reset()
            print(render_empty_question().plain + "\n", flush=True)
            continue
        if q in ("/help", "") or q.startswith("/"):
            print(render_empty_question().plain + "\n", flush=True)
            continue
        answer = chat.ask(q, top=args.top, highlight=False)
        if not answer.hits and unanswered is not None:
            unanswered.record(q)
        print(render_answer(answer.result, note=answer.reading.note).plain + "\n", flush=True)


# -- eval, unanswered, check, index -------------------------------------------------------


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from .conversation import Conversation
    from .corpus import check_folder
    from .evaluate import (
        Bm25sPeer,
        PeerMissing,
        evaluate,
        gold_files,
        read_set,
        report_json,
        report_missed,
        report_table,
    )

    questions = []
    try:
        for name in args.files:
            questions += read_set(Path(name), args.half)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"error: cannot read question set: {exc}", file=sys.stderr)
        return 2
    corpus = _corpus(args, settings)
    check_folder(corpus)
    absent = sorted(f for f in gold_files(questions) if not (corpus / f).is_file())
    if absent:
        print(
            f"error: the answers are in {absent[0]}, which is not in {corpus}"
            + (f" (nor {len(absent) - 1} other file(s))" if len(absent) > 1 else "")
            + "; give the set's article folder with --corpus DIR",
            file=sys.stderr,
        )
        return 2
    peers = []
    if args.peers:
        try:
            peers.append(Bm25sPeer(corpus))
        except (PeerMissing, OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    engine = _engine(args, settings)
    results = [
        ("project", evaluate(engine.search, questions, conversation=lambda: Conversation(engine)))
    ]
    results += [(p.name, evaluate(p.search, questions)) for p in peers]
    if args.json:
        print(report_json(results, args.files, str(corpus), args.half))
        return 0
    if args.missed:
        for name, res in results:
            if res.missed:
                print(f"{name} missed:\n{report_missed(res)}")
    print(report_table(results))
    return 0


def cmd_ablate(args: argparse.Namespace, settings: Settings) -> int:
    """Each heuristic of ``Features`` switched off in turn, scored on the development sets
    (``ablate.py``): the default sets, or those given with ``--set DIR FILE...``."""
    from .ablate import DevSet, ablate, default_sets
    from .corpus import check_folder
    from .evaluate import read_set

    try:
        if args.set:
            sets = []
            for folder, *files in args.set:
                if not files:
                    print(f"error: --set {folder} needs question files after the folder",
                          file=sys.stderr)  # fmt: skip
                    return 2
                questions = [q for f in files for q in read_set(Path(f))]
                name = " + ".join(Path(f).stem for f in files)
                sets.append(DevSet(name, Path(folder), questions))
        else:
            sets = default_sets(settings.corpus_dir)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"error: cannot read question set: {exc}", file=sys.stderr)
        return 2
    for s in sets:
        check_folder(s.corpus)
    ablate(sets, settings)
    return 0


def _unanswered_log(settings: Settings):  # -> UnansweredLog | None
    """The log of unanswered questions, or None when UNANSWERED_LOG=off or it can't open."""
    if not settings.unanswered_log:
        return None
    import sqlite3

    from .state import UnansweredLog

    try:
        return UnansweredLog(settings.state_dir)
    except (OSError, sqlite3.Error) as exc:
        log.warning("unanswered questions are not kept: %s (%s)", settings.state_dir, exc)
        return None


def cmd_unanswered(args: argparse.Namespace, settings: Settings) -> int:
    unanswered = _unanswered_log(settings) if settings.unanswered_log else None
    rows = unanswered.most_frequent(args.limit) if unanswered is not None else []
    print(render_unanswered(rows, enabled=settings.unanswered_log).plain)
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """Per article file: its title, format and source, the passages indexed and every non-empty
    line (of the text extracted from it, for a file that is not plain text) that is not
    indexed, with the reason (``file:line: reason``); unreadable files as problems (exit 1)."""
    from .corpus import SOURCES_FILE, CorpusProblem, check_folder, read_corpus, split_lines
    from .documents import SUPPORTED_SUFFIXES
    from .engine import EXTRACTED_FOLDER, cache_folder
    from .extracted import ExtractedTexts

    corpus = _corpus(args, settings)
    check_folder(corpus)
    kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
    for p in sorted(corpus.iterdir()):
        if (
            p.suffix.lower() not in SUPPORTED_SUFFIXES
            and p.name != SOURCES_FILE
            and not p.name.startswith(".")
            and p.is_file()
        ):
            print(f"ignored: {clean_text(p.name)}: not an article file ({kinds})")
    texts = ExtractedTexts(cache_folder(settings.index_dir, corpus) / EXTRACTED_FOLDER)
    articles = problems = passages = lines = 0
    reasons: Counter[str] = Counter()
    for got in read_corpus(corpus, settings.max_file_bytes, texts):
        if isinstance(got, CorpusProblem):
            print(f"problem: {got.file}: {got.reason}")
            problems += 1
            continue
        articles += 1
        passages += len(got.passages)
        try:
            text = texts.document(corpus / got.file, corpus, settings.max_file_bytes).text
        except Exception:  # changed meanwhile: the lines are shown blank
            text = ""
        file_lines = split_lines(text)
        filled = sum(1 for ln in file_lines if ln.strip())
        print(
            f"{clean_text(got.file)}: {len(got.passages)} passage(s) hold "
            f"{filled - len(got.not_indexed)} of {filled} non-empty line(s); title: {got.title}; "
            f"format: {got.format}; source: {got.source or '-'}"
        )
        for line, reason in got.not_indexed:
            shown = " ".join(file_lines[line - 1].split()) if line <= len(file_lines) else ""
            if len(shown) > CHECK_LINE_CHARS:
                shown = shown[: CHECK_LINE_CHARS - 1] + "…"
            print(f"  {clean_text(got.file)}:{line}: {reason}: {clean_text(shown)!r}")
            reasons[reason] += 1
        lines += len(got.not_indexed)
    if not articles:
        print(f"problem: {corpus}: no usable article ({kinds} file)")
    if reasons:
        print(f"{lines} non-empty line(s) not indexed:")
        for reason, n in reasons.most_common():
            print(f"  {n:6d}  {reason}")
    print(f"{articles} article(s), {passages} passage(s), {problems} problem(s) in {corpus}")
    return 1 if problems or not articles else 0


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from .engine import open_engine

    corpus = _corpus(args, settings)
    engine = open_engine(corpus, settings, progress=sys.stderr.isatty(), force_rebuild=True)
    for p in engine.problems:
        print(f"problem: {p.file}: {p.reason}")
    print(
        f"indexed {engine.n_articles} article(s), {engine.n_passages} passage(s) "
        f"in {engine.build_seconds:.2f} s; {len(engine.problems)} problem(s)"
    )
    return 1 if engine.problems else 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.token:
        print(
            "error: TELEGRAM_BOT_TOKEN is not set (environment or .env); "
            "without it use `python -m bot chat`",
            file=sys.stderr,
        )
        return 2
    from .telegram.app import run_bot

    # --corpus and --top stand for CORPUS_DIR and TOP_HITS
    return run_bot(dataclasses.replace(settings, corpus_dir=_corpus(args, settings), top=args.top))


# -- parser ----------------------------------------------------------------------------------


def _top(raw: str) -> int:
    try:
        v = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {raw!r}") from None
    if not MIN_TOP <= v <= MAX_TOP:
        raise argparse.ArgumentTypeError(f"must be between {MIN_TOP} and {MAX_TOP}, got {v}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bot",
        description="Answer questions about news articles by quoting them. " + BARE_COMMAND,
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    corpus = argparse.ArgumentParser(add_help=False)
    corpus.add_argument(
        "--corpus", metavar="DIR", help="article folder (default: CORPUS_DIR, else corpus/)"
    )
    top = argparse.ArgumentParser(add_help=False)
    top.add_argument(
        "--top",
        type=_top,
        metavar="N",
        help=f"passages per answer, {MIN_TOP}-{MAX_TOP} (default: TOP_HITS, else 3)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    a = sub.add_parser(
        "ask",
        parents=[corpus, top],
        help="answer a question (plain text, or --json)",
        description="Answer a question; the words need no quotes.",
    )
    a.add_argument(
        "question",
        nargs="*",
        help='the question (its words, quoted or not), or "-" to read one question per line '
        "from stdin",
    )
    a.add_argument("--json", action="store_true", help="one JSON object per question")
    a.add_argument(
        "--conversation",
        metavar="FILE",
        help='read a conversation from FILE ("-" = stdin): one message a line, each read in '
        "the context of the ones before (follow-ups); a blank line starts a new conversation. "
        'With --json each object also has "carried": the earlier words it was read with',
    )
    a.set_defaults(func=cmd_ask)
    c = sub.add_parser(
        "chat",
        parents=[corpus, top],
        help="console chat on stdin/stdout (keeps follow-up context; /new resets)",
    )
    c.set_defaults(func=cmd_chat)
    e = sub.add_parser(
        "eval",
        parents=[corpus],
        help="score question sets (.jsonl) over the top 3 passages",
        description="Score question sets over the top 3 passages: success@1, success@3, "
        "lenient success@3 (SQuAD-style questions), MRR@3, false-abstain rate, abstain "
        "accuracy; several files are scored together, one row per system.",
    )
    e.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="JSON lines: {id, question, answers: [{file, quote}]} or {id, turns: [...]}; "
        "SQuAD style {id, question, file, line, answers: [texts]}, or {id, question} "
        "(unanswerable)",
    )
    e.add_argument(
        "--half",
        choices=("all", "odd", "even"),
        default="all",
        help="only the odd or even tuning half: by the number in the id (n001 is odd); "
        "SQuAD-style lines by their line number in the file (default: all)",
    )
    e.add_argument(
        "--peers",
        action="store_true",
        help="also score bm25s (dev extras) on the same questions over the non-empty lines of "
        "the same files (it never abstains, and reads each conversation turn alone)",
    )
    e.add_argument("--json", action="store_true", help="the measures as one JSON object")
    e.add_argument("--missed", action="store_true", help="also list the questions missed")
    e.set_defaults(func=cmd_eval)
    b = sub.add_parser(
        "ablate",
        help="what each heuristic buys: each switched off in turn, on the development sets",
        description="Each switch of bot/features.py turned off in turn (and everything on), "
        "scored on the development sets: success@1 / success@3 / false-abstain / abstain "
        "accuracy per set and on their union, with the verdict of the rule (a heuristic pays "
        "when the union is better with it and no set loses more than 0.01 success@3).",
    )
    b.add_argument(
        "--set",
        nargs="+",
        action="append",
        metavar=("DIR", "FILE"),
        help="an article folder and question files scored over it (eval's formats); may be "
        "repeated (default: natural.jsonl's odd and even halves, dev.jsonl and "
        "dialogues-dev.jsonl over CORPUS_DIR, tests/data/squad over its own articles, and "
        "extra, fresh, heldout and hinglish.jsonl over CORPUS_DIR)",
    )
    b.set_defaults(func=cmd_ablate)
    u = sub.add_parser(
        "unanswered", help="questions without a confident answer, most frequent first"
    )
    u.add_argument("--limit", type=int, default=30, metavar="N", help="show N (default 30)")
    u.set_defaults(func=cmd_unanswered)
    k = sub.add_parser(
        "check",
        parents=[corpus],
        help="per file: passages indexed, each line not indexed and why; problems (exit 1)",
    )
    k.set_defaults(func=cmd_check)
    i = sub.add_parser("index", parents=[corpus], help="rebuild the saved index now")
    i.set_defaults(func=cmd_index)
    r = sub.add_parser("run", parents=[corpus, top], help="start the Telegram bot")
    r.set_defaults(func=cmd_run)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    quiet = args.command in ("ask", "eval", "ablate", "chat", "check", "unanswered") or (
        args.command is None and not settings.token
    )
    # one-shot commands print results, not progress logs (unless LOG_LEVEL=DEBUG)
    setup_logging("WARNING" if quiet and settings.log_level in ("INFO",) else settings.log_level)
    if args.command is None:
        args.corpus, args.top = None, settings.top
        func = cmd_run if settings.token else cmd_chat
    else:
        func = args.func
        if getattr(args, "top", settings.top) is None:
            args.top = settings.top
    try:
        return func(args, settings)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
