"""The offline ``sample`` collector: deterministic, varied, scorable, never a default."""

import asyncio
import time

import httpx
import pytest

from cronkeeper.collectors import (
    SampleCollector,
    Subject,
    build_collectors,
    load_collectors,
    unusable_reason,
    usable_configs,
    validate_job_metadata,
)
from cronkeeper.collectors.config import CollectorKind
from cronkeeper.scoring import score_answer, summarize

NIKE = Subject("Nike", ("Adidas", "Hoka", "New Balance"))
QUERIES = [f"running shoes question {i}" for i in range(30)]


@pytest.fixture(autouse=True)
def no_delay(monkeypatch):
    monkeypatch.setenv("CRONKEEPER_SAMPLE_DELAY_MS", "0")


def test_each_answer_takes_the_configured_delay(monkeypatch):
    monkeypatch.setenv("CRONKEEPER_SAMPLE_DELAY_MS", "120")
    collector = SampleCollector(load_collectors(env={})["sample"], NIKE)
    started = time.monotonic()
    answer = ask(collector, "best running shoes")
    assert time.monotonic() - started >= 0.12
    assert answer.latency_ms == 120.0


def ask(collector, query: str):
    async def go():
        async with httpx.AsyncClient() as client:
            return await collector.ask(client, query)

    return asyncio.run(go())


def test_sample_is_a_built_in_labelled_offline_and_needs_no_key():
    config = load_collectors(env={})["sample"]
    assert config.kind is CollectorKind.SAMPLE
    assert config.model == "sample (offline, demo data)"
    assert config.required_env() == []
    assert validate_job_metadata("data_collection", {"collectors": ["sample"]}, set(load_collectors(env={})))


def test_sample_is_never_a_default_collector_of_a_job():
    configs = load_collectors(env={})
    assert "sample" not in usable_configs(configs, env={})
    keyed = usable_configs(configs, env={"OPENAI_API_KEY": "k"})
    assert list(keyed) == ["chatgpt"]  # the real one with its key, and only it


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_the_same_query_and_brand_give_the_same_answer_without_network():
    [collector] = build_collectors(load_collectors(env={}), ["sample"], env={}, subject=NIKE)
    assert isinstance(collector, SampleCollector) and unusable_reason(collector) is None
    first, again = ask(collector, QUERIES[0]), ask(collector, QUERIES[0])
    assert first == again
    assert (first.collector, first.model, first.query) == ("sample", "sample (offline, demo data)", QUERIES[0])
    other_brand = build_collectors(load_collectors(env={}), ["sample"], env={},
                                   subject=Subject("Puma", NIKE.competitors))[0]  # fmt: skip
    assert ask(other_brand, QUERIES[0]).text != first.text
    assert len({ask(collector, q).text for q in QUERIES}) == len(QUERIES)


@pytest.mark.slow  # over 0.5 s: make test runs it, make test-fast does not
def test_answers_vary_in_mentions_order_and_tone_so_scores_differ():
    [collector] = build_collectors(load_collectors(env={}), ["sample"], env={}, subject=NIKE)
    scores = [score_answer(ask(collector, q).text, NIKE.brand, (), NIKE.competitors) for q in QUERIES]
    positions = {s.position for s in scores}
    sentiments = [s.sentiment for s in scores if s.sentiment is not None]
    assert None in positions and {1, 2} <= positions  # missing, first, later
    assert min(sentiments) < 0 < max(sentiments)
    assert {name for s in scores for name in s.competitors_mentioned} == set(NIKE.competitors)
    summary = summarize(scores)
    assert 0 < summary["mention_rate"] < 1
    assert 0 < summary["share_of_voice"] < 1
    assert summary["mean_position"] > 1


def test_without_a_subject_the_answer_names_no_brand():
    [collector] = build_collectors(load_collectors(env={}), ["sample"], env={})
    answer = ask(collector, "best shoes")
    assert "best shoes" in answer.text
    assert not score_answer(answer.text, "Nike", (), ("Adidas",)).mentioned
