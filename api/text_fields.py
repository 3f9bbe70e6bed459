"""``Text``: a string a request may carry, refused (naming its field) if it holds what no
database column stores: a NUL character, or a lone surrogate (from a ``\\ud800`` escape).

Every input model's strings are ``Text``, so one bad value is a 422 naming the field
(``invalid_text``) on every route, before anything reaches the ledger's group commit.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError


def plain_text(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("invalid_text", "a NUL character is not allowed")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise PydanticCustomError(
                "invalid_text", "not valid Unicode text (a lone surrogate escape)"
            ) from None
    return value


Text = Annotated[str, AfterValidator(plain_text)]
