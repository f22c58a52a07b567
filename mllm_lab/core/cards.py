"""Question-and-answer cards taken from what the learner wrote, for `lab quiz` and the Anki
export: a concept note's interview answer, a paper note's one-sentence summary, a review note's
answered self-test questions, and explicit `Q:`/`A:` or `> [!question]` cards in any note
(docs/cards.md). Pure: text in, cards out. A section still as its template rendered it is no
card: the caller passes the template's section signatures (ops.review.template_signatures)."""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mllm_lab import kinds
from mllm_lab.core.blocks import CODE, Blocks, blocks
from mllm_lab.core.card import Card, CardKind
from mllm_lab.core.markdown import section_signature, strip_comments
from mllm_lab.core.roadmap import STAGES
from mllm_lab.messages import tr
from mllm_lab.models import Finding, Note
from mllm_lab.patterns import pattern
from mllm_lab.sha import blake2b

# Which headings hold which cards, and the language of the question each one gets.
HEADINGS: dict[CardKind, dict[str, str]] = {
    CardKind.INTERVIEW: {"面试口述版": "zh", "Interview answer": "en"},
    CardKind.SUMMARY: {"一句话总结": "zh", "TL;DR": "en", "One-sentence summary": "en"},
    CardKind.SELFTEST: {"自测问题": "zh", "Self-test questions": "en"},
}
_SOURCE_KIND = {
    kinds.CONCEPT.name: CardKind.INTERVIEW,
    kinds.PAPER.name: CardKind.SUMMARY,
    kinds.REVIEW.name: CardKind.SELFTEST,
}
ID_COMMENT = pattern(r"<!--\s*card:\s*([\w.-]{1,64})\s*-->")
_Q = pattern(r"^ {0,3}(?:\*\*)?(?:Q|问|問)[:：](?:\*\*)?[ \t]*(?P<text>.*)$")
_A = pattern(r"^ {0,3}(?:\*\*)?(?:A|答)[:：](?:\*\*)?[ \t]*(?P<text>.*)$")
_CALLOUT = pattern(r"^ {0,3}>[ \t]?\[!(?:question|faq)\][+-]?[ \t]*(?P<title>.*)$", re.I)
_NESTED_ANSWER = pattern(r"^ {0,3}>[ \t]?\[!answer\][+-]?[ \t]*(?P<text>.*)$", re.I)
_RULE = pattern(r"^ {0,3}(?:-[ \t]*){3,}$|^ {0,3}(?:\*[ \t]*){3,}$|^ {0,3}(?:_[ \t]*){3,}$")
_QUOTE = pattern(r"^ {0,3}>[ \t]?")
_FENCE = pattern(r"^ {0,3}(?:`{3,}|~{3,})")
_ITEM = pattern(r"^(?P<number>\d{1,9})[.)][ \t]+(?P<text>.*)$")
# The template's "（对照 [note](link)）" / " (check against [note](link))" after a question.
_SOURCE = pattern(
    r"\s*[（(](?P<inner>[^（）()]*\[[^\]]*\]\((?P<link>[^)\s]*)\)[^（）()]*)[）)]\s*$"
)
_STAGE_NAMES = {stage.name(lang): stage.number for stage in STAGES for lang in ("zh", "en")}
_CARD_START = pattern(r"^ {0,3}(?:(?:\*\*)?(?:Q|问|問)[:：]|>[ \t]?\[!)", re.M)
# The same lines after the first, each found from the line break before it: a pattern anchored
# at line starts is tried at every character of the note, one that begins with "\n" only at
# each line break. For the 3.2 MB of a 1,000-note lab's notes that is 6 ms, where looking for
# the seven marks these lines hold ("Q:", "问：", "[!"...) before trying _CARD_START took 23 ms,
# and notes with cards or card headings did it twice (note_cards: 103 -> 61 ms).
_CARD_START_AFTER_BREAK = pattern(r"\n {0,3}(?:(?:\*\*)?(?:Q|问|問)[:：]|>[ \t]?\[!)")


def normalise(question: str) -> str:
    """What a question's id depends on: width, case and spacing do not count."""
    text = unicodedata.normalize("NFKC", strip_comments(question)).casefold()
    return " ".join(text.split())


