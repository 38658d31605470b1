"""Hard-wrapping article files as ``fold -s -w WIDTH`` does (GNU coreutils), for the
ingestion tests: lines broken after the last blank that fits, the blank kept at the end of
the line, widths counted in bytes (a curly quote counts 3)."""

from __future__ import annotations

from pathlib import Path


def fold_s(text: str, width: int) -> str:
    """``text`` as ``fold -s -w width`` prints it (tabs and backspaces aside)."""
    out: list[bytes] = []
    for line in text.encode("utf-8").split(b"\n"):
        buf = bytearray()
        for byte in line:
            while len(buf) + 1 > width and buf:
                blank = max(buf.rfind(b" "), buf.rfind(b"\t"))
                cut = blank + 1 if blank >= 0 else len(buf)
                out.append(bytes(buf[:cut]))
                del buf[:cut]
            buf.append(byte)
        out.append(bytes(buf))
    return b"\n".join(out).decode("utf-8")


def fold_folder(src: Path, dst: Path, width: int) -> Path:
    """Every ``.txt`` file of ``src`` folded at ``width`` into ``dst`` (created)."""
    dst.mkdir(parents=True)
    for path in sorted(src.glob("*.txt")):
        (dst / path.name).write_text(fold_s(path.read_text("utf-8"), width), "utf-8")
    return dst
