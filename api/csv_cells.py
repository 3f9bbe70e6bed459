"""CSV cells a spreadsheet would run as a formula, neutralised (OWASP "CSV injection").

A cell is prefixed with ``'`` when it starts with ``=``, ``+``, ``-``, ``@``, TAB, CR or
LF, or when its first character after leading blanks is one of ``= + - @`` (a TAB then
``=`` ran as a formula). Numbers stay as they are, so an E.164 address such as
``+14155550100`` or a ``-3`` is not touched.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def neutralise(text: str) -> str:
    if not text or NUMBER.match(text):
        return text
    if text.startswith(FORMULA_STARTS) or text.lstrip(" \t\r\n").startswith(FORMULA_STARTS[:4]):
        return "'" + text
    return text
