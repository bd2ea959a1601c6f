"""How a brand shows in answer engines' answers: mentions, position, sentiment, share of voice.

Pure functions, no I/O:

    score = score_answer(answer.text, brand.name, brand.aliases, brand.competitors)
    metrics = summarize(scores)   # mention_rate, mean_position, mean_sentiment, ...

``mentions`` says how names are matched and which passages are about the
brand; ``sentiment`` documents the lexicon method.
"""

from cronkeeper.scoring.mentions import Mention, find_mentions
from cronkeeper.scoring.score import AnswerScore, score_answer, summarize
from cronkeeper.scoring.sentiment import sentiment

__all__ = ["AnswerScore", "Mention", "find_mentions", "score_answer", "sentiment", "summarize"]
