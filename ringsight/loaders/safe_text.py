"""Quoting text from an input file in a message, safely.

Headers and cells come from files nobody vetted: a header may hold terminal
escape sequences, Rich markup, megabytes of one line or binary garbage. A
message quotes at most a short excerpt, with control characters escaped, so
nothing from a file reaches the terminal raw.
"""

from __future__ import annotations

import re

from rich.markup import escape

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffd]")


def plain(text: object, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters, control and bidi characters as \\x.. / \\u.... escapes."""
    raw = str(text)
    shown = _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), raw[:limit])
    return escape(shown) + (f"… ({len(raw):,} characters)" if len(raw) > limit else "")


def excerpt(text: object, limit: int = 40) -> str:
    """:func:`plain` in quotes, for a message."""
    return f"'{plain(text, limit)}'"


def _bad(text: str) -> int:
    return sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\r\n"))


def looks_binary(text: str) -> bool:
    """True when the start of a file holds many NUL, control or replacement characters — unless its first line
    is a clean delimited header: then the control characters below it are bad rows, each rejected with its
    reason, not a binary file."""
    header = text.split("\n", 1)[0]
    clean_header = _bad(header) == 0 and max(header.count(sep) for sep in ",\t|;") >= 2
    if clean_header:
        return False
    return _bad(text) > max(2, len(text) // 20)