def card_id(path: str, question: str) -> str:
    key = f"{path}\x00{normalise(question)}".encode("utf-8", "surrogatepass")
    digest = blake2b(key, digest_size=8)
    return digest.hexdigest()


@dataclass(eq=False, repr=False)
class _Doc:
    """One note being taken apart into cards, with the lines already used."""

    note: Note
    parsed: Blocks
    first: int  # file line of body line 0
    claimed: set[int] = field(default_factory=set)  # body lines whose id comment is taken
    taken: set[int] = field(default_factory=set)  # body lines of explicit cards

    def named(self, *indexes: int) -> str | None:
        """The id written in an id comment on the first of these lines that has one."""
        lines = self.parsed.lines
        for index in indexes:
            if 0 <= index < len(lines) and self.parsed.kinds[index] != CODE:
                match = ID_COMMENT.search(lines[index])
                if match:
                    self.claimed.add(index)
                    return match[1]
        return None

    def card(self, kind: CardKind, question: str, answer: str, index: int, id_: str) -> Card:
        n = self.note
        line = self.first + index
        return Card(
            id=id_,
            kind=kind,
            question=question,
            answer=answer,
            path=n.path,
            line=line,
            stage=n.stage,
            tags=n.tags,
            title=n.title,
        )

    def asked(self, kind: CardKind, question: str, answer: str, index: int) -> Card:
        """A card whose question is written out: named by an id comment on its first line or
        the line above, else by a hash of the note's path and the question."""
        named = self.named(index - 1, index)
        return self.card(
            kind=kind,
            question=question,
            answer=answer,
            index=index,
            id_=named or card_id(self.note.path, question),
        )


def note_cards(
    note: Note,
    body: str,
    *,
    body_line: int = 1,
    template: Mapping[str, str] | None = None,
    stages: Mapping[str, int | None] | None = None,
) -> list[Card]:
    """The cards of one note, in the order they stand. `body` is the text after the
    frontmatter, starting on file line `body_line`; `template` maps each section title of the
    note kind's template to its section_signature as rendered (a section equal to it is
    unwritten); `stages` maps note paths to stages, for self-test questions that link a note."""
    kind = _SOURCE_KIND.get(note.kind.name)
    titles = HEADINGS[kind] if kind is not None else {}
    starts = _starts(body)
    if not starts and not any(title in body for title in titles):
        return []  # most notes: no parse needed
    doc = _Doc(note, blocks(body), body_line)
    found = _explicit_cards(doc, starts)
    if kind is not None:
        found += _section_cards(doc=doc, kind=kind, template=template or {}, stages=stages or {})
    return sorted(found, key=lambda card: card.line)


# --- cards from a note's sections ----------------------------------------------------------


def _section_cards(
    doc: _Doc, kind: CardKind, template: Mapping[str, str], stages: Mapping[str, int | None]
) -> list[Card]:
    headings = doc.parsed.headings
    result: list[Card] = []
    for number, heading in enumerate(headings):
        lang = HEADINGS[kind].get(heading.title)
        if lang is None or heading.level < 2:
            continue
        stop = headings[number + 1].line if number + 1 < len(headings) else len(doc.parsed.lines)
        if kind is CardKind.SELFTEST:
            result += _selftest_cards(doc=doc, start=heading.line + 1, stop=stop, stages=stages)
        else:
            card = _section_card(
                doc=doc,
                kind=kind,
                lang=lang,
                heading=heading.line,
                stop=stop,
                unwritten=template.get(heading.title),
            )
            if card is not None:
                result.append(card)
    return result


def _section_card(
    doc: _Doc, kind: CardKind, lang: str, heading: int, stop: int, unwritten: str | None
) -> Card | None:
    own = [i for i in range(heading + 1, stop) if i not in doc.taken]  # explicit cards apart
    content = "\n".join(doc.parsed.lines[i] for i in own)
    signature = section_signature(content, doc.note.title)
    if not signature or signature == unwritten:
        return None
    free = [i for i in own if i not in doc.claimed]
    question = tr(f"card.q_{kind.value}", lang, title=doc.note.title)
    # A generated question is keyed by its kind, not its wording: renaming the note or
    # switching the lab's language keeps the card's history.
    id_ = doc.named(*free) or card_id(doc.note.path, f"[{kind.value}]")
    return doc.card(kind=kind, question=question, answer=_clean(content), index=heading, id_=id_)


