"""Settings, read once at start-up from the environment and an optional ``.env`` file.

The environment wins over ``.env``. Every setting is listed, with a comment, in ``.env.example``.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from .features import DEFAULT as DEFAULT_FEATURES
from .features import Features

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_BASE_FILE_URL = "https://api.telegram.org/file/bot"  # files sent to the bot, by getFile
MIN_TOP, MAX_TOP = 1, 10  # hits per answer: TOP_HITS and --top
_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the setting."""


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a ``.env`` file (python-dotenv's reading); {} when there is none."""
    try:
        values = dotenv_values(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    return {k: v for k, v in values.items() if v is not None}


def _ids(name: str, raw: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in re.split(r"[,\s]+", raw.strip()):
        if not part:
            continue
        try:
            ids.add(int(part))
        except ValueError:
            raise ConfigError(
                f"{name} must be a comma-separated list of numeric ids, got {part!r}"
            ) from None
    return frozenset(ids)


def _int(name: str, raw: str, lo: int, hi: int) -> int:
    try:
        v = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not lo <= v <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {v}")
    return v


def _switch(name: str, raw: str) -> bool:
    v = raw.strip().lower()
    if v in ("on", "true", "yes", "1"):
        return True
    if v in ("off", "false", "no", "0"):
        return False
    raise ConfigError(f"{name} must be on or off, got {raw!r}")


def _float(name: str, raw: str, lo: float, hi: float) -> float:
    try:
        v = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not lo <= v <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {v}")
    return v


@dataclass(frozen=True)
class Settings:
    token: str | None = None
    base_url: str = DEFAULT_BASE_URL
    base_file_url: str = DEFAULT_BASE_FILE_URL
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / ".cache"
    log_level: str = "INFO"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_max_connections: int = 1000
    allowed_chat_ids: frozenset[int] = field(default_factory=frozenset)
    admin_user_ids: frozenset[int] = field(default_factory=frozenset)
    rate_limit_count: int = 5
    rate_limit_window: float = 10.0
    max_file_bytes: int = 5 * 1024 * 1024
    reload_interval: float = 5.0
    top: int = 3
    group_sends_per_minute: int = 18
    state_dir: Path = PROJECT_ROOT / ".state"
    unanswered_log: bool = True
    dense: str = "auto"  # the sentence model (bot/dense.py): auto | on | off
    dense_max_passages: int = 20_000  # larger corpora are searched by BM25 alone
    vector_dir: Path | None = None  # passage vectors kept between builds (None: INDEX_DIR/vectors)
    features: Features = DEFAULT_FEATURES  # the question path's heuristics (bot/features.py)

    @property
    def token_ok(self) -> bool:
        return bool(self.token)


def load_settings(env: dict[str, str] | None = None, dotenv: Path | None = None) -> Settings:
    """Settings from ``env`` (default: os.environ) over ``dotenv`` (default: ./.env)."""
    merged: dict[str, str] = {}
    dotenv_path = dotenv if dotenv is not None else Path.cwd() / ".env"
    merged.update(read_dotenv(dotenv_path))
    merged.update(os.environ if env is None else env)

    def get(name: str) -> str | None:
        v = merged.get(name)
        return v.strip() if v is not None and v.strip() else None

    token = get("TELEGRAM_BOT_TOKEN")
    if token is not None and not _TOKEN_RE.match(token):
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is malformed: expected the form 123456789:ABC... from @BotFather"
        )
    base_url = get("TELEGRAM_BASE_URL") or DEFAULT_BASE_URL
    _check_base_url("TELEGRAM_BASE_URL", base_url)
    base_file_url = get("TELEGRAM_BASE_FILE_URL") or file_url_of(base_url)
    _check_base_url("TELEGRAM_BASE_FILE_URL", base_file_url)
    level = (get("LOG_LEVEL") or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
    webhook_url = get("WEBHOOK_URL")
    if webhook_url is not None and not webhook_url.startswith("https://"):
        raise ConfigError("WEBHOOK_URL must be an https:// URL that Telegram can reach")
    secret = get("WEBHOOK_SECRET")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise ConfigError("WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (1-256 characters)")
    if webhook_url is not None and secret is None:
        raise ConfigError(
            "WEBHOOK_URL needs WEBHOOK_SECRET (A-Z, a-z, 0-9, _ and -, 1-256 characters): "
            "without it anyone who can reach the port could post forged updates"
        )
    dense = (get("DENSE") or "auto").lower()
    if dense not in ("auto", "on", "off"):
        raise ConfigError(f"DENSE must be auto, on or off, got {dense!r}")
    vectors = get("VECTOR_DIR")
    corpus = get("CORPUS_DIR")
    index = get("INDEX_DIR")
    state = get("STATE_DIR")
    return Settings(
        token=token,
        base_url=base_url,
        base_file_url=base_file_url,
        corpus_dir=Path(corpus) if corpus else PROJECT_ROOT / "corpus",
        index_dir=Path(index) if index else PROJECT_ROOT / ".cache",
        log_level=level,
        webhook_url=webhook_url,
        webhook_secret=secret,
        webhook_listen=get("WEBHOOK_LISTEN") or "127.0.0.1",
        webhook_port=_int("WEBHOOK_PORT", get("WEBHOOK_PORT") or "8443", 1, 65535),
        webhook_max_connections=_int(
            "WEBHOOK_MAX_CONNECTIONS", get("WEBHOOK_MAX_CONNECTIONS") or "1000", 1, 1_000_000
        ),
        allowed_chat_ids=_ids("ALLOWED_CHAT_IDS", get("ALLOWED_CHAT_IDS") or ""),
        admin_user_ids=_ids("ADMIN_USER_IDS", get("ADMIN_USER_IDS") or ""),
        rate_limit_count=_int("RATE_LIMIT_COUNT", get("RATE_LIMIT_COUNT") or "5", 0, 10_000),
        rate_limit_window=_float(
            "RATE_LIMIT_WINDOW", get("RATE_LIMIT_WINDOW") or "10", 0.1, 86_400
        ),
        max_file_bytes=_int(
            "MAX_FILE_BYTES", get("MAX_FILE_BYTES") or str(5 * 1024 * 1024), 1, 2**40
        ),
        reload_interval=_float("RELOAD_INTERVAL", get("RELOAD_INTERVAL") or "5", 0, 86_400),
        top=_int("TOP_HITS", get("TOP_HITS") or "3", MIN_TOP, MAX_TOP),
        group_sends_per_minute=_int(
            "GROUP_SENDS_PER_MINUTE", get("GROUP_SENDS_PER_MINUTE") or "18", 1, 6000
        ),
        state_dir=Path(state) if state else PROJECT_ROOT / ".state",
        unanswered_log=_switch("UNANSWERED_LOG", get("UNANSWERED_LOG") or "on"),
        dense=dense,
        dense_max_passages=_int(
            "DENSE_MAX_PASSAGES", get("DENSE_MAX_PASSAGES") or "20000", 0, 10_000_000
        ),
        vector_dir=Path(vectors) if vectors else None,
    )


def file_url_of(base_url: str) -> str:
    """Where a Bot API server at ``base_url`` serves files (``/file/bot<token>/<file_path>``):
    Telegram's own for Telegram, else the same server with ``file/`` before the final ``bot``
    (how telegram-bot-api and the tests' stand-in serve them)."""
    if base_url == DEFAULT_BASE_URL:
        return DEFAULT_BASE_FILE_URL
    if not base_url.endswith("/bot"):
        raise ConfigError(
            "TELEGRAM_BASE_FILE_URL is needed: TELEGRAM_BASE_URL does not end in /bot, so "
            f"where its server serves files cannot be derived (got {base_url!r})"
        )
    return base_url[: -len("bot")] + "file/bot"


def _check_base_url(name: str, url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http:// or https:// URL with a host, got {url!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ConfigError(f"{name} has a malformed port: {url!r}") from None
