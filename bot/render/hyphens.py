"""Soft hyphens (U+00AD) at syllable joints of long words, for the Mini App's narrow poster.

Chromium on Linux ships no hyphenation dictionaries, so CSS `hyphens: auto` does nothing there
and a long title would be cut anywhere. A small syllable rule instead, good for German and
English words of the model: a break goes before a single consonant between vowels
(`Da-ten`), before the last consonant of a longer run (`Kun-den`, `schöp-fung`) unless the
run ends in a cluster that starts syllables (`Kom-ple-xi-tät`, `Wert-schöp-fungs-ket-te`);
vowel groups are never split (`Tech-no-lo-gien`), `ch`, `ck`, `sch`, `ph`, `th`, `sh`, `qu`
never either. The joints of a few compounds the rule cannot see are named (`Mit|arbeiter`).
A browser shows a soft hyphen only where it breaks the line there, as a visible hyphen.
"""

from __future__ import annotations

import re

SOFT_HYPHEN = "\u00ad"
SHORTEST = 7  # shorter words are never broken
LEFT = 2  # letters kept before a break
RIGHT = 3  # and after it

_VOWELS = set("aeiouyäöüéèàâêôû")
# consonant letters that are one sound: never split, broken before as a whole
_UNITS = ("sch", "ch", "ck", "ph", "th", "sh", "qu")
# clusters that begin a syllable: a run of consonants ending in one is broken before it
_ONSETS = {
    "bl", "br", "cl", "cr", "dr", "fl", "fr", "gl", "gr", "kl", "kr", "pl", "pr", "tr",
    "schl", "schr", "schw", "str", "spr", "spl", "thr", "chr", "phr", "shr",
}  # fmt: skip
# compounds of the model whose joint the syllable rule cannot see (lower case, `|` = joint)
_COMPOUNDS = {
    "datenerfassung": "daten|erfassung",
    "datenaustausch": "daten|austausch",
    "grundinformationen": "grund|informationen",
    "mitarbeiter": "mit|arbeiter",
    "kooperationen": "ko|operationen",
    "learning": "learn|ing",
    "management": "man|age|ment",
}
_WORD = re.compile(r"[^\W\d_]+")


def _units(word: str) -> list[str]:
    """The word in letters, with the letters that are one sound kept as one unit."""
    units: list[str] = []
    index = 0
    while index < len(word):
        for unit in _UNITS:
            if word.startswith(unit, index):
                units.append(unit)
                index += len(unit)
                break
        else:
            units.append(word[index])
            index += 1
    return units


def _is_vowel(unit: str) -> bool:
    return unit in _VOWELS


def _syllable_breaks(word: str) -> list[int]:
    """Offsets in `word` (lower case) before which a syllable begins."""
    units = _units(word)
    starts = []  # offset of each unit
    offset = 0
    for unit in units:
        starts.append(offset)
        offset += len(unit)
    breaks: list[int] = []
    index = 0
    # skip to the first vowel group's end
    while index < len(units) and not _is_vowel(units[index]):
        index += 1
    while index < len(units):
        while index < len(units) and _is_vowel(units[index]):
            index += 1
        run_start = index
        while index < len(units) and not _is_vowel(units[index]):
            index += 1
        if index >= len(units):
            break  # the word ends in consonants: no syllable follows
        run = units[run_start:index]
        if not run:
            continue
        cut = len(run) - 1  # before the last consonant
        for size in range(len(run), 1, -1):  # unless the run ends in a syllable's onset
            if "".join(run[-size:]) in _ONSETS:
                cut = len(run) - size
                break
        breaks.append(starts[run_start + cut])
    return breaks


def _hyphenate_word(word: str) -> str:
    if len(word) < SHORTEST:
        return word
    lower = word.lower()
    parts = _COMPOUNDS.get(lower, lower).split("|")
    offsets: list[int] = []
    position = 0
    for number, part in enumerate(parts):
        if number:
            offsets.append(position)
        offsets += [position + b for b in _syllable_breaks(part) if LEFT <= b <= len(part) - RIGHT]
        position += len(part)
    pieces = []
    last = 0
    for offset in offsets:
        pieces.append(word[last:offset])
        last = offset
    pieces.append(word[last:])
    return SOFT_HYPHEN.join(pieces)


def hyphenate(text: str) -> str:
    """The text with soft hyphens at the syllable joints of its long words."""
    return _WORD.sub(lambda match: _hyphenate_word(match.group()), text)
