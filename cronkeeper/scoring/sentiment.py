"""A small lexicon sentiment scorer for what answer engines write about products.

Method (after VADER, Hutto & Gilbert 2014, with our own lexicon):

1. Words are lower-cased tokens (``top-rated``, ``isn't`` stay one token).
2. Each word in ``LEXICON`` has a valence from -3 (worst) to +3 (best). The
   lexicon is written for recommendation text about products and services
   ("reliable", "intuitive", "overpriced", "buggy", "complaints") and
   deliberately leaves out words whose sense flips with context ("cheap",
   "free", "like", "support").
3. An intensifier among the three words before a valenced word moves it away
   from zero by ``BOOST`` ("very reliable"); a dampener moves it towards zero
   ("somewhat limited"). Nearer modifiers count fully, farther ones less.
4. A negator among the three words before it ("not", "never", "no",
   "without", "n't" forms) multiplies it by ``NEGATION`` (-0.74): "not
   recommended" is negative, "no complaints" is positive, and "not great" is
   milder than "bad". "not only" is not a negation.
5. "but", "however" and "yet" mark a contrast: valences before the first one
   weigh 0.5, after it 1.5 ("good, but overpriced" leans negative). "but also"
   is not a contrast.
6. The sum ``s`` is squashed into [-1, 1] with ``s / sqrt(s*s + ALPHA)``.

``sentiment`` scores one passage; the caller decides which passages speak
about the brand (see ``cronkeeper.scoring.mentions``). The method knows no
sarcasm, no comparison ("cheaper than X"), and no word outside its lexicon.
"""

from __future__ import annotations

import math
import re

NEGATION = -0.74
BOOST = 0.293
ALPHA = 15.0
WINDOW = 3
_DISTANCE_WEIGHTS = (1.0, 0.95, 0.9)

_POSITIVE = {
    3.0: "best excellent outstanding exceptional superb",
    2.7: "perfect amazing fantastic top-notch",
    2.5: "great love loved loves beloved",
    2.3: "impressive acclaimed award-winning excels excel",
    2.0: "reliable comfortable ideal favorite favourite praised renowned trusted reputable "
         "standout well-regarded top-rated happy recommend recommended recommends best-selling "
         "bestselling bestseller bestsellers",
    1.8: "good nice intuitive user-friendly seamless powerful robust helpful innovative "
         "satisfied enjoy go-to",
    1.5: "better solid strong popular affordable budget-friendly cost-effective versatile "
         "durable easy efficient effective responsive lightweight supportive leading "
         "market-leading",
    1.3: "flexible scalable comprehensive smooth secure fast quick",
    1.0: "top simple premium value worth stable improved well-known famous customizable "
         "benefit benefits advantage advantages cheaper decent",
}  # fmt: skip
_NEGATIVE = {
    3.0: "worst terrible awful horrible",
    2.5: "bad scandal",
    2.3: "poor defective breach",
    2.0: "worse poorly disappointing disappointed frustrating frustrated overpriced buggy "
         "unreliable uncomfortable broken fails failed failure lawsuit rude",
    1.8: "clunky outdated confusing annoying crash crashes criticized criticised criticism "
         "flimsy problematic outage outages unresponsive",
    1.5: "mediocre difficult sluggish glitch glitches glitchy unstable complaint complaints "
         "complain complained complaining weak weakness weaknesses fragile risky struggle "
         "struggles struggling inconsistent controversy controversial recall",
    1.3: "complicated slow bug bugs problem problems cluttered drawback drawbacks downside "
         "downsides lack lacks lacking declining dated",
    1.0: "expensive pricey steep limited limitation limitations issue issues missing stiff "
         "heavy concern concerns",
    0.8: "complex heavier narrow",
}  # fmt: skip
LEXICON: dict[str, float] = {
    **{word: v for v, words in _POSITIVE.items() for word in words.split()},
    **{word: -v for v, words in _NEGATIVE.items() for word in words.split()},
}

_INTENSIFIERS = "very extremely really highly incredibly exceptionally particularly especially " \
    "remarkably truly super so too most quite notably consistently"
_DAMPENERS = "somewhat slightly fairly relatively rather mildly marginally bit"
_NEGATORS = "not no never none nobody nothing neither nor without cannot hardly barely"

BOOSTERS: dict[str, float] = {
    **dict.fromkeys(_INTENSIFIERS.split(), BOOST),
    **dict.fromkeys(_DAMPENERS.split(), -BOOST),
}
NEGATORS = frozenset(_NEGATORS.split())
CONTRASTS = frozenset({"but", "however", "yet"})

_TOKEN = re.compile(r"[a-z0-9]+(?:[-'’][a-z0-9]+)*")


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; curly apostrophes become straight ones."""
    return [token.replace("’", "'") for token in _TOKEN.findall(text.lower())]


def _is_negator(token: str) -> bool:
    return token in NEGATORS or token.endswith("n't")


def _valence(tokens: list[str], i: int) -> float:
    value = LEXICON[tokens[i]]
    before = tokens[max(0, i - WINDOW) : i][::-1]  # nearest first
    for distance, word in enumerate(before):
        boost = BOOSTERS.get(word)
        if boost is not None:
            value += boost * _DISTANCE_WEIGHTS[distance] * (1.0 if value > 0 else -1.0)
    for distance, word in enumerate(before):
        following = before[distance - 1] if distance else tokens[i]
        if _is_negator(word) and not (word == "not" and following == "only"):
            value *= NEGATION
            break
    return value


def sentiment(text: str) -> float:
    """The sentiment of ``text`` in [-1, 1]; 0.0 when no lexicon word occurs."""
    return score_passage(text)[0]


def score_passage(text: str) -> tuple[float, int]:
    """``(sentiment in [-1, 1], number of lexicon words found)`` for ``text``."""
    tokens = tokenize(text)
    contrast = next(
        (i for i, t in enumerate(tokens) if t in CONTRASTS and tokens[i + 1 : i + 2] != ["also"]),
        None,
    )
    total, found = 0.0, 0
    for i, token in enumerate(tokens):
        if token not in LEXICON:
            continue
        value = _valence(tokens, i)
        if contrast is not None:
            value *= 0.5 if i < contrast else 1.5
        total += value
        found += 1
    return (total / math.sqrt(total * total + ALPHA) if total else 0.0), found
