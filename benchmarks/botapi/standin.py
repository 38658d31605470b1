"""A strict, local stand-in for the Telegram Bot API, for tests.

``BotAPIStandIn`` serves ``/bot<TOKEN>/<method>`` over plain HTTP on 127.0.0.1 so that a real
``telegram.Bot`` (python-telegram-bot) can talk to it through its normal HTTP stack with
``base_url=f"{standin.url}/bot"``.  It validates requests the way Telegram does (HTML entity
parsing, UTF-16 length limits, reply/thread/query checks, ``getUpdates`` conflicts, ...) and lets
tests inject faults (429, 5xx, dropped connections, API down).

Files users send (:meth:`BotAPIStandIn.send_document`) are fetched as from Telegram: ``getFile``,
which refuses files over Telegram's 20 MB download limit ("file is too big"), then ``GET
/file/bot<TOKEN>/<file_path>`` (PTB: ``base_file_url=f"{standin.url}/file/bot"``).

Request encoding: PTB 22.8 (``HTTPXRequest.do_request``) sends ``data=RequestData.json_parameters``
and ``files=RequestData.multipart_data`` via httpx, i.e. ``application/x-www-form-urlencoded``
(or ``multipart/form-data`` when uploading files) where string parameters are sent raw and every
other value (ints, bools, objects, arrays) is ``json.dumps``-ed.  Like the real Bot API server, the
stand-in therefore treats every parameter as a string and decodes it per parameter; JSON bodies
are normalised to the same representation.

Deliberate choices (where real Telegram is lenient or unknown) are marked "STRICT:" below.
"""

from __future__ import annotations

import contextlib
import copy
import email.parser
import email.policy
import http.server
import itertools
import json
import math
import re
import select
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, NamedTuple

__all__ = ["BotAPIStandIn", "Call", "TelegramParseError", "parse_telegram_html", "utf16_len"]

JSON = dict[str, Any]

# ----------------------------------------------------------------------------------------------
# Formatting parsers
# ----------------------------------------------------------------------------------------------


