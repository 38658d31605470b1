"""bot/fetch.py against a real local HTTP server: what it fetches, and every way it refuses."""

from __future__ import annotations

import asyncio
import http.server
import ipaddress
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.fetch import FetchRefused, address_problem, fetch

PDF = (Path(__file__).parent / "data" / "uploads" / "kestrel-point-tidal-plant.pdf").read_bytes()
LOCAL = ipaddress.ip_address("127.0.0.1")


def only_127_0_0_1(ip):
    """These tests' server is on 127.0.0.1: that one address is let through, no other."""
    return None if ip == LOCAL else address_problem(ip)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    requests: list[str]

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up early (a refused fetch) is what these tests make


class Handler(http.server.BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        port = self.server.server_address[1]
        if self.path == "/doc.pdf":
            self.answer(200, PDF, "application/pdf")
        elif self.path == "/named":
            self.answer(
                200, PDF, "application/pdf", {"Content-Disposition": 'inline; filename="r.pdf"'}
            )
        elif self.path == "/login.pdf":
            self.answer(200, b"<html><title>Sign in</title></html>", "text/html; charset=utf-8")
        elif self.path == "/big":
            self.answer(200, bytes(2 << 20), "application/pdf")
        elif (
            self.path == "/big-unannounced"
        ):  # no Content-Length: the body ends with the connection
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Connection", "close")
            self.end_headers()
            for _ in range(64):
                self.wfile.write(bytes(64 << 10))
        elif self.path == "/slow":
            time.sleep(2)
            self.answer(200, PDF, "application/pdf")
        elif self.path == "/to-loopback":
            self.answer(302, b"", "text/plain", {"Location": f"http://127.0.0.2:{port}/doc.pdf"})
        elif self.path == "/to-doc":
            self.answer(301, b"", "text/plain", {"Location": "/doc.pdf"})
        elif self.path == "/loop":
            self.answer(302, b"", "text/plain", {"Location": "/loop"})
        else:
            self.answer(404, b"no such page", "text/plain")

    def answer(self, status: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server(("127.0.0.1", 0), Handler)
    srv.requests = []
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def url(srv: Server, path: str) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}{path}"


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("192.168.0.10", "a private address"),
        ("fd00::1", "a private address"),
        ("169.254.169.254", "a link-local address"),  # cloud metadata services
        ("fe80::1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),
        ("100.64.0.1", "not a public address"),  # carrier-grade NAT
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
    ],
)
def test_only_public_addresses_are_fetched_from(address, problem):
    assert address_problem(ipaddress.ip_address(address)) == problem


def test_a_loopback_url_is_refused_before_anything_is_sent(server, tmp_path):
    for target in (url(server, "/doc.pdf"), f"http://localhost:{server.server_address[1]}/x"):
        with pytest.raises(FetchRefused, match="is a loopback address; I fetch only from public"):
            run(fetch(target, tmp_path / "f", 1 << 20))
    assert server.requests == []
    assert list(tmp_path.iterdir()) == []


def test_a_document_is_fetched_with_its_type_and_name(server, tmp_path):
    got = run(fetch(url(server, "/doc.pdf"), tmp_path / "f", 1 << 20, address_ok=only_127_0_0_1))
    assert got.path.read_bytes() == PDF and got.content_type == "application/pdf"
    assert got.filename is None and got.url.endswith("/doc.pdf")
    named = run(fetch(url(server, "/named"), tmp_path / "g", 1 << 20, address_ok=only_127_0_0_1))
    assert named.filename == "r.pdf"


def test_redirects_are_followed_and_checked_at_every_hop(server, tmp_path):
    got = run(fetch(url(server, "/to-doc"), tmp_path / "f", 1 << 20, address_ok=only_127_0_0_1))
    assert got.url.endswith("/doc.pdf") and got.path.read_bytes() == PDF
    with pytest.raises(FetchRefused, match="redirects to 127.0.0.2, which is a loopback address"):
        run(fetch(url(server, "/to-loopback"), tmp_path / "h", 1 << 20, address_ok=only_127_0_0_1))
    with pytest.raises(FetchRefused, match="more than 5 redirects"):
        run(fetch(url(server, "/loop"), tmp_path / "h", 1 << 20, address_ok=only_127_0_0_1))
    assert "/doc.pdf" not in server.requests[2:]  # nothing was fetched from 127.0.0.2


@pytest.mark.parametrize("path", ["/big", "/big-unannounced"])
def test_a_body_over_the_cap_is_cut_off_and_nothing_kept(server, tmp_path, path):
    with pytest.raises(FetchRefused, match="larger than the limit of 1.0 MB"):
        run(fetch(url(server, path), tmp_path / "f", 1 << 20, address_ok=only_127_0_0_1))
    assert list(tmp_path.iterdir()) == []


def test_a_slow_server_meets_the_timeout(server, tmp_path):
    with pytest.raises(FetchRefused, match="took longer than 0.5 s"):
        run(fetch(url(server, "/slow"), tmp_path / "f", 1 << 20, 0.5, address_ok=only_127_0_0_1))


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("ftp://example.com/a.pdf", "only http:// and https://"),
        ("file:///etc/passwd", "only http:// and https://"),
        ("https://user:secret@example.com/a.pdf", "user name or password"),
        ("not a url", "only http:// and https://"),
    ],
)
def test_urls_that_are_not_plain_web_addresses_are_refused(tmp_path, target, reason):
    with pytest.raises(FetchRefused, match=reason):
        run(fetch(target, tmp_path / "f", 1 << 20))


def test_an_error_page_is_a_reason(server, tmp_path):
    with pytest.raises(FetchRefused, match="the server answered 404 Not Found"):
        run(fetch(url(server, "/gone"), tmp_path / "f", 1 << 20, address_ok=only_127_0_0_1))
    page = run(fetch(url(server, "/login.pdf"), tmp_path / "f", 1 << 20, address_ok=only_127_0_0_1))
    assert page.content_type == "text/html"  # the caller compares it with the suffix
