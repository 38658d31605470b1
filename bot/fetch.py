"""Fetching one document from a URL (``/add URL``), without letting the URL reach inside.

- Only ``http://`` and ``https://``, no user name or password in the URL.
- Every address the host resolves to must be public: loopback, private, link-local, multicast,
  reserved and other non-global addresses are refused, for the URL and for every redirect (at
  most :data:`MAX_REDIRECTS`). The connection goes to the address that was checked (the host
  is not looked up a second time, so a DNS answer cannot change in between); TLS still checks
  the certificate against the host name.
- At most ``max_bytes`` are read (``Content-Length`` checked first, the body streamed and cut
  off past the limit); the whole fetch, redirects included, within ``timeout`` seconds.
- No proxy settings from the environment (a proxy would do the look-up we check).

The caller gets the file on disk with the content type and name the server gave;
:class:`FetchRefused` carries a one-line reason otherwise.
"""

from __future__ import annotations

import asyncio
import email.message
import ipaddress
import socket
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

MAX_REDIRECTS = 5
FETCH_TIMEOUT = 30.0  # seconds for the whole fetch
USER_AGENT = "article-quote-bot (+https://core.telegram.org/bots)"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchRefused(Exception):
    """The URL was not fetched; ``str(exc)`` is the one-line reason."""


@dataclass(frozen=True)
class Fetched:
    path: Path  # the body, on disk
    url: str  # where it came from, after redirects
    content_type: str  # lower case, without parameters ("" when the server sent none)
    filename: str | None  # from Content-Disposition, if the server named the file


def address_problem(ip: IPAddress) -> str | None:
    """Why ``ip`` may not be fetched from (None: a public address)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return address_problem(ip.ipv4_mapped)
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global or ip.is_reserved:
        return "not a public address"
    return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` stands for (itself when it is an address)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchRefused(f"{host} could not be found ({exc.strerror or exc}).") from None
    found: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    if not found:
        raise FetchRefused(f"{host} could not be found.")
    return found


def check_url(url: str) -> httpx.URL:
    """``url`` parsed, when it is an http(s) URL with a host and no credentials."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise FetchRefused(f"{url} is not a URL I can read.") from None
    if parsed.scheme not in ("http", "https"):
        raise FetchRefused(f"I fetch only http:// and https:// addresses, not {url}.")
    if not parsed.host:
        raise FetchRefused(f"{url} names no host.")
    if parsed.userinfo:
        raise FetchRefused("I don't fetch URLs with a user name or password in them.")
    return parsed


def _content_type(headers: httpx.Headers) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _filename(headers: httpx.Headers) -> str | None:
    raw = headers.get("content-disposition")
    if not raw:
        return None
    msg = email.message.Message()
    msg["content-disposition"] = raw
    name = msg.get_filename()
    return name or None


async def fetch(
    url: str,
    dest: Path,
    max_bytes: int,
    timeout: float = FETCH_TIMEOUT,
    address_ok: Callable[[IPAddress], str | None] = address_problem,
) -> Fetched:
    """Fetch ``url`` into the file ``dest`` (see the module docstring for the rules).
    ``address_ok`` says why an address may not be fetched from (tests of this module pass one
    that lets them serve from 127.0.0.1)."""
    try:
        async with asyncio.timeout(timeout):
            return await _fetch(url, dest, max_bytes, address_ok)
    except BaseException as exc:
        dest.unlink(missing_ok=True)  # no partial file left behind
        if isinstance(exc, TimeoutError):
            raise FetchRefused(f"the server took longer than {timeout:g} s.") from None
        if isinstance(exc, httpx.HTTPError):
            raise FetchRefused(f"the download failed ({_short(exc)}).") from None
        raise


def _short(exc: Exception) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0][:200]


async def _fetch(
    url: str, dest: Path, max_bytes: int, address_ok: Callable[[IPAddress], str | None]
) -> Fetched:
    current = check_url(url)
    limits = httpx.Timeout(10.0)
    async with httpx.AsyncClient(
        timeout=limits, follow_redirects=False, trust_env=False, verify=True
    ) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            host = current.host
            port = current.port or (443 if current.scheme == "https" else 80)
            addresses = await resolve(host, port)
            for ip in addresses:
                problem = address_ok(ip)
                if problem is not None:
                    shown = host if host == str(ip) else f"{host} ({ip})"
                    if _hop:
                        shown = f"it redirects to {shown}, which"
                    raise FetchRefused(f"{shown} is {problem}; I fetch only from public ones.")
            pinned = current.copy_with(host=str(addresses[0]))
            headers = {
                "Host": current.netloc.decode("ascii"),
                "User-Agent": USER_AGENT,
                "Accept": "*/*",
            }
            extensions = {"sni_hostname": host} if current.scheme == "https" else {}
            request = client.build_request("GET", pinned, headers=headers, extensions=extensions)
            response = await client.send(request, stream=True)
            try:
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    current = check_url(urllib.parse.urljoin(str(current), location))
                    continue
                if response.status_code != 200:
                    raise FetchRefused(
                        f"the server answered {response.status_code} "
                        f"{response.reason_phrase}.".replace(" .", ".")
                    )
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise FetchRefused(_too_big(int(declared), max_bytes))
                got = 0
                with dest.open("wb") as out:
                    async for block in response.aiter_bytes():
                        got += len(block)
                        if got > max_bytes:
                            raise FetchRefused(_too_big(None, max_bytes))
                        out.write(block)
                return Fetched(
                    dest, str(current), _content_type(response.headers), _filename(response.headers)
                )
            finally:
                await response.aclose()
    raise FetchRefused(f"more than {MAX_REDIRECTS} redirects.")


def _too_big(size: int | None, limit: int) -> str:
    mb = 1024 * 1024
    what = f"{size / mb:.1f} MB" if size is not None else "more than that"
    return f"the file is larger than the limit of {limit / mb:.1f} MB ({what})."
