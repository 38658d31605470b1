"""Corpus reloads in the background: rebuilt when the files changed (or a quote failed
verification), swapped in atomically; a stop never waits for a build (daemon thread, worker
processes killed)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from typing import Any

from ..corpus import CorpusError
from ..engine import corpus_signature, open_engine
from .state import BotState

log = logging.getLogger("bot.telegram")

PRUNE_EVERY = 3600.0  # seconds between journal clean-ups


def cancel_builds() -> None:
    """End the worker processes of a running index build (they would otherwise be orphaned)."""
    for child in multiprocessing.active_children():
        child.kill()  # they hold nothing worth saving; a forked worker may ignore SIGTERM


async def in_daemon_thread(func: Callable[..., Any], *args: Any) -> Any:
    """Run ``func`` in a daemon thread: a stop never waits for it (unlike asyncio.to_thread)."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def run() -> None:
        def settle(result: Any = None, error: BaseException | None = None) -> None:
            if fut.done():
                return
            if error is not None:
                fut.set_exception(error)
            else:
                fut.set_result(result)

        try:
            result, error = func(*args), None
        except BaseException as exc:  # handed to the awaiting task
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: the bot stopped meanwhile
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="index-build", daemon=True).start()
    return await fut


class Reloader:
    """Rebuilds in the background when the corpus changed (or a quote failed verification),
    then swaps the engine atomically; questions in flight finish on the old one."""

    def __init__(self, state: BotState) -> None:
        self.state = state
        self.settings = state.settings
        self._lock = asyncio.Lock()

    async def __call__(self, force: bool = False) -> str:
        async with self._lock:
            state = self.state
            current = state.engine
            force = force or current.needs_rebuild
            sig = await asyncio.to_thread(
                corpus_signature, current.corpus_dir, self.settings.max_file_bytes
            )
            if sig == current.signature and not force:
                return "unchanged"
            log.info("corpus changed: building a new index in the background")
            new = await in_daemon_thread(
                open_engine, current.corpus_dir, self.settings, False, force
            )
            state.engine = new
            for p in new.problems:
                log.warning("corpus file %s skipped: %s", p.file, p.reason)
            log.info("now serving %d articles (%d passages)", new.n_articles, new.n_passages)
            return "reloaded"

    async def watch(self, stop: asyncio.Event) -> None:
        """Until ``stop``: reload when the corpus changed (every RELOAD_INTERVAL) or a quote
        failed verification; prune the journal hourly."""
        interval = self.settings.reload_interval
        pruned = time.monotonic()
        while not stop.is_set():
            if time.monotonic() - pruned > PRUNE_EVERY:
                self.state.journal.prune()
                pruned = time.monotonic()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval if interval > 0 else 5)
            if stop.is_set():
                return
            if interval <= 0 and not self.state.engine.needs_rebuild:
                continue
            try:
                await self()
            except CorpusError as exc:
                log.warning("corpus reload failed (%s); still serving the previous index", exc)
            except Exception:
                log.exception("corpus reload failed; still serving the previous index")
