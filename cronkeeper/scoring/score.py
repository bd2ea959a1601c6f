"""How a brand shows in one answer (``score_answer``) and across many (``summarize``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from statistics import fmean
from typing import Any

from cronkeeper.scoring.mentions import BRAND, brand_passages, find_mentions
from cronkeeper.scoring.sentiment import score_passage


@dataclass(frozen=True)
class AnswerScore:
    """The brand in one answer.

    ``position`` is the brand's 1-based rank among the brand and the
    competitors, ordered by first mention (None when not mentioned).
    ``sentiment`` is in [-1, 1]: the mean over the passages about the brand
    that express an opinion, 0.0 when none does, None when not mentioned.
    ``share_of_voice`` is brand mentions / (brand + competitor mentions),
    None when nobody is mentioned.
    """

    mentioned: bool
    mention_count: int
    position: int | None
    competitors_mentioned: list[str] = field(default_factory=list)
    sentiment: float | None = None
    share_of_voice: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_answer(
    text: str, brand: str, aliases: Sequence[str] = (), competitors: Sequence[str] = ()
) -> AnswerScore:
    """Score ``text`` for ``brand`` (or any of its ``aliases``) against ``competitors``.

    Matching is case-insensitive on whole words (see ``scoring.mentions``). A
    competitor whose name equals the brand's or an alias (ignoring case) is
    ignored; ``competitors_mentioned`` uses the names as given, in order of
    first mention. Sentiment uses ``scoring.sentiment``.
    """
    brand_names = [name for name in [brand, *aliases] if name and name.strip()]
    taken = {name.strip().casefold() for name in brand_names}
    entities: dict[str, list[str]] = {BRAND: brand_names}
    for name in competitors:
        if name and name.strip() and name.strip().casefold() not in taken:
            taken.add(name.strip().casefold())
            entities[name] = [name]
    mentions = find_mentions(text, entities)
    order = list(dict.fromkeys(m.entity for m in mentions))
    mention_count = sum(1 for m in mentions if m.entity == BRAND)
    share = mention_count / len(mentions) if mentions else None
    competitors_mentioned = [entity for entity in order if entity != BRAND]
    if not mention_count:
        return AnswerScore(False, 0, None, competitors_mentioned, None, share)
    opinions = [score for score, words in map(score_passage, brand_passages(text, mentions)) if words]
    sentiment = round(fmean(opinions), 4) if opinions else 0.0
    return AnswerScore(
        True, mention_count, order.index(BRAND) + 1, competitors_mentioned, sentiment, share
    )


def summarize(scores: Iterable[AnswerScore]) -> dict[str, Any]:
    """Run-level metrics over ``scores``.

    ``answers_scored``: how many; ``mention_rate``: share of answers that
    mention the brand; ``mean_position`` and ``mean_sentiment``: means over the
    answers that mention it; ``share_of_voice``: mean over the answers that
    mention anyone. A mean over nothing is None.
    """
    scores = list(scores)
    positions = [s.position for s in scores if s.position is not None]
    sentiments = [s.sentiment for s in scores if s.sentiment is not None]
    shares = [s.share_of_voice for s in scores if s.share_of_voice is not None]
    return {
        "answers_scored": len(scores),
        "mention_rate": _mean([1.0 if s.mentioned else 0.0 for s in scores]),
        "mean_position": _mean(positions),
        "mean_sentiment": _mean(sentiments),
        "share_of_voice": _mean(shares),
    }


def _mean(values: Sequence[float]) -> float | None:
    return round(fmean(values), 4) if values else None
