"""Keyword rules: what an inbound message means for consent.

Messages are compared after normalisation: Unicode compatibility form, accents
removed, case folded, and every run of characters that is not a letter or digit
(whitespace, punctuation, emoji) turned into one space. ``Opt-Out!``, ``OPT OUT`` and
``opt out 🙏`` are the same message.

* A message that *is* a keyword (the whole message) is certain: ``match = "exact"``.
* FCC 24-24 treats a reply that *uses* an opt-out word as a revocation, so a short
  message (up to ``max_phrase_words`` words as written) containing an opt-out keyword
  as a whole word or word sequence is an opt-out too: ``match = "phrase"``. Tenants may
  switch it off.
* Opt-in and accept never match on phrases: "don't start" opts nobody in.
* While an opt-in request is pending, accept words (and opt-in words) accept it and
  reject words reject it. With no request pending, an accept word is an explicit
  opt-in and a reject word an explicit opt-out: an answer is never dropped.

Erring toward opt-out is deliberate: a missed STOP breaks the law, an extra one loses a
subscriber.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

DEFAULT_OPT_OUT = (
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
    "REVOKE", "OPTOUT", "OPT-OUT", "OPT OUT", "REMOVE", "ARRET",
)  # fmt: skip
DEFAULT_OPT_IN = ("START", "YES", "UNSTOP", "OPTIN", "JOIN", "SUBSCRIBE")
DEFAULT_HELP = ("HELP", "INFO")
DEFAULT_ACCEPT = ("YES",)
DEFAULT_REJECT = ("NO",)
DEFAULT_SCOPED_OPT_OUT: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"STOP PROMOTIONS": ("marketing",), "STOP MARKETING": ("marketing",)}
)
DEFAULT_MAX_PHRASE_WORDS = 6


class Intent(StrEnum):
    OPT_OUT = "opted_out"
    OPT_IN = "opted_in"
    ACCEPT = "accepted"
    REJECT = "rejected"
    HELP = "help"
    NONE = "none"


class MatchKind(StrEnum):
    EXACT = "exact"
    PHRASE = "phrase"
    BUTTON = "button"  # a button payload id the tenant mapped (ledger/tenants/buttons.py)


@dataclass(frozen=True)
class Match:
    intent: Intent
    keyword: str | None = None
    match: MatchKind | None = None
    purposes: tuple[str, ...] | None = None  # set for a scoped opt-out


NO_MATCH = Match(Intent.NONE)


def normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    out: list[str] = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category.startswith("M"):
            continue  # combining accent
        out.append(char.casefold() if category[0] in "LN" else " ")
    return " ".join("".join(out).split())


# The tenant's keywords, normalised once rather than for every message (a few dozen
# NFKD passes per message otherwise); bounded, since keyword lists are few and short.
_keyword_form = functools.lru_cache(maxsize=4096)(normalise)


def word_count(text: str) -> int:
    """Words as the person wrote them: "opt-out" is one word, an emoji alone is none."""
    return sum(1 for token in text.split() if any(char.isalnum() for char in token))


@dataclass(frozen=True)
class KeywordRules:
    opt_out: tuple[str, ...] = DEFAULT_OPT_OUT
    opt_in: tuple[str, ...] = DEFAULT_OPT_IN
    help: tuple[str, ...] = DEFAULT_HELP
    accept: tuple[str, ...] = DEFAULT_ACCEPT
    reject: tuple[str, ...] = DEFAULT_REJECT
    scoped_opt_out: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: DEFAULT_SCOPED_OPT_OUT
    )
    phrase_matching: bool = True
    max_phrase_words: int = DEFAULT_MAX_PHRASE_WORDS

    def classify(self, text: str, *, pending: bool) -> Match:
        message = normalise(text)
        if not message:
            return NO_MATCH
        exact = self._exact(message, pending=pending)
        if exact is not None:
            return exact
        if self.phrase_matching and word_count(text) <= self.max_phrase_words:
            return self._phrase(message)
        return NO_MATCH

    def _exact(self, message: str, *, pending: bool) -> Match | None:
        for keyword, purposes in self.scoped_opt_out.items():
            if _keyword_form(keyword) == message:
                return Match(Intent.OPT_OUT, keyword, MatchKind.EXACT, tuple(purposes))
        ordered: list[tuple[Intent, Iterable[str]]] = [(Intent.OPT_OUT, self.opt_out)]
        if pending:
            ordered += [(Intent.ACCEPT, (*self.accept, *self.opt_in)), (Intent.REJECT, self.reject)]
        else:
            ordered += [
                (Intent.OPT_IN, (*self.opt_in, *self.accept)),
                (Intent.OPT_OUT, self.reject),
            ]
        ordered.append((Intent.HELP, self.help))
        for intent, keywords in ordered:
            for keyword in keywords:
                if _keyword_form(keyword) == message:
                    return Match(intent, keyword, MatchKind.EXACT)
        return None

    def _phrase(self, message: str) -> Match:
        padded = f" {message} "
        best: Match = NO_MATCH
        best_len = 0
        candidates: list[tuple[str, tuple[str, ...] | None]] = [
            (k, tuple(p)) for k, p in self.scoped_opt_out.items()
        ] + [(k, None) for k in self.opt_out]
        for keyword, purposes in candidates:
            words = _keyword_form(keyword)
            if words and f" {words} " in padded and len(words) > best_len:
                best = Match(Intent.OPT_OUT, keyword, MatchKind.PHRASE, purposes)
                best_len = len(words)
        return best

    def to_dict(self) -> dict[str, Any]:
        return {
            "opt_out": list(self.opt_out),
            "opt_in": list(self.opt_in),
            "help": list(self.help),
            "accept": list(self.accept),
            "reject": list(self.reject),
            "scoped_opt_out": {k: list(v) for k, v in self.scoped_opt_out.items()},
            "phrase_matching": self.phrase_matching,
            "max_phrase_words": self.max_phrase_words,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KeywordRules:
        default = cls()
        scoped = data.get("scoped_opt_out")
        return cls(
            opt_out=tuple(data.get("opt_out", default.opt_out)),
            opt_in=tuple(data.get("opt_in", default.opt_in)),
            help=tuple(data.get("help", default.help)),
            accept=tuple(data.get("accept", default.accept)),
            reject=tuple(data.get("reject", default.reject)),
            scoped_opt_out=(
                MappingProxyType({k: tuple(v) for k, v in scoped.items()})
                if scoped is not None
                else default.scoped_opt_out
            ),
            phrase_matching=bool(data.get("phrase_matching", default.phrase_matching)),
            max_phrase_words=int(data.get("max_phrase_words", default.max_phrase_words)),
        )