def _selftest_cards(
    doc: _Doc, start: int, stop: int, stages: Mapping[str, int | None]
) -> list[Card]:
    lines, result = doc.parsed.lines, []
    items = [i for i in range(start, stop) if doc.parsed.is_text(i) and _ITEM.match(lines[i])]
    for number, index in enumerate(items):
        end = items[number + 1] if number + 1 < len(items) else stop
        answer = _strip_prefix(_clean("\n".join(lines[index + 1 : end])))
        if not answer:
            continue
        item = _ITEM.match(lines[index])
        text = strip_comments(item["text"] if item else "").strip()
        question, stage, source = _question_and_stage(doc.note.path, text, stages)
        card = doc.asked(kind=CardKind.SELFTEST, question=question, answer=answer, index=index)
        result.append(card._replace(source=source, stage=card.stage if stage is None else stage))
    return result


def _question_and_stage(
    path: str, text: str, stages: Mapping[str, int | None]
) -> tuple[str, int | None, str | None]:
    """The question without the template's source note, the stage of what it asks about,
    and the lab path of the note it links to (None: it links none)."""
    source = _SOURCE.search(text)
    if source:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), source["link"]))
        return text[: source.start()].rstrip(), stages.get(target), target
    for name, stage in _STAGE_NAMES.items():
        if text.endswith((f"（{name}）", f"({name})")):
            return text, stage, None
    return text, None, None


def _strip_prefix(answer: str) -> str:
    """An answer without its optional `答：` / `A:` label."""
    first, newline, rest = answer.partition("\n")
    match = _A.match(first)
    return (match["text"] + newline + rest).strip() if match else answer


def _clean(text: str) -> str:
    """Markdown as the card shows it: comments gone, common indent and blank ends removed."""
    lines = strip_comments(text).replace("\r", "").split("\n")
    lines = [line.rstrip() for line in lines]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    indent = min((len(x) - len(x.lstrip(" ")) for x in lines if x), default=0)
    return "\n".join(line[indent:] for line in lines)


# --- explicit cards ------------------------------------------------------------------------


def _starts(body: str) -> list[int]:
    """Indexes of the lines that may start an explicit card (those _CARD_START matches), found
    in one pass over the text."""
    found = [0] if _CARD_START.match(body) else []
    line, offset = 0, 0
    for match in _CARD_START_AFTER_BREAK.finditer(body):
        after = match.start() + 1  # where the line starts
        line += body.count("\n", offset, after)
        offset = after
        found.append(line)
    return found


def _explicit_cards(doc: _Doc, starts: Iterable[int]) -> list[Card]:
    """The cards that start on these lines (_starts), in order; a line inside a card already
    found starts none."""
    lines, result = doc.parsed.lines, []
    free = 0  # the first line not yet part of a card
    for index in starts:
        if index < free or not doc.parsed.is_text(index):
            continue
        asked = _Q.match(lines[index])
        callout = None if asked else _CALLOUT.match(lines[index])
        if asked:
            card, free = _qa_card(doc, index, asked["text"])
        elif callout:
            card, free = _callout_card(doc, index, callout["title"])
        else:
            continue
        if card is not None:
            result.append(card)
            doc.taken.update(range(index, free))
    return result


def _qa_card(doc: _Doc, start: int, first: str) -> tuple[Card | None, int]:
    """`Q:` (or 问：) lines, maybe blank lines, then `A:` (or 答：) and the answer."""
    lines, heads = doc.parsed.lines, {h.line for h in doc.parsed.headings}
    question = [first]
    index = start + 1
    while index < len(lines) and lines[index].strip() and not _A.match(lines[index]):
        if index in heads or not doc.parsed.is_text(index) or _Q.match(lines[index]):
            return None, index
        question.append(lines[index])
        index += 1
    while index < len(lines) and not lines[index].strip():
        index += 1
    answer_start = _A.match(lines[index]) if index < len(lines) else None
    if answer_start is None or index in heads:
        return None, max(index, start + 1)
    answer, stop = _qa_answer(doc=doc, start=index, first=answer_start["text"], heads=heads)
    text = _clean("\n".join(question))
    if not answer or not text:
        return None, stop
    return doc.asked(kind=CardKind.EXPLICIT, question=text, answer=answer, index=start), stop


