"""Logging set-up and the one place secrets are kept out of logs.

:func:`redact` registers a secret (the bot token, the webhook secret). From then on every log
record, from any logger, has it replaced by ``[REDACTED]`` when the record is made, before any
handler sees it: message, arguments and formatted traceback alike. httpx and httpcore, which log
request URLs (Bot API URLs contain the token), are kept at WARNING.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any

MASK = "[REDACTED]"
_SECRETS: set[str] = set()
_NOISY = ("httpx", "httpcore", "hpack")


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    quiet_http_loggers()


def quiet_http_loggers() -> None:
    for noisy in _NOISY:
        lg = logging.getLogger(noisy)
        if lg.getEffectiveLevel() < logging.WARNING:
            lg.setLevel(logging.WARNING)


def scrub(text: str) -> str:
    """``text`` with every registered secret masked."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def redact(*secrets: str | None) -> None:
    """Never log any of ``secrets`` (a token's secret half after ``:`` is masked on its own too)."""
    quiet_http_loggers()
    first = not _SECRETS
    for secret in secrets:
        if not secret:
            continue
        _SECRETS.add(secret)
        if ":" in secret:
            _SECRETS.add(secret.split(":", 1)[1])
    if not first or not _SECRETS:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        rec = make(*args, **kwargs)
        msg = rec.getMessage()
        if any(s in msg for s in _SECRETS):
            rec.msg, rec.args = scrub(msg), ()
        if rec.exc_info and rec.exc_info[1] is not None:
            text = "".join(traceback.format_exception(*rec.exc_info))
            if any(s in text for s in _SECRETS):
                rec.exc_text = scrub(text)
                rec.exc_info = None
        return rec

    logging.setLogRecordFactory(factory)
