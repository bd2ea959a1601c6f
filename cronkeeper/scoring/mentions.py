"""Finding brand and competitor mentions in an answer, and the passages about the brand.

A name matches case-insensitively where it is not part of a longer word:
``Ford`` matches "Ford's" and "Ford-built" but not "Oxford" or "Fordham";
spaces inside a name match any run of whitespace. Plurals are not matched
("Nikes"). Where two names overlap ("Brooks" and "Brooks Running"), the
longest match wins.

An answer is cut into units: sentences, and lines (list items, headings).
A unit that names no brand or competitor speaks about the one named in the
unit before it, in the same paragraph ("Nike Pegasus is ... It is also
durable."); a heading that names one (``### Nike``, ``**Nike Pegasus**``, a
line ending in ``:``) also lends it to the paragraph right after it. Inside
a unit that names the brand and a competitor, only the clauses about the
brand count (clauses split at , ; : and at "but", "while", "whereas", ...).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

BRAND = "\x00brand"  # the brand's key among entities; no competitor can be called this

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_CLAUSE_BREAK = re.compile(r"[;,:\u2013\u2014]\s*|\s(?=(?:but|while|whereas|however|although|though)\b)", re.I)
_HEADING = re.compile(r"^\s*(?:#{1,6}\s|(?:[-*+]|\d+[.)])?\s*\*\*[^*]+\*\*\s*:?\s*$)|:\s*$")


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    entity: str  # BRAND or a competitor's name as given


@functools.lru_cache(maxsize=1024)
def _name_pattern(name: str) -> re.Pattern[str]:
    words = (re.escape(word) for word in name.split())
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def find_mentions(text: str, entities: dict[str, Sequence[str]]) -> list[Mention]:
    """Non-overlapping mentions of each entity's names, in text order (longest match wins)."""
    candidates = []
    for entity, names in entities.items():
        for name in names:
            if name.strip():
                candidates.extend((m.start(), m.start() - m.end(), m.end(), entity)
                                  for m in _name_pattern(name.strip()).finditer(text))  # fmt: skip
    mentions: list[Mention] = []
    for start, _, end, entity in sorted(candidates):
        if not mentions or start >= mentions[-1].end:
            mentions.append(Mention(start, end, entity))
    return mentions


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    paragraph: int
    heading: bool


def _units(text: str) -> list[_Unit]:
    units: list[_Unit] = []
    paragraph, blank, line_start = 0, False, 0
    for line in text.split("\n"):
        begin, line_start = line_start, line_start + len(line) + 1
        if not line.strip():
            blank = True
            continue
        if blank and units:
            paragraph += 1
        blank = False
        heading = bool(_HEADING.search(line))
        start = begin
        for cut in _SENTENCE_END.finditer(line):
            units.append(_Unit(start, begin + cut.start(), paragraph, heading))
            start = begin + cut.end()
        units.append(_Unit(start, begin + len(line), paragraph, heading))
    return units


def _spans_about_brand(spans: list[tuple[int, int, int, bool]], mentions: list[Mention]) -> list[tuple[int, int]]:
    """The spans ``(start, end, paragraph, heading)`` that name the brand or inherit it."""
    chosen: list[tuple[int, int]] = []
    carried: set[str] = set()
    carried_paragraph, carried_heading = -1, False
    for start, end, paragraph, heading in spans:
        named = {m.entity for m in mentions if start <= m.start < end}
        if named:
            carried, carried_paragraph, carried_heading = named, paragraph, heading
        elif not (paragraph == carried_paragraph or (carried_heading and paragraph == carried_paragraph + 1)):
            carried = set()
        if BRAND in (named or carried):
            chosen.append((start, end))
    return chosen


def brand_passages(text: str, mentions: list[Mention]) -> list[str]:
    """The passages of ``text`` about the brand, with every name blanked out.

    Names are blanked so that a name's own words ("Best Buy", "Good Eggs")
    do not count as opinions.
    """
    units = [(u.start, u.end, u.paragraph, u.heading) for u in _units(text)]
    passages = []
    for start, end in _spans_about_brand(units, mentions):
        inside = [m for m in mentions if start <= m.start < end]
        if any(m.entity != BRAND for m in inside):
            for c_start, c_end in _spans_about_brand(_clauses(text, start, end), inside):
                passages.append(_blank(text, c_start, c_end, inside))
        else:
            passages.append(_blank(text, start, end, inside))
    return passages


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int, int, bool]]:
    clauses, at = [], start
    for cut in _CLAUSE_BREAK.finditer(text, start, end):
        clauses.append((at, cut.start(), 0, False))
        at = cut.end()
    clauses.append((at, end, 0, False))
    return clauses


def _blank(text: str, start: int, end: int, mentions: list[Mention]) -> str:
    chars = list(text[start:end])
    for m in mentions:
        for i in range(max(m.start, start), min(m.end, end)):
            chars[i - start] = " "
    return "".join(chars)
