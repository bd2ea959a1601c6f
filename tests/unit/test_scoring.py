"""Scoring answers: a table of hand-written answers, edge cases, and properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cronkeeper.scoring import AnswerScore, find_mentions, score_answer, sentiment, summarize

SHOES = ["Nike", "Adidas", "Brooks", "Hoka", "Asics", "New Balance", "Saucony"]
CRM = ["HubSpot", "Salesforce", "Pipedrive", "Zoho CRM", "Freshsales", "Monday.com"]


def rivals(names: list[str], brand: str) -> list[str]:
    return [name for name in names if name != brand]


LISTICLE = """Here are three great options for long runs:

1. **Hoka Clifton 9**
   - Plush cushioning and a lightweight build.
   - Very comfortable on recovery days.

2. **Saucony Endorphin Speed**
   - Responsive and fast, but a bit narrow.
"""

# (brand, aliases, competitors, answer, mentioned, position, sentiment sign: +1, -1, 0 or None)
ANSWERS = [
    ("Nike", [], rivals(SHOES, "Nike"),
     "For beginners, the Nike Pegasus 40 is an excellent all-rounder: comfortable, durable and "
     "reasonably priced. Brooks Ghost 15 and Hoka Clifton 9 are also worth a look.", True, 1, +1),
    ("Nike", [], rivals(SHOES, "Nike"),
     "Brooks makes some of the most reliable daily trainers. Nike's recent models, by contrast, have "
     "drawn complaints about durability, with several reviewers reporting that the outsole wears down "
     "quickly.", True, 2, -1),
    ("Nike", [], rivals(SHOES, "Nike"),
     "If you overpronate, look at the Brooks Adrenaline GTS or the Asics Kayano, both known for "
     "stability.", False, None, None),
    ("Ford", [], ["Toyota", "Honda"],
     "Students at Oxford often rent a Toyota or a Honda; few of them drive at all.", False, None, None),
    ("Ford", [], ["Toyota", "Honda"],
     "Ford's F-150 remains the best-selling pickup in America, though Toyota's Tundra is rated more "
     "reliable by owners.", True, 1, +1),
    ("HubSpot", ["HubSpot CRM", "Hubspot Sales Hub"], rivals(CRM, "HubSpot"),
     "For small teams, HubSpot CRM is the go-to choice thanks to its free plan and intuitive "
     "interface. Salesforce is more powerful but expensive and complex to set up.", True, 1, +1),
    ("Salesforce", [], rivals(CRM, "Salesforce"),
     "For small teams, HubSpot CRM is the go-to choice thanks to its free plan and intuitive "
     "interface. Salesforce is more powerful but expensive and complex to set up.", True, 2, -1),
    ("Pipedrive", [], rivals(CRM, "Pipedrive"),
     "Pipedrive is not recommended for large enterprises that need advanced reporting, and its "
     "automation is limited.", True, 1, -1),
    ("Zoho CRM", ["Zoho"], rivals(CRM, "Zoho CRM"),
     "Users of Zoho report no major issues with uptime, and the pricing is affordable for startups.",
     True, 1, +1),
    ("Hoka", [], rivals(SHOES, "Hoka"), LISTICLE, True, 1, +1),
    ("Saucony", [], rivals(SHOES, "Saucony"), LISTICLE, True, 2, +1),
    ("Asics", [], rivals(SHOES, "Asics"),
     "The Asics Gel-Nimbus is comfortable, but Hoka offers better cushioning for heavier runners.",
     True, 1, +1),
    ("Adidas", [], rivals(SHOES, "Adidas"),
     "Many runners find the Adidas Adizero line too stiff and uncomfortable for easy miles; the Nike "
     "Vaporfly, on the other hand, is widely praised.", True, 1, -1),
    ("Nike", [], rivals(SHOES, "Nike"),
     "Many runners find the Adidas Adizero line too stiff and uncomfortable for easy miles; the Nike "
     "Vaporfly, on the other hand, is widely praised.", True, 2, +1),
    ("Nike", [], rivals(SHOES, "Nike"),
     "Nike dominates the running market. Nike's Pegasus and Nike's Invincible are bestsellers, while "
     "Adidas trails behind.", True, 1, +1),
    ("Nike", [], rivals(SHOES, "Nike"),
     "Budget pick: nike revolution 6 — cheap, but it feels flimsy after a few months.", True, 1, -1),
    ("Monday.com", ["monday CRM"], rivals(CRM, "Monday.com"),
     "Monday.com is a flexible work OS with a user-friendly interface. Its CRM add-on is solid, "
     "though reporting is less advanced than HubSpot's.", True, 1, +1),
    ("Brooks", [], rivals(SHOES, "Brooks"),
     "According to recent reviews [1][2], Brooks Ghost 16 is the most comfortable neutral shoe for "
     "beginners, while Nike Pegasus is a close second [3].", True, 1, +1),
    ("Freshsales", [], rivals(CRM, "Freshsales"),
     "Among CRM tools, Freshsales has the worst customer support ratings we found, and its mobile app "
     "is buggy.", True, 1, -1),
    ("HubSpot", [], rivals(CRM, "HubSpot"),
     "HubSpot is not only free to start but also easy to scale as your sales team grows.", True, 1, +1),
    ("Pipedrive", [], rivals(CRM, "Pipedrive"),
     "Pipedrive is easy to use. However, its reporting is limited and it lacks a built-in marketing "
     "suite.", True, 1, -1),
    ("New Balance", [], rivals(SHOES, "New Balance"),
     "Runners with wide feet often prefer new balance for its roomy toe box and excellent fit.",
     True, 1, +1),
    ("Pipedrive", [], rivals(CRM, "Pipedrive"),
     "Salesforce, HubSpot and Zoho CRM are the market leaders; Pipedrive is a strong alternative for "
     "small sales teams.", True, 4, +1),
    ("Brooks", [], rivals(SHOES, "Brooks"), "Brookstone sells massage guns, not running shoes.",
     False, None, None),
    ("Best Buy", [], ["Amazon", "Walmart"], "Best Buy sells the Pegasus in store.", True, 1, 0),
    ("Salesforce", [], rivals(CRM, "Salesforce"),
     "Salesforce is never a bad choice for enterprises with complex needs.", True, 1, +1),
]  # fmt: skip


@pytest.mark.parametrize(("brand", "aliases", "competitors", "text", "mentioned", "position", "sign"), ANSWERS)
def test_hand_written_answers(brand, aliases, competitors, text, mentioned, position, sign):
    score = score_answer(text, brand, aliases, competitors)
    assert (score.mentioned, score.position) == (mentioned, position)
    if sign is None:
        assert score.sentiment is None
    else:
        assert score.sentiment is not None and -1 <= score.sentiment <= 1
        assert (score.sentiment > 0) - (score.sentiment < 0) == sign, score.sentiment


def test_counts_share_of_voice_and_competitor_order():
    text = ("Nike dominates the running market. Nike's Pegasus and Nike's Invincible are bestsellers, "
            "while Adidas trails behind. Hoka and Adidas are growing.")  # fmt: skip
    score = score_answer(text, "Nike", [], ["Hoka", "Adidas", "Asics"])
    assert score.mention_count == 3
    assert score.competitors_mentioned == ["Adidas", "Hoka"]
    assert score.share_of_voice == pytest.approx(3 / 6)


def test_aliases_count_once_where_they_overlap():
    score = score_answer("HubSpot CRM is free. Many teams pick HubSpot.", "HubSpot", ["HubSpot CRM"], [])
    assert score.mention_count == 2
    assert [m.end - m.start for m in find_mentions("HubSpot CRM", {"b": ["HubSpot", "HubSpot CRM"]})] == [11]


def test_word_boundaries():
    assert not score_answer("Oxford and Fordham are universities.", "Ford").mentioned
    assert score_answer("A Ford-built engine.", "Ford").mentioned
    assert score_answer("FORD's trucks", "Ford").mentioned
    assert not score_answer("My old Nikes still fit.", "Nike").mentioned  # plurals are not matched
    assert score_answer("Try C++ or Rust.", "C++", [], ["Rust"]).position == 1
    assert score_answer("Apple  Music and Spotify", "Apple Music", [], ["Spotify"]).mention_count == 1


def test_unmentioned_brand_still_gets_share_of_voice_when_rivals_are_named():
    score = score_answer("Pineapple cases sell well, and Samsung sells a few.", "Apple", [], ["Samsung", "Google"])
    assert score == AnswerScore(False, 0, None, ["Samsung"], None, 0.0)
    assert score_answer("", "Apple") == AnswerScore(False, 0, None, [], None, None)


def test_competitor_equal_to_the_brand_is_ignored():
    score = score_answer("Zoho is affordable.", "Zoho CRM", ["Zoho"], ["zoho", "HubSpot"])
    assert (score.competitors_mentioned, score.position, score.share_of_voice) == ([], 1, 1.0)


def test_sentiment_rules():
    assert sentiment("It is reliable.") > 0 > sentiment("It is unreliable.")
    assert sentiment("It is very reliable.") > sentiment("It is reliable.") > sentiment("It is fairly reliable.")
    assert sentiment("It is not recommended.") < 0 < sentiment("There are no complaints.")
    assert 0 > sentiment("It is not great.") > sentiment("It is bad.")
    assert sentiment("It isn't reliable.") < 0 and sentiment("It doesn’t disappoint; no issues.") > 0
    assert sentiment("Good, but overpriced.") < 0 < sentiment("Overpriced, but good.")
    assert sentiment("The shoe comes in blue.") == 0.0


def test_summarize():
    scores = [
        AnswerScore(True, 2, 1, ["Adidas"], 0.5, 2 / 3),
        AnswerScore(True, 1, 3, ["Adidas", "Hoka"], -0.1, 1 / 3),
        AnswerScore(False, 0, None, ["Hoka"], None, 0.0),
        AnswerScore(False, 0, None, [], None, None),
    ]
    assert summarize(scores) == {
        "answers_scored": 4, "mention_rate": 0.5, "mean_position": 2.0, "mean_sentiment": 0.2,
        "share_of_voice": 0.3333,
    }  # fmt: skip
    assert summarize([]) == {"answers_scored": 0, "mention_rate": None, "mean_position": None,
                             "mean_sentiment": None, "share_of_voice": None}  # fmt: skip


names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=400), brand=names, competitors=st.lists(names, max_size=4))
def test_scores_are_always_consistent(text, brand, competitors):
    score = score_answer(text, brand, [], competitors)
    assert score.mentioned == (score.mention_count > 0) == (score.position is not None)
    assert (score.sentiment is None) == (not score.mentioned)
    if score.sentiment is not None:
        assert -1 <= score.sentiment <= 1 and not math.isnan(score.sentiment)
    if score.share_of_voice is not None:
        assert 0 <= score.share_of_voice <= 1
    if score.position is not None:
        assert 1 <= score.position <= len(score.competitors_mentioned) + 1


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_sentiment_stays_in_range(text):
    assert -1 <= sentiment(text) <= 1
