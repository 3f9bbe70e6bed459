"""CSV exports neutralise every cell a spreadsheet would run as a formula."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest

from api.streaming import CSV, stream_rows


def exported(value: str) -> str:
    response = stream_rows([{"cell": value}], ["cell"], CSV, {})

    async def body() -> str:
        parts = [
            chunk if isinstance(chunk, str) else bytes(chunk).decode()
            async for chunk in response.body_iterator
        ]
        return "".join(parts)

    [row] = list(csv.DictReader(io.StringIO(asyncio.run(body()))))
    return row["cell"]


@pytest.mark.parametrize(
    "formula",
    ["=1+1", "+SUM(A1)", "-2+3", "@cmd", '\t=HYPERLINK("x")', "\r=1+1"],
)
def test_a_formula_is_neutralised(formula: str) -> None:
    assert exported(formula) == "'" + formula


@pytest.mark.parametrize("value", ["+14155550100", "-12", "3.5", "opted_out"])
def test_numbers_and_plain_text_stay_as_they_are(value: str) -> None:
    assert exported(value) == value
