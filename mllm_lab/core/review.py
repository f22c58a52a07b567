"""The periodic review of prompt 6: a Mermaid concept map of the notes and their links,
weak spots, self-test questions drawn from the notes, and three next directions."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import NamedTuple

from mllm_lab import kinds
from mllm_lab.core.advice import next_steps, stuck, uncovered_topics
from mllm_lab.core.labdata import LabData
from mllm_lab.core.markdown import section_signature, strip_comments
from mllm_lab.core.roadmap import STAGES, Stage
from mllm_lab.kinds import CATEGORIES
from mllm_lab.messages import tr
from mllm_lab.models import Note

FEW = 2


def _w(name: str, lang: str, **params: object) -> str:
    return tr(f"review.{name}", lang, **params)


def map_notes(data: LabData, since: date | None) -> list[Note]:
    return sorted(
        (
            n
            for n in data.notes
            if n.kind.study and (since is None or (n.created is not None and n.created >= since))
        ),
        key=lambda n: (n.stage or 9, n.path),
    )


def weak_spots(
    data: LabData,
    today: date,
    lang: str,
    empty_sections: Mapping[str, list[str]],
    link: Callable[[str], str],
    uncovered: list[tuple[Stage, str]] | None = None,
) -> list[str]:
    """Thin stages and categories, roadmap topics with no note, papers stuck in reading,
    and notes whose sections are still as the template left them."""
    sep = _w("separator", lang)
    notes = [n for n in data.notes if n.kind.study]
    spots = []
    per_stage = Counter(n.stage for n in notes)
    thin = [f"{s.name(lang)} ({per_stage[s.number]})" for s in STAGES if per_stage[s.number] < FEW]
    if thin:
        spots.append(_w("stages_few", lang, few=FEW, items=sep.join(thin)))
    per_category = Counter(n.category for n in notes if n.kind is kinds.CONCEPT)
    thin = [f"notes/{c}/ ({per_category[c]})" for c in CATEGORIES if per_category[c] < FEW]
    if thin:
        spots.append(_w("categories_few", lang, few=FEW, items=sep.join(thin)))
    if uncovered is None:
        uncovered = uncovered_topics(data.notes, lang)
    for stage in STAGES:
        topics = [topic for owner, topic in uncovered if owner is stage]
        if topics:
            spots.append(_w("topics", lang, stage=stage.name(lang), items=sep.join(topics)))
    for paper in stuck(data, today):
        days = (today - paper.started).days if paper.started else 0
        spots.append(
            _w(
                "stuck",
                lang,
                title=_text(paper.title),
                link=link(paper.note or paper.link or ""),
                days=days,
            )
        )
    titles = {n.path: n.title for n in data.notes}
    for path, sections in sorted(empty_sections.items()):
        spots.append(
            _w(
                "empty_sections",
                lang,
                title=_text(titles.get(path, path)),
                link=link(path),
                sections=sep.join(sections),
            )
        )
    return spots


def _text(title: str) -> str:
    return title.replace("[", "\\[").replace("]", "\\]")


class Question(NamedTuple):
    text: str
    source: str  # a Markdown link to the note it comes from, or ""


def claims(misconceptions: str) -> list[str]:
    """The claims written under "common misconceptions": each list item (its **误区** part)."""
    found = []
    for line in strip_comments(misconceptions).split("\n"):
        item = re.match(r"^\s*(?:[-*+]|\d+\.)\s+(.*\S)", line)
        if not item:
            continue
        text = item[1]
        labelled = re.match(r"\*\*[^*]+\*\*\s*[：:]\s*(.*)", text)
        text = (labelled[1] if labelled else text).strip()
        if text and not re.fullmatch(r"\*\*[^*]+\*\*\s*[：:]?", text):
            found.append(text)
    return found


def question_facts(sections: Mapping[str, str], title: str, lang: str) -> tuple[bool, list[str]]:
    """What a note gives the self-test questions: whether its interview answer is written
    (not as the template left it), and the claims under its misconceptions."""
    interview = section_signature(sections.get(tr("section.interview", lang), ""), title)
    return bool(interview), claims(sections.get(tr("section.misconceptions", lang), ""))


def questions(
    notes: Sequence[tuple[Note, bool, list[str]]],
    data: LabData,
    lang: str,
    seed: int,
    link: Callable[[str], str],
    count: int = 5,
) -> list[Question]:
    """Self-test questions from the notes' interview answers and misconceptions first
    (`notes`: each note with its question_facts), then from papers read and concept titles,
    then from roadmap topics. Same seed, same questions."""
    rng = random.Random(seed)

    def question(note: Note, name: str, **params: str) -> Question:
        source = _w("source", lang, title=_text(note.title), link=link(note.path))
        return Question(_w(name, lang, **params), source)

    # what could be asked, as (note, message, params): only the questions drawn are worded
    pool: list[tuple[Note, str, dict[str, str]]] = []
    for note, interview, claimed in sorted(notes, key=lambda item: item[0].path):
        if interview:
            pool.append((note, "q_interview", {"title": note.title}))
        pool += [(note, "q_misconception", {"claim": claim}) for claim in claimed]
    drawn = [question(n, name, **p) for n, name, p in rng.sample(pool, min(count, len(pool)))]
    if len(drawn) < count:
        asked = {kinds.PAPER: "q_paper", kinds.CONCEPT: "q_concept"}
        extra = [
            (note, asked[note.kind], {"title": note.title})
            for note in sorted(data.notes, key=lambda n: n.path)
            if note.kind in asked
        ]
        picked = rng.sample(extra, min(count - len(drawn), len(extra)))
        drawn += [question(n, name, **p) for n, name, p in picked]
    if len(drawn) < count:
        topics = [(stage, topic) for stage in STAGES for topic in stage.topics(lang)]
        for stage, topic in rng.sample(topics, count - len(drawn)):
            drawn.append(
                Question(_w("q_stage_topic", lang, topic=topic, stage=stage.name(lang)), "")
            )
    return drawn


def directions(
    data: LabData, today: date, lang: str, uncovered: list[tuple[Stage, str]] | None = None
) -> list[tuple[str, str]]:
    """Three next directions: (what, why), in roadmap order."""
    steps = next_steps(data, today, lang, count=3, uncovered=uncovered)
    return [(step.what, step.why) for step in steps]