def _qa_answer(doc: _Doc, start: int, first: str, heads: set[int]) -> tuple[str, int]:
    """The `A:` paragraph with code fenced right under it, then any paragraphs indented by two
    spaces or more; a heading, a new `Q:` or an unindented paragraph ends it."""
    lines, parts = doc.parsed.lines, [[first]]
    index = start + 1
    while index < len(lines):
        line = lines[index]
        if doc.parsed.kinds[index] != CODE and (
            index in heads or _Q.match(line) or _CALLOUT.match(line)
        ):
            break
        if doc.parsed.kinds[index] != CODE and not line.strip():
            after = next((j for j in range(index, len(lines)) if lines[j].strip()), len(lines))
            if after == len(lines) or not lines[after].startswith("  "):
                break
            if len(parts) == 1:
                parts.append([])
        parts[-1].append(line)
        index += 1
    return "\n\n".join(x for x in (_clean("\n".join(part)) for part in parts) if x), index


def _callout_card(doc: _Doc, start: int, title: str) -> tuple[Card | None, int]:
    """`> [!question] title` and its quoted body: the answer is what follows a `> ---` line
    or sits in a nested `> > [!answer]`; without either, the title asks and the body answers."""
    lines = doc.parsed.lines
    stop = start + 1
    while stop < len(lines) and _QUOTE.match(lines[stop]):
        stop += 1
    inner = [_QUOTE.sub("", line, count=1) for line in lines[start + 1 : stop]]
    split = _callout_split(inner)
    if split is not None:
        asked, answered = [title, *split[0]], split[1]
    elif title.strip():
        asked, answered = [title], inner
    else:
        return None, stop
    question, answer = _clean("\n".join(asked)), _clean("\n".join(answered))
    if not question or not answer:
        return None, stop
    return doc.asked(kind=CardKind.EXPLICIT, question=question, answer=answer, index=start), stop


def _callout_split(inner: list[str]) -> tuple[list[str], list[str]] | None:
    """(question lines, answer lines) at the first `---` rule or nested `[!answer]`, outside
    code; None if there is neither."""
    fenced = False
    for index, line in enumerate(inner):
        if _FENCE.match(line):
            fenced = not fenced
        if fenced:
            continue
        if _RULE.match(line):
            return inner[:index], inner[index + 1 :]
        nested = _NESTED_ANSWER.match(line)
        if nested:
            rest = [_QUOTE.sub("", x, count=1) for x in _quoted(inner[index + 1 :])]
            return inner[:index], [nested["text"], *rest]
    return None


def _quoted(lines: list[str]) -> list[str]:
    end = next((i for i, line in enumerate(lines) if not _QUOTE.match(line)), len(lines))
    return lines[:end]


# --- the lab's cards -----------------------------------------------------------------------


def duplicates(cards: Iterable[Card], lang: str) -> list[Finding]:
    """A card whose id another card already has (the same question twice in a note, or one
    explicit id used twice): `path:line` of the second, naming the first."""
    return duplicate_ids((card.id, card.path, card.line) for card in cards)


def duplicate_ids(places: Iterable[tuple[str, str, int]]) -> list[Finding]:
    """The same for each card's (id, path, line), in the cards' order: `lab check` looks for
    them without making a Card of each."""
    seen: dict[str, tuple[int, str, int]] = {}
    found = []
    for number, (card_id, path, line) in enumerate(places):
        first = seen.setdefault(card_id, (number, path, line))
        if first[0] != number:
            other = f"{first[1]}:{first[2]}"
            found.append(Finding.of(path, line, "card.duplicate", id=card_id, other=other))
    return found
