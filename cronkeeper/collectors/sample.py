"""The ``sample`` collector: offline, made-up answers for demos and first runs.

It needs no network and no key. Each answer is built from the query and the
brand being collected for (its ``Subject``): a few sentences naming the brand
and its competitors in a varying order and tone, so scoring (mentions,
position, sentiment, share of voice) has something to tell apart. The same
query and brand always give the same answer: the choices are seeded by them.

It is never asked by a job that names no collectors (see ``usable_configs``):
a job must name ``"sample"`` in ``metadata.collectors`` to use it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
from dataclasses import dataclass

import httpx

from cronkeeper.collectors.base import Answer, CollectorError
from cronkeeper.collectors.config import CollectorConfig

SAMPLE_MODEL = "sample (offline, demo data)"
SAMPLE_SOURCE = "https://example.com/sample-answer"
# each answer takes this long (ms), as a real engine would, so a demo run's progress bar moves
DELAY_VAR = "CRONKEEPER_SAMPLE_DELAY_MS"
DEFAULT_DELAY_MS = 300.0


def sample_delay_seconds(env: dict[str, str] | None = None) -> float:
    raw = (os.environ if env is None else env).get(DELAY_VAR, "")
    try:
        return max(0.0, float(raw)) / 1000 if raw.strip() else DEFAULT_DELAY_MS / 1000
    except ValueError:
        return DEFAULT_DELAY_MS / 1000

# {name} is the product; the tone words are in the scoring lexicon (cronkeeper.scoring.sentiment).
_TONES = {
    "positive": (
        "{name} is excellent and very reliable; reviewers recommend it.",
        "{name} stands out: comfortable, durable and a great value.",
        "Many people love {name} for its intuitive, well-regarded design.",
    ),
    "neutral": (
        "{name} is another option to look at.",
        "{name} also sells in this category.",
        "{name} comes up in most lists as well.",
    ),
    "negative": (
        "{name} is overpriced, and buyers report frequent complaints.",
        "{name} feels outdated and somewhat unreliable.",
        "Some find {name} disappointing: slow and clunky.",
    ),
}
_OPENINGS = (
    "Here is a short overview for \u201c{query}\u201d.",
    "Answering \u201c{query}\u201d: a few names come up again and again.",
    "For \u201c{query}\u201d, opinions differ.",
)
_NEUTRAL_ONLY = "Several brands make products for \u201c{query}\u201d; compare reviews before you choose."


@dataclass(frozen=True)
class Subject:
    """The brand an answer talks about, and the competitors it may name too."""

    brand: str
    competitors: tuple[str, ...] = ()


def sample_text(query: str, subject: Subject | None) -> str:
    """A deterministic answer to ``query`` that names ``subject``'s brand and competitors.

    About four answers in five name the brand, at a varying rank among up to
    three competitors, each in a positive, neutral or negative sentence.
    """
    seed = hashlib.sha256(f"{subject.brand if subject else ''}\x00{query}".encode()).digest()
    rng = random.Random(int.from_bytes(seed[:8], "big"))
    if subject is None:
        return _NEUTRAL_ONLY.format(query=query)
    names = rng.sample(list(subject.competitors), k=min(len(subject.competitors), rng.randint(1, 3)))
    if rng.random() < 0.8:
        names.insert(rng.randint(0, len(names)), subject.brand)
    lines = [rng.choice(_OPENINGS).format(query=query)]
    for rank, name in enumerate(names, start=1):
        tone = rng.choices(("positive", "neutral", "negative"), weights=(5, 3, 2))[0]
        lines.append(f"{rank}. " + rng.choice(_TONES[tone]).format(name=name))
    if len(lines) == 1:
        lines.append(_NEUTRAL_ONLY.format(query=query))
    return "\n".join(lines)


class SampleCollector:
    """Answers from ``sample_text``: no network, no key; each takes ``CRONKEEPER_SAMPLE_DELAY_MS``."""

    def __init__(self, config: CollectorConfig, subject: Subject | None = None) -> None:
        self.config = config
        self.name = config.name
        self.subject = subject
        # answers at most max_concurrency at a time, as an engine's limit would: a run's
        # progress then moves call by call instead of jumping from 0 to done
        self._slots = asyncio.Semaphore(max(1, int(config.max_concurrency or 1)))

    async def ask(self, client: httpx.AsyncClient, query: str) -> Answer:
        if not query.strip():
            raise CollectorError(self.name, "the query is empty")
        delay = sample_delay_seconds()
        if delay:
            async with self._slots:
                await asyncio.sleep(delay)
        text = sample_text(query, self.subject)  # the latency is the nominal delay: deterministic
        return Answer(self.name, self.config.model or SAMPLE_MODEL, query, text, [SAMPLE_SOURCE], delay * 1000)
