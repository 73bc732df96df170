"""Paths as they are shown: in messages, tables and every file the tool writes.

Takes a path as Python holds it; gives text that any UTF-8 stream or file can take. A file name
that is not valid UTF-8 reaches Python with its odd bytes as lone surrogates ("surrogateescape"),
which no UTF-8 writer accepts: each such byte is shown as `\\xff` instead. Imports nothing of the
project.
"""

from __future__ import annotations


def display(path: object) -> str:
    """`path` as printable text: the bytes of a name that is not UTF-8 as `\\xNN` escapes."""
    text = str(path)
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that stands for no byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