class TelegramParseError(ValueError):
    """Entity parsing failed; ``str(exc)`` is the full Bot API description."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"Bad Request: can't parse entities: {detail}")


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (how Telegram measures text and offsets)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _boff(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _words(names: str) -> frozenset[str]:
    return frozenset(names.split())


_HTML_TAGS = _words(
    "a b strong i em u ins s strike del span tg-spoiler tg-emoji pre code blockquote"
)
_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACE = " \t\r\n\v\f"


def _decode_html_entity(text: str, i: int) -> tuple[str, int] | None:
    """Decode the entity starting at ``text[i] == "&"``; None means "a literal '&'".

    Mirrors tdlib: ``&lt; &gt; &amp; &quot;`` and ``&#NN;``/``&#xNN;`` (the ``;`` is optional).
    Real Telegram keeps any other ``&...`` literally (``AT&T``, ``a & b``, ``&nbsp;`` -> shown as
    "&nbsp;").  STRICT: an unsupported *named* entity with a terminating ``;`` (``&nbsp;``,
    ``&apos;``) and an invalid numeric one (``&#0;``) are rejected, since they are a sure sign of
    wrong escaping; a lone ``&`` (``a & b``, ``AT&T``) is accepted like real Telegram does.
    """
    n, j = len(text), i + 1
    if j < n and text[j] == "#":
        j += 1
        is_hex = j < n and text[j] == "x"
        j += is_hex
        start = j
        while j < n and text[j] in ("0123456789abcdefABCDEF" if is_hex else "0123456789"):
            j += 1
        if j == start:
            return None
        value = int(text[start:j], 16 if is_hex else 10)
        if value == 0 or value >= 0x10FFFF or 0xD800 <= value <= 0xDFFF or j - i >= 10:
            if j < n and text[j] == ";":
                raise TelegramParseError(
                    f'Invalid numeric HTML entity "{text[i : j + 1]}" at byte offset '
                    f"{_boff(text, i)}"
                )
            return None
        return chr(value), j + (j < n and text[j] == ";")
    while j < n and text[j].isascii() and text[j].isalpha():
        j += 1
    name = text[i + 1 : j]
    if name not in _NAMED_ENTITIES:
        if name and j < n and text[j] == ";":
            raise TelegramParseError(
                f'Unsupported HTML entity "&{name};" at byte offset {_boff(text, i)}'
            )
        return None
    return _NAMED_ENTITIES[name], j + (j < n and text[j] == ";")


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    offset: int  # UTF-16 offset in the plain text
    byte_offset: int  # in the source text


def _close_html_tag(tag: _OpenTag, end: int, entities: list[JSON], stack: list[_OpenTag]) -> None:
    length = end - tag.offset
    if length <= 0:
        return
    ent: JSON = {"offset": tag.offset, "length": length}
    if tag.name in _HTML_SIMPLE:
        ent["type"] = _HTML_SIMPLE[tag.name]
    elif tag.name == "a":
        href = tag.attrs["href"]
        match = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if match:
            ent.update(
                type="text_mention", user={"id": int(match[1]), "is_bot": False, "first_name": ""}
            )
        elif re.match(r"(?i)(https?|tg|ton)://\S|[\w-]+(\.[\w-]+)+(/|$)", href):
            ent.update(type="text_link", url=href)
        else:
            return  # real Telegram silently drops links with an invalid URL
    elif tag.name == "tg-emoji":
        ent.update(type="custom_emoji", custom_emoji_id=tag.attrs["emoji-id"])
    elif tag.name == "blockquote":
        ent["type"] = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
    elif tag.name == "code":
        language = tag.attrs.get("class", "")
        in_pre = bool(stack) and stack[-1].name == "pre"
        if in_pre and language.startswith("language-") and len(language) > 9:
            ent.update(type="code", _language=language[9:])  # merged into <pre> below
        elif in_pre:
            return  # plain <code> inside <pre>: the pre entity covers it
        else:
            ent["type"] = "code"
    elif tag.name == "pre":
        last = entities[-1] if entities else None
        if (
            last
            and "_language" in last
            and (last["offset"], last["length"]) == (tag.offset, length)
        ):
            last["type"], last["language"] = "pre", last.pop("_language")
            return
        ent["type"] = "pre"
    entities.append(ent)


def parse_telegram_html(text: str) -> tuple[str, list[JSON]]:
    """Parse Telegram-flavoured HTML like ``parse_mode="HTML"`` does.

    Returns ``(plain_text, entities)`` (entity offsets/lengths in UTF-16 code units, sorted like
    Telegram sorts them).  Raises :class:`TelegramParseError` (a ValueError) with a Telegram-like
    description.  The algorithm follows tdlib's ``parse_html``; STRICT deviations: ``<a>`` needs a
    non-empty ``href``, ``<blockquote>`` can't be nested, and see ``_decode_html_entity``.
    """
    out: list[str] = []
    entities: list[JSON] = []
    stack: list[_OpenTag] = []
    pos = 0  # UTF-16 position in the output
    i, n = 0, len(text)

    def unclosed(at: int) -> TelegramParseError:
        return TelegramParseError(f"Unclosed start tag at byte offset {_boff(text, at)}")

    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_html_entity(text, i)
            if decoded:
                out.append(decoded[0])
                pos += utf16_len(decoded[0])
                i = decoded[1]
                continue
        if c != "<":  # '>' and a lone '&' are tolerated by Telegram
            out.append(c)
            pos += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue
        begin, i = i, i + 1
        if i < n and text[i] == "/":
            if not stack:
                raise TelegramParseError(f"Unexpected end tag at byte offset {_boff(text, begin)}")
            j = i + 1
            while j < n and text[j] not in _SPACE and text[j] != ">":
                j += 1
            end_name = text[i + 1 : j]
            while j < n and text[j] in _SPACE:
                j += 1
            if j >= n or text[j] != ">":
                raise TelegramParseError(f"Unclosed end tag at byte offset {_boff(text, begin)}")
            i = j + 1
            tag = stack.pop()
            if end_name and end_name != tag.name:  # case-sensitive, like tdlib
                raise TelegramParseError(
                    f"Unmatched end tag at byte offset {_boff(text, begin)}, "
                    f'expected "</{tag.name}>", found "</{end_name}>"'
                )
            _close_html_tag(tag, pos, entities, stack)
            continue
        j = i
        while j < n and text[j] not in _SPACE and text[j] != ">":
            j += 1
        if j >= n:
            raise unclosed(begin)
        name = text[i:j].lower()
        if name not in _HTML_TAGS:
            raise TelegramParseError(
                f'Unsupported start tag "{name}" at byte offset {_boff(text, begin)}'
            )
        attrs: dict[str, str] = {}
        i = j
        while True:
            while i < n and text[i] in _SPACE:
                i += 1
            if i >= n:
                raise unclosed(begin)
            if text[i] == ">":
                i += 1
                break
            a0 = i
            while i < n and text[i] not in _SPACE and text[i] not in "=>":
                i += 1
            attr = text[a0:i]
            if not attr:
                raise TelegramParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {_boff(text, begin)}'
                )
            while i < n and text[i] in _SPACE:
                i += 1
            if i >= n or text[i] != "=":
                if name == "blockquote" and attr == "expandable":
                    attrs[attr] = ""
                    continue
                raise TelegramParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" at byte offset {_boff(text, begin)}'
                )
            i += 1
            while i < n and text[i] in _SPACE:
                i += 1
            if i >= n:
                raise unclosed(begin)
            if text[i] in "\"'":
                quote, i, value = text[i], i + 1, []
                while i < n and text[i] != quote:
                    decoded = _decode_html_entity(text, i) if text[i] == "&" else None
                    if decoded:
                        value.append(decoded[0])
                        i = decoded[1]
                    else:
                        value.append(text[i])
                        i += 1
                if i >= n:
                    raise unclosed(begin)
                i += 1
                attrs[attr] = "".join(value)
            else:
                v0 = i
                while i < n and ((text[i].isascii() and text[i].isalnum()) or text[i] in ".-"):
                    i += 1
                if i >= n:
                    raise unclosed(begin)
                if text[i] not in _SPACE and text[i] != ">":
                    raise TelegramParseError(
                        f"Unexpected end of name token at byte offset {_boff(text, v0)}"
                    )
                attrs[attr] = text[v0:i].lower()
        at = _boff(text, begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise TelegramParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        if name == "a" and not attrs.get("href"):  # STRICT: Telegram would use the inner text
            raise TelegramParseError(
                f'Tag "a" must have non-empty attribute "href" at byte offset {at}'
            )
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise TelegramParseError(
                f"Invalid custom emoji identifier specified at byte offset {at}"
            )
        if name == "blockquote" and any(t.name == "blockquote" for t in stack):
            raise TelegramParseError(f"Can't nest blockquote entities at byte offset {at}")
        stack.append(_OpenTag(name, attrs, pos, at))
    if stack:
        raise TelegramParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    for ent in entities:
        ent.pop("_language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


# ----------------------------------------------------------------------------------------------
# Plumbing
# ----------------------------------------------------------------------------------------------


class Call(NamedTuple):
    """One request as seen by the stand-in. ``status`` 0 means: connection dropped, no answer."""

    method: str
    params: dict[str, Any]
    status: int


class APIError(Exception):
    """Raised inside method handlers; becomes an ``{"ok": false, ...}`` answer."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


def _bad(description: str) -> APIError:
    return APIError(400, f"Bad Request: {description}")


class _Drop(Exception):
    """Close the connection without an answer; ``status`` is what ``calls`` records."""

    def __init__(self, status: int = 0, reset: bool = False) -> None:
        super().__init__("drop connection")
        self.status, self.reset = status, reset


@dataclass
class _Fault:
    method: str
    status: int
    retry_after: int
    drop_connection: bool
    description: str | None
    execute: bool
    remaining: int
    delay: float = 0.0
    hang: bool = False


_JSON_PARAMS = _words(
    "reply_markup reply_parameters link_preview_options results commands scope allowed_updates "
    "entities caption_entities button media"
)
_INT_PARAMS = _words(
    "message_id message_thread_id reply_to_message_id offset limit cache_time user_id "
    "max_connections"
)
_BOOL_PARAMS = _words(
    "disable_notification protect_message disable_web_page_preview allow_sending_without_reply "
    "drop_pending_updates is_personal show_alert"
)
_BUTTON_ACTIONS = _words(
    "url callback_data web_app login_url switch_inline_query switch_inline_query_current_chat "
    "switch_inline_query_chosen_chat copy_text callback_game pay"
)
_INLINE_RESULT_TYPES = _words(
    "article photo gif mpeg4_gif video audio voice document location venue contact game sticker"
)
# Telegram's default when allowed_updates was never given (or given as []): all but
# chat_member, message_reaction and message_reaction_count.
_DEFAULT_ALLOWED = _words(
    "message edited_message channel_post edited_channel_post business_connection "
    "business_message edited_business_message deleted_business_messages inline_query "
    "chosen_inline_result callback_query shipping_query pre_checkout_query purchased_paid_media "
    "poll poll_answer my_chat_member chat_join_request chat_boost removed_chat_boost"
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
GROUP_ANONYMOUS_BOT: JSON = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile: "bots can download files of up to 20MB in size"
DOWNLOAD = "download"  # how file downloads appear in ``calls`` (and the name ``inject`` takes)


def _check_utf8(value: Any) -> None:
    if isinstance(value, str):
        value.encode("utf-8")  # raises UnicodeEncodeError on lone surrogates
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_utf8(k)
            _check_utf8(v)
    elif isinstance(value, list):
        for v in value:
            _check_utf8(v)


def _as_param(value: Any) -> str | None:
    """Normalise a JSON-body value to the string form the Bot API server works with."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _record_view(params: dict[str, str], files: dict[str, bytes]) -> dict[str, Any]:
    """Decoded copy of the parameters for ``calls`` (ints, bools and JSON objects decoded)."""
    view: dict[str, Any] = {}
    for key, raw in params.items():
        value: Any = raw
        try:
            if key in _JSON_PARAMS:
                value = json.loads(raw)
            elif key in _INT_PARAMS or (key == "chat_id" and re.fullmatch(r"-?\d+", raw)):
                value = int(raw)
            elif key == "timeout":
                value = float(raw) if "." in raw else int(raw)
            elif key in _BOOL_PARAMS:
                value = raw.lower() in ("true", "1")
        except ValueError:
            pass
        view[key] = value
    view.update({k: f"<file: {len(v)} bytes>" for k, v in files.items()})
    return view


def _quiet_client_errors(request: Any, client_address: Any) -> None:
    """A client that vanished (e.g. a killed bot process) is not a stand-in error."""
    if not isinstance(sys.exc_info()[1], ConnectionError):
        traceback.print_exc()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like api.telegram.org
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls
    server_version = "BotAPIStandIn/1.0"
    timeout = 120  # idle keep-alive connections are closed after this
    standin: BotAPIStandIn

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass

    def setup(self) -> None:
        super().setup()
        self.standin._track_connection(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.standin._track_connection(self.connection, False)

    def _peer_closed(self) -> bool:
        """True once the client hung up (e.g. PTB cancelled a long poll)."""
        try:
            if not select.select([self.connection], [], [], 0)[0]:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.standin._local.peer_closed = self._peer_closed
        try:
            status, payload, headers = self.standin._handle(self.path, self.headers, body)
        except _Drop as drop:
            self.close_connection = True
            if drop.reset:  # RST instead of FIN
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
            return
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        try:
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client is gone; nothing to tell it
            self.close_connection = True

    do_GET = do_POST


# ----------------------------------------------------------------------------------------------
# The stand-in
# ----------------------------------------------------------------------------------------------


class BotAPIStandIn:
    """Local, strict Telegram Bot API server (see module docstring).

    Attributes tests may set: ``enforce_flood_limits`` (429 above 30 msg/s overall or 20 msg/min
    per group), ``query_expiry`` (seconds a callback/inline query can be answered), ``privacy_mode``
    (groups: only commands, replies to the bot and @mentions of the bot reach it; on by default
    like a fresh bot), ``revoked`` (every request answers 401, as after the token was revoked).
    """

    def __init__(
        self,
        token: str = "123456:TEST-token_abcdefghijklmnopqrstuv",
        username: str = "QuoteTestBot",
        bot_id: int = 123456,
        first_update_id: int = 1,
    ) -> None:
        self.token, self.username, self.bot_id = token, username, bot_id
        self.bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Quote Test Bot",
            "username": username,
        }
        self.enforce_flood_limits = False
        self.query_expiry = 15.0
        self.privacy_mode = True
        self.revoked = False
        self._released = 0
        self._lock = threading.RLock()
        self._local = threading.local()
        self._cond = threading.Condition(self._lock)
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._stopping = False
        self._started = time.monotonic()
        self._ids = itertools.count(1)
        self._users: dict[int, JSON] = {}
        self._chats: dict[int, JSON] = {}
        self._meta: dict[int, JSON] = {}  # forum/topics/left/blocked/next id per chat
        self._messages: dict[int, dict[int, JSON]] = {}
        self._queue: list[JSON] = []
        self._next_update_id = first_update_id
        self._confirmed_offset = 0
        self._poll_generation = 0
        self._allowed_updates: frozenset[str] = _DEFAULT_ALLOWED
        self._webhook_url = ""
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._callback_queries: dict[str, JSON] = {}
        self._inline_queries: dict[str, JSON] = {}
        self._files: dict[str, JSON] = {}  # by file_id: what users sent, with its bytes
        self._file_paths: dict[str, str] = {}  # file_path (issued by getFile) -> file_id
        self._calls: list[Call] = []
        self._sent: list[JSON] = []
        self._inline_answers: list[JSON] = []
        self._callback_answers: list[JSON] = []
        self._faults: list[_Fault] = []
        self._down: str | None = None
        self._flood_all: deque[float] = deque()
        self._flood_chat: dict[int, deque[float]] = {}
        self.updates_dropped = 0
        self.filtered_by_privacy: list[JSON] = []
        self.default_user = self.make_user(1002, "Bob", username="bob_test")  # groups' sender
        self._methods: dict[str, tuple[str, Callable[[dict[str, str]], Any]]] = {
            name.lower(): (
                name,
                getattr(self, "_m_" + re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()),
            )
            for name in _words(
                "getMe getUpdates setWebhook deleteWebhook setMyCommands sendMessage "
                "editMessageText answerCallbackQuery answerInlineQuery leaveChat getFile"
            )
        }

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> BotAPIStandIn:
        """Start serving on an ephemeral port (idempotent)."""
        if self._server is None:
            handler = type("StandInHandler", (_Handler,), {"standin": self})
            self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            self._server.daemon_threads = True
            self._server.handle_error = _quiet_client_errors  # type: ignore[method-assign]
            self._stopping, self._started = False, time.monotonic()
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.5},
                name="botapi-standin",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; pending long polls are cut off and open connections closed."""
        if self._server is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        # shutdown() waits for serve_forever to notice; poke it with connections so that it
        # doesn't sit out its whole poll interval.
        stopper = threading.Thread(target=self._server.shutdown, daemon=True)
        stopper.start()
        while stopper.is_alive():
            with contextlib.suppress(OSError):
                socket.create_connection(self._server.server_address, timeout=1).close()
            stopper.join(0.01)
        self._server.server_close()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread:
            self._thread.join(5)
        self._server = self._thread = None

    def __enter__(self) -> BotAPIStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``; use ``base_url=url + "/bot"`` with PTB."""
        if self._server is None:
            raise RuntimeError("stand-in not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """``{url}/bot{token}`` -- prefix for raw requests."""
        return f"{self.url}/bot{self.token}"

    def _track_connection(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    # -- fault injection -------------------------------------------------------------------------

    def inject(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        drop_connection: bool = False,
        description: str | None = None,
        execute: bool = False,
        delay: float = 0.0,
        hang: bool = False,
    ) -> None:
        """Make the next ``times`` calls of ``method`` ("*" = any) fail.

        ``status`` 429 answers with ``retry_after``; ``drop_connection`` closes the socket without
        an answer.  ``execute=True`` performs the call first and *then* fails (the "sent, but the
        answer got lost" case). ``delay`` > 0: perform the call, then answer it successfully
        only after ``delay`` seconds (a slow Telegram; ``status`` is ignored). ``hang=True``:
        accept the request and never answer it (nor carry it out) until :meth:`release`.
        """
        with self._lock:
            self._faults.append(
                _Fault(
                    method.lower(),
                    status,
                    retry_after,
                    drop_connection,
                    description,
                    execute,
                    times,
                    delay,
                    hang,
                )
            )

    def clear_faults(self) -> None:
        """Forget every injected fault not yet used."""
        with self._lock:
            self._faults.clear()

    def release(self) -> None:
        """End the requests held by ``inject(..., hang=True)`` (their connections are dropped)."""
        with self._cond:
            self._released += 1
            self._cond.notify_all()

    def set_down(self, down: bool = True, mode: str = "reset") -> None:
        """Simulate the API being unreachable: every request gets a TCP reset (``mode="reset"``),
        an nginx-style HTML 502 (``mode="502"``), or is accepted and never answered
        (``mode="hang"``) until ``set_down(False)``."""
        if mode not in ("reset", "502", "hang"):
            raise ValueError(mode)
        with self._cond:
            self._down = mode if down else None
            self._cond.notify_all()

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method in ("*", method.lower()):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # -- HTTP dispatch ---------------------------------------------------------------------------

    def _handle(self, path: str, headers: Any, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        parts = urllib.parse.urlsplit(path)
        download = re.fullmatch(r"/file/bot([^/]*)/(.+)", parts.path)
        match = re.fullmatch(r"/bot([^/]*)/([^/]+)", parts.path)
        method = DOWNLOAD if download else match[2] if match else parts.path
        with self._lock:
            down = self._down
        if down == "hang":
            self._record(method, {}, 0)
            with self._cond:
                while self._down == "hang" and not self._stopping:
                    self._cond.wait(0.1)
            raise _Drop()
        if down:
            if down == "reset":
                self._record(method, {}, 0)
                raise _Drop(reset=True)
            self._record(method, {}, 502)
            html = b"<html><head><title>502 Bad Gateway</title></head></html>\r\n"
            return 502, html, {"Content-Type": "text/html"}
        if download:
            # PTB percent-encodes the whole path (the token's ":" too), as a browser may
            return self._download(*(urllib.parse.unquote(part) for part in download.groups()))
        status, payload, retry, view = 200, None, None, {}
        try:
            if not match or not re.fullmatch(r"\d+:[\w-]+", match[1]):
                raise APIError(404, "Not Found")
            if match[1] != self.token or self.revoked:
                raise APIError(401, "Unauthorized")
            params, files = self._parse_body(parts.query, headers, body)
            view = _record_view(params, files)
            method, func = self._methods.get(method.lower(), (method, None))
            fault = self._take_fault(method)
            if fault and fault.hang:
                with self._cond:
                    released = self._released
                    while self._released == released and not self._stopping:
                        self._cond.wait(0.1)
                raise _Drop()
            if fault and not fault.execute and not fault.delay:
                self._raise_fault(fault, method, view)
            if func is None:
                raise APIError(404, "Not Found: method not found")
            try:
                payload = func(params)
            except (APIError, _Drop):
                raise
            except Exception as exc:  # a stand-in bug: make it loud, not a silent disconnect
                traceback.print_exc()
                raise APIError(500, f"Internal Server Error: stand-in bug: {exc!r}") from exc
            if fault and fault.delay:
                time.sleep(fault.delay)
            elif fault:
                self._raise_fault(fault, method, view)
        except _Drop as drop:
            self._record(method, view, drop.status)
            raise
        except APIError as err:
            status, retry = err.status, err.retry_after
            answer: JSON = {"ok": False, "error_code": status, "description": err.description}
            if retry is not None:
                answer["parameters"] = {"retry_after": retry}
        else:
            answer = {"ok": True, "result": payload}
        self._record(method, view, status)
        data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        headers_out = {"Content-Type": "application/json"}
        if retry is not None:
            headers_out["Retry-After"] = str(retry)
        return status, data, headers_out

    def _download(self, token: str, file_path: str) -> tuple[int, bytes, dict[str, str]]:
        """``GET /file/bot<token>/<file_path>``: the file's bytes, for a path getFile issued."""
        view = {"file_path": file_path}
        with self._lock:
            stored = self._files.get(self._file_paths.get(file_path, ""))
        fault = self._take_fault(DOWNLOAD)
        if fault and fault.drop_connection:
            self._record(DOWNLOAD, view, 0)
            raise _Drop()
        if token != self.token or self.revoked or stored is None or fault:
            status = fault.status if fault else 404
            self._record(DOWNLOAD, view, status)
            answer = {"ok": False, "error_code": status, "description": "Not Found"}
            data = json.dumps(answer).encode()
            return status, data, {"Content-Type": "application/json"}
        self._record(DOWNLOAD, view, 200)
        return 200, stored["data"], {"Content-Type": "application/octet-stream"}

    def _raise_fault(self, fault: _Fault, method: str, view: dict[str, Any]) -> None:
        if fault.drop_connection:
            raise _Drop()
        if fault.status == 429:
            raise APIError(
                429,
                fault.description or f"Too Many Requests: retry after {fault.retry_after}",
                retry_after=fault.retry_after,
            )
        try:
            phrase = HTTPStatus(fault.status).phrase
        except ValueError:
            phrase = "Error"
        raise APIError(
            fault.status,
            fault.description or ("Bad Request: injected error" if fault.status == 400 else phrase),
        )

    def _record(self, method: str, view: dict[str, Any], status: int) -> None:
        with self._cond:
            self._calls.append(Call(method, view, status))
            self._cond.notify_all()

    @staticmethod
    def _parse_body(
        query: str, headers: Any, body: bytes
    ) -> tuple[dict[str, str], dict[str, bytes]]:
        params: dict[str, str] = {}
        files: dict[str, bytes] = {}
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            params.update(urllib.parse.parse_qsl(query, keep_blank_values=True, errors="strict"))
            if not body:
                pass
            elif ctype == "application/json":
                try:
                    data = json.loads(body.decode("utf-8"))
                except json.JSONDecodeError as exc:
                    raise _bad("can't parse JSON request body") from exc
                if not isinstance(data, dict):
                    raise _bad("JSON request body must be an object")
                _check_utf8(data)
                params.update(
                    {k: v for k, v in ((k, _as_param(v)) for k, v in data.items()) if v is not None}
                )
            elif ctype == "application/x-www-form-urlencoded":
                text = body.decode("utf-8")
                params.update(urllib.parse.parse_qsl(text, keep_blank_values=True, errors="strict"))
            elif ctype == "multipart/form-data":
                head = f"Content-Type: {headers.get('Content-Type')}\r\n\r\n".encode()
                message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
                for part in message.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    content = part.get_payload(decode=True) or b""
                    if part.get_filename() is None:
                        params[name] = content.decode("utf-8")
                    else:
                        files[name] = content
        except UnicodeError as exc:
            raise _bad("strings must be encoded in UTF-8") from exc
        return params, files

    # -- parameter helpers -----------------------------------------------------------------------

    @staticmethod
    def _int(p: dict[str, str], name: str, default: int | None = None) -> int | None:
        raw = p.get(name, "")
        if raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise _bad(f"invalid {name} specified") from None

    @staticmethod
    def _bool(p: dict[str, str], name: str) -> bool:
        return p.get(name, "").lower() in ("true", "1")

    @staticmethod
    def _json(p: dict[str, str], name: str, what: str) -> Any:
        if p.get(name, "") == "":
            return None
        try:
            return json.loads(p[name])
        except json.JSONDecodeError:
            raise _bad(f"can't parse {what} JSON object") from None

    def _chat(self, value: Any) -> JSON:
        """Resolve a chat_id (int, "-100..", "@username" or chat dict) to the chat object."""
        if isinstance(value, dict):
            value = value["id"]
        if value in (None, ""):
            raise _bad("chat_id is empty")
        with self._lock:
            if isinstance(value, str) and value.startswith("@"):
                for chat in self._chats.values():
                    if chat.get("username", "").lower() == value[1:].lower():
                        return chat
                raise _bad("chat not found")
            try:
                return self._chats[int(value)]
            except (KeyError, ValueError):
                raise _bad("chat not found") from None

    def _formatted(self, p: dict[str, str], field: str, *, too_long: str) -> tuple[str, list[JSON]]:
        text = p.get(field, "")
        mode = p.get("parse_mode", "").lower()
        empty = "message text is empty"
        if not text:
            raise _bad(empty)
        try:
            if mode == "html":
                plain, entities = parse_telegram_html(text)
            elif mode == "":
                plain, entities = text, self._json(p, "entities", "entities") or []
            else:
                raise _bad("unsupported parse_mode")
        except TelegramParseError as exc:
            raise APIError(400, str(exc)) from None
        if not plain.strip():
            raise _bad(empty)
        if utf16_len(plain) > 4096:
            raise _bad(too_long)
        return plain, entities

    def _markup(self, p: dict[str, str]) -> JSON | None:
        markup = self._json(p, "reply_markup", "reply keyboard markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            self._check_inline_keyboard(markup["inline_keyboard"])
        elif "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad('field "keyboard" must be an Array of Arrays')
            for button in itertools.chain.from_iterable(rows):
                text = button if isinstance(button, str) else (button or {}).get("text")
                if not isinstance(text, str) or not text:
                    raise _bad("can't parse keyboard button: Text must be non-empty")
        elif markup.get("remove_keyboard") is not True and markup.get("force_reply") is not True:
            raise _bad("can't parse reply keyboard markup JSON object")
        return markup

    @staticmethod
    def _check_inline_keyboard(rows: Any) -> None:
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad(
                'can\'t parse inline keyboard button: field "inline_keyboard" of the '
                "InlineKeyboardMarkup must be an Array of Arrays"
            )
        for button in itertools.chain.from_iterable(rows):
            if not isinstance(button, dict):
                raise _bad(
                    "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                )
            if not isinstance(button.get("text"), str) or not button["text"]:
                raise _bad("can't parse inline keyboard button: Text must be non-empty")
            actions = sorted(a for a in _BUTTON_ACTIONS if a in button)
            if not actions:
                raise _bad(
                    "can't parse inline keyboard button: Text buttons are unallowed in the "
                    "inline keyboard"
                )
            if len(actions) > 1:  # STRICT: Telegram silently uses one of them
                raise _bad(
                    "can't parse inline keyboard button: exactly one of the optional fields "
                    f"must be used, got {actions}"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise _bad("BUTTON_DATA_INVALID")
            if "url" in button and not re.match(
                r"(?i)(https?://[^\s/]+\.\S+|tg://\S+)$", str(button["url"])
            ):
                raise _bad(
                    f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL"
                )

    # -- state helpers ---------------------------------------------------------------------------

    def _new_message(
        self,
        chat: JSON,
        sender: JSON,
        text: str,
        entities: list[JSON],
        *,
        thread_id: int | None = None,
        reply_to: JSON | None = None,
        markup: JSON | None = None,
    ) -> JSON:
        with self._lock:
            meta = self._meta[chat["id"]]
            if reply_to is None and thread_id is not None and meta["forum"]:
                reply_to = self._messages[chat["id"]].get(thread_id)  # implicit topic reply
            meta["next_id"] += 1
            msg: JSON = {
                "message_id": meta["next_id"],
                "from": copy.deepcopy(sender),
                "chat": copy.deepcopy(chat),
                "date": int(time.time()),
                "text": text,
            }
            if entities:
                msg["entities"] = entities
            if thread_id is not None:
                msg["message_thread_id"] = thread_id
                if meta["forum"]:
                    msg["is_topic_message"] = True
            if reply_to is not None:
                msg["reply_to_message"] = {
                    k: copy.deepcopy(v) for k, v in reply_to.items() if k != "reply_to_message"
                }
            if markup is not None:
                msg["reply_markup"] = markup
            self._messages[chat["id"]][msg["message_id"]] = msg
            return msg

    def _enqueue(self, update: JSON) -> JSON:
        with self._cond:
            kind = next((k for k in update if k != "update_id"), None)
            if kind not in self._allowed_updates:
                return update  # Telegram never queues updates the bot didn't ask for
            update["update_id"] = self._next_update_id
            self._next_update_id += 1
            self._queue.append(update)
            self._cond.notify_all()
            return copy.deepcopy(update)

    def _flood_check(self, chat: JSON) -> None:
        if not self.enforce_flood_limits:
            return
        now = time.monotonic()
        with self._lock:
            overall = self._flood_all
            while overall and now - overall[0] >= 1.0:
                overall.popleft()
            if len(overall) >= 30:
                raise APIError(429, "Too Many Requests: retry after 1", retry_after=1)
            per_chat = self._flood_chat.setdefault(chat["id"], deque())
            while per_chat and now - per_chat[0] >= 60.0:
                per_chat.popleft()
            if chat["type"] != "private" and len(per_chat) >= 20:
                wait = max(1, math.ceil(60.0 - (now - per_chat[0])))
                raise APIError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
            overall.append(now)
            per_chat.append(now)

    def _writable(self, chat: JSON) -> None:
        meta = self._meta[chat["id"]]
        if meta["blocked"]:
            raise APIError(403, "Forbidden: bot was blocked by the user")
        if meta["left"]:
            raise APIError(403, f"Forbidden: bot is not a member of the {chat['type']} chat")

    def _thread_id(self, chat: JSON, p: dict[str, str]) -> int | None:
        thread_id = self._int(p, "message_thread_id")
        if thread_id is not None:
            meta = self._meta[chat["id"]]
            known = (
                meta["topics"]
                if meta["forum"]
                else (self._messages[chat["id"]] if chat["type"] == "supergroup" else {})
            )
            if thread_id not in known:
                raise _bad("message thread not found")
        return thread_id

    def _reply_target(self, chat: JSON, p: dict[str, str]) -> JSON | None:
        rp = self._json(p, "reply_parameters", "reply parameters")
        if rp is None and p.get("reply_to_message_id"):
            rp = {
                "message_id": self._int(p, "reply_to_message_id"),
                "allow_sending_without_reply": self._bool(p, "allow_sending_without_reply"),
            }
        if rp is None:
            return None
        if not isinstance(rp, dict) or not isinstance(rp.get("message_id"), int):
            raise _bad("can't parse reply parameters JSON object")
        target_chat = self._chat(rp["chat_id"]) if rp.get("chat_id") is not None else chat
        target = self._messages[target_chat["id"]].get(rp["message_id"])
        if target is None:
            if rp.get("allow_sending_without_reply"):
                return None
            raise _bad("message to be replied not found")
        quote = rp.get("quote")
        if quote is not None and quote not in target.get("text", ""):
            raise _bad("QUOTE_TEXT_INVALID")
        return target

    def _fresh_query(self, table: dict[str, JSON], query_id: str) -> JSON:
        query = table.get(query_id)
        if (
            query is None
            or query["answered"]
            or time.monotonic() - query["created"] > self.query_expiry
        ):
            raise _bad(_QUERY_TOO_OLD)
        return query

    # -- Bot API methods -------------------------------------------------------------------------

    def _m_get_me(self, p: dict[str, str]) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_get_updates(self, p: dict[str, str]) -> list[JSON]:
        offset = self._int(p, "offset", 0) or 0
        limit = min(max(self._int(p, "limit", 100) or 100, 1), 100)  # clamped, like Telegram
        try:
            timeout = min(max(float(p.get("timeout") or 0), 0.0), 50.0)
        except ValueError:
            raise _bad("invalid timeout specified") from None
        allowed = self._json(p, "allowed_updates", "allowed updates")
        with self._cond:
            if self._webhook_url:
                raise APIError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is "
                    "active; use deleteWebhook to delete the webhook first",
                )
            if isinstance(allowed, list):
                self._allowed_updates = frozenset(allowed) or _DEFAULT_ALLOWED
            if offset < 0 and self._queue:  # negative offsets count from the end of the queue
                offset += self._queue[-1]["update_id"] + 1
            if offset > 0:
                self._queue = [u for u in self._queue if u["update_id"] >= offset]
                self._confirmed_offset = max(self._confirmed_offset, offset)
            deadline = time.monotonic() + timeout
            generation = None
            while True:
                if self._stopping:
                    raise _Drop()
                if self.revoked:  # a revoked token ends the sessions in flight too
                    raise APIError(401, "Unauthorized")
                peer_closed = getattr(self._local, "peer_closed", None)
                if peer_closed and peer_closed():  # recorded as 499, nginx' "client closed"
                    raise _Drop(status=499)
                if generation is not None and generation != self._poll_generation:
                    raise APIError(
                        409,
                        "Conflict: terminated by other getUpdates request; make "
                        "sure that only one bot instance is running",
                    )
                if self._webhook_url:
                    raise APIError(409, "Conflict: terminated by setWebhook request")
                batch = [u for u in self._queue if u["update_id"] >= offset][:limit]
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0:
                    return copy.deepcopy(batch)
                if generation is None:  # a new long poll terminates the one in flight
                    self._poll_generation += 1
                    generation = self._poll_generation
                    self._cond.notify_all()
                self._cond.wait(min(remaining, 0.1))

    def _m_set_webhook(self, p: dict[str, str]) -> bool:
        url = p.get("url", "")
        if url and not url.lower().startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        with self._cond:
            if self._bool(p, "drop_pending_updates"):
                self.updates_dropped += len(self._queue)
                self._queue.clear()
            self._webhook_url = url
            self._cond.notify_all()
        return True

    def _m_delete_webhook(self, p: dict[str, str]) -> bool:
        return self._m_set_webhook({k: v for k, v in p.items() if k != "url"})

    def _commands_key(self, p: dict[str, str]) -> tuple[str, str]:
        scope = self._json(p, "scope", "BotCommandScope") or {"type": "default"}
        valid = {
            "default",
            "all_private_chats",
            "all_group_chats",
            "all_chat_administrators",
            "chat",
            "chat_administrators",
            "chat_member",
        }
        if not isinstance(scope, dict) or scope.get("type") not in valid:
            raise _bad("can't parse BotCommandScope JSON object")
        if "chat" in scope["type"] and scope["type"] != "all_chat_administrators":
            self._chat(scope.get("chat_id"))
        language = p.get("language_code", "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _bad("invalid language code specified")
        return json.dumps(scope, sort_keys=True), language

    def _m_set_my_commands(self, p: dict[str, str]) -> bool:
        commands = self._json(p, "commands", "commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        # Telegram accepts an empty list (it clears the commands), so do we.
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        for cmd in commands:
            if not isinstance(cmd, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(cmd.get("command", ""))
            ):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(cmd.get("description"), str) or not (
                cmd["description"].strip() and len(cmd["description"]) <= 256
            ):
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(p)
        with self._lock:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        return True

    def _m_send_message(self, p: dict[str, str]) -> JSON:
        text, entities = self._formatted(p, "text", too_long="message is too long")
        markup = self._markup(p)
        self._json(p, "link_preview_options", "link preview options")
        with self._lock:
            chat = self._chat(p.get("chat_id"))
            self._writable(chat)
            thread_id = self._thread_id(chat, p)
            reply_to = self._reply_target(chat, p)
            if thread_id is None and reply_to and reply_to.get("is_topic_message"):
                thread_id = reply_to["message_thread_id"]  # replies stay in the topic
            self._flood_check(chat)
            msg = self._new_message(
                chat,
                self.bot_user,
                text,
                entities,
                thread_id=thread_id,
                reply_to=reply_to,
                markup=markup,
            )
            self._sent.append(copy.deepcopy(msg))
            self._cond.notify_all()
            return copy.deepcopy(msg)

    def _editable(self, p: dict[str, str]) -> JSON:
        """The stored message addressed by an edit* call."""
        with self._lock:
            chat = self._chat(p.get("chat_id"))
            msg = self._messages[chat["id"]].get(self._int(p, "message_id", 0) or 0)
            if msg is None:
                raise _bad("message to edit not found")
            if msg["from"]["id"] != self.bot_id:
                raise _bad("message can't be edited")
            return msg

    def _apply_edit(self, msg: JSON, text: str, entities: list[JSON], markup: JSON | None) -> Any:
        with self._cond:
            old = (msg.get("text"), msg.get("entities", []), msg.get("reply_markup"))
            if old == (text, entities, markup):
                raise _bad(_NOT_MODIFIED)
            msg["text"] = text
            msg.pop("entities", None)
            msg.pop("reply_markup", None)  # omitting reply_markup removes the keyboard
            msg.update({"entities": entities} if entities else {})
            msg.update({"reply_markup": markup} if markup is not None else {})
            msg["edit_date"] = int(time.time())
            self._cond.notify_all()
            self._sent.append(copy.deepcopy(msg))
            return copy.deepcopy(msg)

    def _m_edit_message_text(self, p: dict[str, str]) -> Any:
        text, entities = self._formatted(p, "text", too_long="MESSAGE_TOO_LONG")
        markup = self._markup(p)
        return self._apply_edit(self._editable(p), text, entities, markup)

    def _m_answer_callback_query(self, p: dict[str, str]) -> bool:
        text = p.get("text", "")
        if len(text) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        with self._lock:
            query = self._fresh_query(self._callback_queries, p.get("callback_query_id", ""))
            query["answered"] = True
            self._callback_answers.append(
                {
                    "callback_query_id": p["callback_query_id"],
                    "text": text or None,
                    "show_alert": self._bool(p, "show_alert"),
                    "url": p.get("url"),
                    "cache_time": self._int(p, "cache_time", 0),
                }
            )
            self._cond.notify_all()
        return True

    def _m_answer_inline_query(self, p: dict[str, str]) -> bool:
        results = self._json(p, "results", "inline query results")
        if not isinstance(results, list):
            raise _bad("can't parse JSON encoded inline query results")
        if len(results) > 50:
            raise _bad("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict) or result.get("type") not in _INLINE_RESULT_TYPES:
                raise _bad("RESULT_TYPE_INVALID")
            rid = result.get("id")
            if not isinstance(rid, str) or not 1 <= len(rid.encode("utf-8")) <= 64:
                raise _bad("RESULT_ID_INVALID")
            if rid in seen:
                raise _bad("RESULT_ID_DUPLICATE")
            seen.add(rid)
            if "reply_markup" in result:
                markup = result["reply_markup"]
                if not isinstance(markup, dict) or "inline_keyboard" not in markup:
                    raise _bad("can't parse inline query result reply markup")
                self._check_inline_keyboard(markup["inline_keyboard"])
            if result["type"] == "article":
                if not isinstance(result.get("title"), str) or not result["title"].strip():
                    raise _bad("RESULT_TITLE_EMPTY")
                content = result.get("input_message_content")
                if not isinstance(content, dict):
                    raise _bad("can't parse InputMessageContent: input_message_content is missing")
                fields = {
                    "text": _as_param(content.get("message_text")) or "",
                    "parse_mode": _as_param(content.get("parse_mode")) or "",
                    "entities": _as_param(content.get("entities")) or "",
                }
                try:
                    self._formatted(fields, "text", too_long="MESSAGE_TOO_LONG")
                except APIError as err:
                    if err.description.endswith("message text is empty"):
                        raise _bad("MESSAGE_EMPTY") from None
                    raise
        if len(p.get("next_offset", "").encode("utf-8")) > 64:
            raise _bad("NEXT_OFFSET_INVALID")
        self._json(p, "button", "InlineQueryResultsButton")
        with self._lock:
            query = self._fresh_query(self._inline_queries, p.get("inline_query_id", ""))
            query["answered"] = True
            query["results"] = results
            self._inline_answers.append(
                {
                    "inline_query_id": p["inline_query_id"],
                    "results": results,
                    "cache_time": self._int(p, "cache_time", 300),
                    "is_personal": self._bool(p, "is_personal"),
                    "next_offset": p.get("next_offset", ""),
                    "button": self._json(p, "button", "InlineQueryResultsButton"),
                }
            )
            self._cond.notify_all()
        return True

    def _m_get_file(self, p: dict[str, str]) -> JSON:
        file_id = p.get("file_id", "")
        if not file_id:
            raise _bad("file_id not specified")
        with self._lock:
            stored = self._files.get(file_id)
            if stored is None:
                raise _bad("invalid file_id")
            if len(stored["data"]) > DOWNLOAD_LIMIT:
                raise _bad("file is too big")
            if stored["file_path"] is None:  # as Telegram's: a folder by kind, the suffix kept
                name = stored.get("file_name") or ""
                suffix = name[name.rfind(".") :].lower() if "." in name else ""
                stored["file_path"] = f"documents/file_{next(self._ids)}{suffix}"
                self._file_paths[stored["file_path"]] = file_id
            return {
                "file_id": file_id,
                "file_unique_id": stored["file_unique_id"],
                "file_size": len(stored["data"]),
                "file_path": stored["file_path"],
            }

    def _m_leave_chat(self, p: dict[str, str]) -> bool:
        with self._lock:
            chat = self._chat(p.get("chat_id"))
            if chat["type"] != "private":
                self._meta[chat["id"]]["left"] = True
        return True

    # -- test-control API ------------------------------------------------------------------------

    def make_user(
        self,
        user_id: int,
        first_name: str = "Alice",
        username: str | None = None,
        language_code: str | None = "en",
    ) -> JSON:
        """Register (or replace) a user and return its User object."""
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        with self._lock:
            self._users[user_id] = user
        return copy.deepcopy(user)

    def _add_chat(self, chat: JSON, forum: bool = False) -> JSON:
        with self._lock:
            self._chats[chat["id"]] = chat
            self._meta.setdefault(
                chat["id"],
                {"forum": forum, "topics": {}, "left": False, "blocked": False, "next_id": 0},
            )
            self._messages.setdefault(chat["id"], {})
        return copy.deepcopy(chat)

    def private_chat(
        self, user_id: int = 1001, first_name: str = "Alice", username: str | None = None
    ) -> JSON:
        """A private chat with a (new or existing) user; chat id == user id."""
        self.make_user(user_id, first_name, username)
        chat: JSON = {"id": user_id, "type": "private", "first_name": first_name}
        if username:
            chat["username"] = username
        return self._add_chat(chat)

    def group_chat(
        self,
        chat_id: int = -1001234567890,
        title: str = "Test Group",
        forum: bool = False,
        username: str | None = None,
    ) -> JSON:
        """A group ("-100..." ids are supergroups); ``forum=True`` makes a forum supergroup."""
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        if forum and kind != "supergroup":
            raise ValueError("forums must be supergroups (chat_id -100...)")
        chat: JSON = {"id": chat_id, "type": kind, "title": title}
        if forum:
            chat["is_forum"] = True
        if username:
            chat["username"] = username
        return self._add_chat(chat, forum)

    def create_topic(self, chat: JSON | int, name: str, icon_color: int = 0x6FB9F0) -> int:
        """Create a forum topic (stores its service message); returns its message_thread_id."""
        chat_obj = self._chat(chat)
        with self._lock:
            meta = self._meta[chat_obj["id"]]
            if not meta["forum"]:
                raise ValueError("not a forum chat")
            msg = self._new_message(chat_obj, self.default_user, "", [])
            del msg["text"]
            msg.update(
                message_thread_id=msg["message_id"],
                is_topic_message=True,
                forum_topic_created={"name": name, "icon_color": icon_color},
            )
            meta["topics"][msg["message_id"]] = name
            return msg["message_id"]

    def set_blocked(self, chat: JSON | int, blocked: bool = True) -> None:
        """Private chat: the user blocks the bot (sends answer 403)."""
        with self._lock:
            self._meta[self._chat(chat)["id"]]["blocked"] = blocked

    def _user(self, user: JSON | int | None, chat: JSON | None = None) -> JSON:
        if user is None:
            if chat and chat["type"] == "private":
                return copy.deepcopy(self._users[chat["id"]])
            return copy.deepcopy(self.default_user)
        uid = user["id"] if isinstance(user, dict) else user
        with self._lock:
            if uid not in self._users:
                if not isinstance(user, dict):
                    raise ValueError(f"unknown user {uid}")
                self._users[uid] = copy.deepcopy(user)
            return copy.deepcopy(self._users[uid])

    def _auto_entities(self, text: str) -> list[JSON]:
        """bot_command / mention / url entities, as Telegram's server adds them."""
        found = []
        patterns = (
            ("bot_command", r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])"),
            ("mention", r"(?<![\w@/])@[A-Za-z0-9_]{5,32}(?!\w)"),
            ("url", r"(?<![\w@])https?://[^\s<>\"]+[^\s<>\".,;:!?)\]']"),
        )
        for kind, pattern in patterns:
            for m in re.finditer(pattern, text):
                found.append(
                    {
                        "type": kind,
                        "offset": utf16_len(text[: m.start()]),
                        "length": utf16_len(m[0]),
                    }
                )
        return sorted(found, key=lambda e: e["offset"])

    def _reaches_bot(self, msg: JSON) -> bool:
        """Privacy mode (groups): commands for us, replies to the bot and @mentions of the bot.
        (Telegram's docs list commands and replies; mentions are delivered here to be lenient.)"""
        if not self.privacy_mode or msg["chat"]["type"] == "private":
            return True
        text = msg.get("text", msg.get("caption", ""))  # a caption's entities count alike
        for ent in msg.get("entities", msg.get("caption_entities", [])):
            piece = text.encode("utf-16-le")[
                ent["offset"] * 2 : (ent["offset"] + ent["length"]) * 2
            ]
            value = piece.decode("utf-16-le").lower()
            if ent["type"] == "bot_command" and (
                "@" not in value or value.endswith("@" + self.username.lower())
            ):
                return True
            if ent["type"] == "mention" and value == "@" + self.username.lower():
                return True
        reply = msg.get("reply_to_message")
        return bool(
            reply
            and reply.get("from", {}).get("id") == self.bot_id
            and "forum_topic_created" not in reply
        )

    def send_text(
        self,
        chat: JSON | int,
        text: str,
        from_user: JSON | int | None = None,
        reply_to: JSON | None = None,
        message_thread_id: int | None = None,
        anonymous_admin: bool = False,
    ) -> JSON:
        """A user sends ``text``: store the Message, enqueue an Update (unless privacy mode hides
        it from the bot, see ``filtered_by_privacy``) and return the Message.
        ``anonymous_admin=True``: sent by an anonymous group admin, as Telegram delivers it (from
        GroupAnonymousBot, ``sender_chat`` the group)."""
        chat_obj = self._chat(chat)
        with self._lock:
            meta = self._meta[chat_obj["id"]]
            target = None
            if reply_to is not None:
                target = self._messages[chat_obj["id"]].get(reply_to["message_id"])
                if target is None:
                    raise ValueError("reply_to message is not stored in that chat")
                if message_thread_id is None and target.get("is_topic_message"):
                    message_thread_id = target["message_thread_id"]
            if message_thread_id is not None and message_thread_id not in meta["topics"]:
                raise ValueError(f"no topic {message_thread_id} in chat {chat_obj['id']}")
            sender = GROUP_ANONYMOUS_BOT if anonymous_admin else self._user(from_user, chat_obj)
            msg = self._new_message(
                chat_obj,
                sender,
                text,
                self._auto_entities(text),
                thread_id=message_thread_id,
                reply_to=target,
            )
            if anonymous_admin:
                msg["sender_chat"] = copy.deepcopy(chat_obj)
                self._messages[chat_obj["id"]][msg["message_id"]] = msg
            if self._reaches_bot(msg):
                self._enqueue({"message": copy.deepcopy(msg)})
            else:
                self.filtered_by_privacy.append(copy.deepcopy(msg))
            return copy.deepcopy(msg)

    def send_photo(
        self,
        chat: JSON | int,
        caption: str | None = None,
        from_user: JSON | int | None = None,
        reply_to: JSON | None = None,
    ) -> JSON:
        """A user sends a photo, with ``caption`` if given (``caption_entities`` as Telegram adds
        them); delivered like :meth:`send_text` (privacy mode reads the caption's entities)."""
        chat_obj = self._chat(chat)
        with self._lock:
            target = None
            if reply_to is not None:
                target = self._messages[chat_obj["id"]].get(reply_to["message_id"])
                if target is None:
                    raise ValueError("reply_to message is not stored in that chat")
            sender = self._user(from_user, chat_obj)
            msg = self._new_message(chat_obj, sender, "", [], reply_to=target)
            del msg["text"]
            n = msg["message_id"]
            msg["photo"] = [
                {"file_id": f"photo-{n}-{w}", "file_unique_id": f"p{n}{w}", "width": w, "height": w}
                for w in (90, 800)
            ]
            if caption:
                msg["caption"] = caption
                entities = self._auto_entities(caption)
                if entities:
                    msg["caption_entities"] = entities
            if self._reaches_bot(msg):
                self._enqueue({"message": copy.deepcopy(msg)})
            else:
                self.filtered_by_privacy.append(copy.deepcopy(msg))
            return copy.deepcopy(msg)

    def send_document(
        self,
        chat: JSON | int,
        data: bytes,
        file_name: str | None = None,
        mime_type: str | None = None,
        caption: str | None = None,
        from_user: JSON | int | None = None,
        size_known: bool = True,
    ) -> JSON:
        """A user sends a file (``data``) as a document, named ``file_name`` with ``mime_type``
        (as the user's app sets them: neither is checked); ``size_known=False`` leaves out
        ``file_size`` (optional in the Bot API). The bot fetches it with getFile and a download
        (``calls`` record those as ``getFile`` and ``download``)."""
        chat_obj = self._chat(chat)
        with self._lock:
            sender = self._user(from_user, chat_obj)
            msg = self._new_message(chat_obj, sender, "", [])
            del msg["text"]
            n = next(self._ids)
            document: JSON = {"file_id": f"BQACAgIAAxkBAAI{n:08d}", "file_unique_id": f"AgAD{n}"}
            if file_name is not None:
                document["file_name"] = file_name
            if mime_type is not None:
                document["mime_type"] = mime_type
            if size_known:
                document["file_size"] = len(data)
            self._files[document["file_id"]] = {
                **document,
                "data": bytes(data),
                "file_path": None,
            }
            msg["document"] = document
            if caption:
                msg["caption"] = caption
                entities = self._auto_entities(caption)
                if entities:
                    msg["caption_entities"] = entities
            if self._reaches_bot(msg):
                self._enqueue({"message": copy.deepcopy(msg)})
            else:
                self.filtered_by_privacy.append(copy.deepcopy(msg))
            return copy.deepcopy(msg)

    def send_inline_query(
        self, user: JSON | int | None, query: str, offset: str = "", chat_type: str = "sender"
    ) -> str:
        """A user types ``@bot query``; returns the inline_query_id."""
        query_id = str(4_000_000_000_000 + next(self._ids))
        sender = self._user(user)
        with self._lock:
            self._inline_queries[query_id] = {
                "created": time.monotonic(),
                "answered": False,
                "from": sender,
                "query": query,
            }
        self._enqueue(
            {
                "inline_query": {
                    "id": query_id,
                    "from": sender,
                    "query": query,
                    "offset": offset,
                    "chat_type": chat_type,
                }
            }
        )
        return query_id

    def press_button(
        self,
        message: JSON,
        callback_data: str,
        user: JSON | int | None = None,
        forged: bool = False,
    ) -> str:
        """A user presses the inline button with ``callback_data`` on the *current* version of
        ``message``; returns the query id. ``forged=True``: a modified client sends data that
        no button of the message carries (Telegram delivers it all the same)."""
        with self._lock:
            chat = self._chat(message["chat"])
            current = self._messages[chat["id"]].get(message["message_id"])
            if current is None:
                raise AssertionError("message was deleted")
            where = {"message": copy.deepcopy(current)}
            buttons = list(
                itertools.chain.from_iterable(
                    current.get("reply_markup", {}).get("inline_keyboard", [])
                )
            )
            if not forged and not any(b.get("callback_data") == callback_data for b in buttons):
                raise AssertionError(
                    f"no button with callback_data={callback_data!r}; buttons: {buttons}"
                )
            query_id = str(5_000_000_000_000 + next(self._ids))
            self._callback_queries[query_id] = {"created": time.monotonic(), "answered": False}
        self._enqueue(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user(user, chat),
                    "chat_instance": "-" + str(abs(hash(str(where)))),
                    "data": callback_data,
                    **where,
                }
            }
        )
        return query_id

    def restart_update_ids(self, next_id: int) -> None:
        """Telegram restarts the update id sequence (after a week without updates it picks the
        next id at random, possibly lower): the next update gets ``next_id``. ``getUpdates`` keeps
        its offset rule, so an offset above ``next_id`` confirms (drops) the new updates."""
        with self._cond:
            self._next_update_id = next_id

    def push_raw_update(self, update: JSON) -> JSON:
        """Enqueue any update dict (update_id is assigned); returns it with its update_id."""
        return self._enqueue({k: v for k, v in copy.deepcopy(update).items() if k != "update_id"})

    # -- records ---------------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Snapshot of every request: ``Call(method, params, status)`` (0 = dropped)."""
        with self._lock:
            return list(self._calls)

    @property
    def inline_answers(self) -> list[JSON]:
        """Accepted answerInlineQuery calls (decoded)."""
        with self._lock:
            return copy.deepcopy(self._inline_answers)

    @property
    def callback_answers(self) -> list[JSON]:
        """Accepted answerCallbackQuery calls."""
        with self._lock:
            return copy.deepcopy(self._callback_answers)

    @property
    def confirmed_offset(self) -> int:
        """Highest offset the bot confirmed; updates below it are gone."""
        with self._lock:
            return self._confirmed_offset

    def sent_messages(self, chat_id: int | None = None) -> list[JSON]:
        """Messages returned by successful sendMessage/editMessage* calls, in order."""
        with self._lock:
            return [
                copy.deepcopy(m)
                for m in self._sent
                if chat_id is None or m["chat"]["id"] == chat_id
            ]

    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._lock:
            return copy.deepcopy(self._queue)

    def get_message(self, chat_id: int, message_id: int) -> JSON | None:
        """Current stored version of a message (None if unknown/deleted)."""
        with self._lock:
            return copy.deepcopy(self._messages.get(chat_id, {}).get(message_id))

    # -- waiting helpers -------------------------------------------------------------------------

    def dump(self, last: int = 25) -> str:
        """Human-readable state summary (used in timeout errors)."""
        with self._lock:
            lines = [f"last {min(last, len(self._calls))} of {len(self._calls)} calls:"]
            for call in self._calls[-last:]:
                lines.append(f"  {call.status} {call.method} {str(call.params)[:160]}")
            lines.append(
                f"pending updates: {[u['update_id'] for u in self._queue]}, "
                f"confirmed offset: {self._confirmed_offset}"
            )
            lines.append(f"sent messages ({len(self._sent)}):")
            for m in self._sent[-10:]:
                lines.append(f"  chat {m['chat']['id']} #{m['message_id']}: {m['text'][:100]!r}")
        return "\n".join(lines)

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10, what: str = "") -> Any:
        """Poll ``predicate`` until it returns something truthy (returned); AssertionError with
        a state dump after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what or predicate}\n{self.dump()}"
                )
            with self._cond:
                self._cond.wait(min(remaining, 0.05))

    def wait_for_messages(
        self, n: int, chat_id: int | None = None, timeout: float = 10
    ) -> list[JSON]:
        """Wait until at least ``n`` messages were sent/edited (in ``chat_id``); returns them."""

        def enough() -> list[JSON] | None:
            msgs = self.sent_messages(chat_id)
            return msgs if len(msgs) >= n else None

        where = f" in chat {chat_id}" if chat_id is not None else ""
        return self.wait_for(enough, timeout, f"{n} sent message(s){where}")

    def wait_for_call(self, method: str, timeout: float = 10, count: int = 1) -> Call:
        """Wait until ``method`` was called ``count`` times; returns the latest such Call."""

        def found() -> Call | None:
            matching = [c for c in self.calls if c.method.lower() == method.lower()]
            return matching[-1] if len(matching) >= count else None

        return self.wait_for(found, timeout, f"{count} call(s) of {method}")

    def wait_until_consumed(self, timeout: float = 10) -> None:
        """Wait until the bot confirmed every queued update."""
        self.wait_for(lambda: not self.pending_updates(), timeout, "all updates confirmed")
