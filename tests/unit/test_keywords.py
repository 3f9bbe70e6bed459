"""Keyword matching: what an inbound message means (DESIGN.md §2, FCC 24-24)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.keywords import (
    DEFAULT_HELP,
    DEFAULT_OPT_IN,
    DEFAULT_OPT_OUT,
    Intent,
    KeywordRules,
    MatchKind,
    normalise,
)

RULES = KeywordRules()
# Words that are no keyword of any list, to pad messages with.
FILLER = ["please", "thanks", "now", "me", "the", "messages", "ok", "hi", "dear", "team"]
DECORATION = st.sampled_from(["", " ", "!", "!!", ".", "  ", "🙏", "🛑", "\t", "?", "…"])


def vary_case_and_accents(word: str, data: st.DataObject) -> str:
    accented = {"e": "é", "a": "à", "o": "ô", "u": "ü", "i": "ï"}
    out = []
    for char in word:
        if data.draw(st.booleans()):
            char = char.swapcase()
        if char.lower() in accented and data.draw(st.booleans()):
            char = accented[char.lower()]
        out.append(char)
    return "".join(out)


@given(keyword=st.sampled_from(DEFAULT_OPT_OUT), data=st.data())
def test_a_whole_message_opt_out_keyword_is_a_certain_opt_out_however_written(
    keyword: str, data: st.DataObject
) -> None:
    text = data.draw(DECORATION) + vary_case_and_accents(keyword, data) + data.draw(DECORATION)
    match = RULES.classify(text, pending=data.draw(st.booleans()))
    assert match.intent is Intent.OPT_OUT
    assert match.match is MatchKind.EXACT
    assert match.purposes is None


@given(
    keyword=st.sampled_from([k for k in DEFAULT_OPT_OUT if " " not in k]),
    before=st.lists(st.sampled_from(FILLER), max_size=3),
    after=st.lists(st.sampled_from(FILLER), max_size=2),
)
def test_a_short_message_using_an_opt_out_word_is_an_opt_out_phrase(
    keyword: str, before: list[str], after: list[str]
) -> None:
    words = [*before, keyword.lower(), *after]
    match = RULES.classify(" ".join(words), pending=False)
    assert match.intent is Intent.OPT_OUT
    expected = MatchKind.EXACT if len(words) == 1 else MatchKind.PHRASE
    assert match.match is expected


@given(filler=st.lists(st.sampled_from(FILLER), min_size=6, max_size=12))
def test_a_long_message_mentioning_stop_is_not_classified(filler: list[str]) -> None:
    text = " ".join(["stop", *filler])
    assert RULES.classify(text, pending=False).intent is Intent.NONE


@given(
    keyword=st.sampled_from(DEFAULT_OPT_IN),
    extra=st.lists(st.sampled_from([*FILLER, "don't", "never", "not"]), min_size=1, max_size=4),
    pending=st.booleans(),
)
def test_opt_in_never_matches_on_phrases(keyword: str, extra: list[str], pending: bool) -> None:
    text = " ".join([*extra, keyword])
    assert RULES.classify(text, pending=pending).intent not in (Intent.OPT_IN, Intent.ACCEPT)


@given(text=st.text(max_size=300), pending=st.booleans())
def test_any_text_is_classified_without_error(text: str, pending: bool) -> None:
    match = RULES.classify(text, pending=pending)
    assert match.intent in set(Intent)
    if match.intent is Intent.NONE:
        assert match.keyword is None


@pytest.mark.parametrize(
    ("text", "pending", "intent"),
    [
        ("YES", True, Intent.ACCEPT),
        ("yes!", True, Intent.ACCEPT),
        ("START", True, Intent.ACCEPT),
        ("NO", True, Intent.REJECT),
        ("Yes", False, Intent.OPT_IN),
        ("no", False, Intent.OPT_OUT),  # an answer with nothing pending is never dropped
        ("UNSTOP", False, Intent.OPT_IN),
        ("HELP", False, Intent.HELP),
        ("info", True, Intent.HELP),
        ("STOP", True, Intent.OPT_OUT),  # STOP wins over a pending request
        ("Arrêt", False, Intent.OPT_OUT),
        ("opt out", False, Intent.OPT_OUT),
        ("OPT-OUT", False, Intent.OPT_OUT),
        ("don't start", False, Intent.NONE),
        ("hello, what time do you open?", False, Intent.NONE),
        ("", False, Intent.NONE),
        ("🙂", False, Intent.NONE),
    ],
)
def test_default_rules(text: str, pending: bool, intent: Intent) -> None:
    assert RULES.classify(text, pending=pending).intent is intent


def test_stop_promotions_withdraws_marketing_only_even_inside_a_phrase() -> None:
    exact = RULES.classify("STOP PROMOTIONS", pending=False)
    phrase = RULES.classify("please stop promotions", pending=False)
    assert (exact.intent, exact.purposes, exact.match) == (
        Intent.OPT_OUT,
        ("marketing",),
        MatchKind.EXACT,
    )
    assert (phrase.intent, phrase.purposes, phrase.match) == (
        Intent.OPT_OUT,
        ("marketing",),
        MatchKind.PHRASE,
    )


def test_a_tenant_adds_a_phrase_removes_a_word_and_switches_phrase_matching_off() -> None:
    rules = KeywordRules(
        opt_out=(*[k for k in DEFAULT_OPT_OUT if k != "END"], "don't send me messages"),
        phrase_matching=False,
    )
    assert rules.classify("Don't send me messages!", pending=False).intent is Intent.OPT_OUT
    assert rules.classify("end", pending=False).intent is Intent.NONE
    assert rules.classify("stop please", pending=False).intent is Intent.NONE
    assert rules.classify("STOP", pending=False).intent is Intent.OPT_OUT


def test_rules_survive_a_round_trip_through_their_stored_form() -> None:
    rules = KeywordRules(help=(*DEFAULT_HELP, "AIDE"), max_phrase_words=4)
    assert KeywordRules.from_dict(rules.to_dict()) == rules


def test_normalisation_folds_case_accents_punctuation_and_emoji() -> None:
    assert normalise("  ¡ARRÊT!  🛑 ") == "arret"
    assert normalise("Opt-Out") == normalise("OPT OUT") == "opt out"
