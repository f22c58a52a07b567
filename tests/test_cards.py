"""Cards from notes: the templates as a lab renders them, written and unwritten sections,
self-test answers, explicit Q:/A: and callout cards, and ids that survive edits."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mllm_lab import kinds
from mllm_lab.core import fm
from mllm_lab.core.card import Card, CardKind, roadmap_order
from mllm_lab.core.cards import card_id, duplicates, note_cards
from mllm_lab.core.markdown import section_signature
from mllm_lab.core.review import Question
from mllm_lab.core.roadmap import stage_name
from mllm_lab.kinds import NoteKind
from mllm_lab.lab import Config, Lab
from mllm_lab.models import Note, Paper
from mllm_lab.ops.notes import concept_context, paper_context
from mllm_lab.ops.review import template_signatures
from mllm_lab.ops.workspace import Workspace

DAY = date(2026, 11, 25)
CONCEPT = "notes/fundamentals/self-attention.md"
PAPER = "papers/blip-2.md"
REVIEW = "reviews/review-2026-11-25.md"
INTERVIEW = {"zh": "## 面试口述版", "en": "## Interview answer"}
SUMMARY = {"zh": "## 一句话总结", "en": "## TL;DR"}
DOCS = Path(__file__).resolve().parents[1] / "docs" / "cards.md"


def workspace(tmp_path: Path, lang: str) -> Workspace:
    return Workspace(Lab(tmp_path, Config(lang=lang)))


def concept_text(ws: Workspace, title: str = "Self-Attention") -> str:
    context = concept_context(ws, title, "fundamentals", 1, ("attention",), [], DAY)
    return ws.render(f"{ws.lang}/concept.md.j2", context)


def paper_text(ws: Workspace) -> str:
    paper = Paper(key="blip-2", title="BLIP-2", stage=3, created=DAY, tags=("q-former",))
    return ws.render(f"{ws.lang}/paper.md.j2", paper_context(ws, paper))


def review_text(ws: Workspace, questions: list[Question]) -> str:
    context = {
        "frontmatter": fm.dump({"title": "Review", "kind": "review", "created": DAY}),
        "today": DAY.isoformat(),
        "scope": "all",
        "notes_count": 2,
        "papers_read": 0,
        "papers_total": 1,
        "mermaid": "graph LR\n    a --> b\n",
        "maps": [{"title": "", "caption": "", "mermaid": "graph LR\n    a --> b\n"}],
        "weak_spots": [],
        "questions": questions,
        "directions": [("read", "why")],
    }
    return ws.render(f"{ws.lang}/review.md.j2", context)


def note_of(path: str, kind: NoteKind, title: str, stage: int | None = 1) -> Note:
    return Note(path, kind, title, stage=stage, tags=("attention",))


def cards_of(
    text: str,
    note: Note,
    template: dict[str, str] | None = None,
    stages: dict[str, int | None] | None = None,
) -> list[Card]:
    parsed = fm.parse(text, note.path)
    body, line = parsed.body, parsed.body_line
    return note_cards(note, body, body_line=line, template=template, stages=stages)


def write(text: str, heading: str, answer: str) -> str:
    """`text` with `answer` written as the first lines under `heading`."""
    assert heading + "\n" in text
    return text.replace(heading + "\n", f"{heading}\n\n{answer}\n", 1)


# --- notes as the templates render them ------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_fresh_notes_hold_no_cards(tmp_path: Path, lang: str) -> None:
    ws = workspace(tmp_path, lang)
    concept = note_of(CONCEPT, kinds.CONCEPT, "Self-Attention")
    paper = note_of(PAPER, kinds.PAPER, "BLIP-2", 3)
    assert cards_of(concept_text(ws), concept, template_signatures(ws, kinds.CONCEPT)) == []
    assert cards_of(paper_text(ws), paper, template_signatures(ws, kinds.PAPER)) == []


@pytest.mark.parametrize(
    ("lang", "question"),
    [
        ("zh", "用 3-5 句话向面试官解释「Self-Attention」。"),
        ("en", 'Explain "Self-Attention" to an interviewer in 3-5 sentences.'),
    ],
)
def test_an_interview_answer_is_a_card(tmp_path: Path, lang: str, question: str) -> None:
    ws = workspace(tmp_path, lang)
    text = write(concept_text(ws), INTERVIEW[lang], "Each token attends to every token.")
    note = note_of(CONCEPT, kinds.CONCEPT, "Self-Attention")
    [card] = cards_of(text, note, template_signatures(ws, kinds.CONCEPT))
    assert card.kind is CardKind.INTERVIEW
    assert (card.question, card.answer) == (question, "Each token attends to every token.")
    # the line in the file, frontmatter counted
    assert text.split("\n")[card.line - 1] == INTERVIEW[lang]
    assert (card.path, card.stage, card.tags, card.title) == (
        CONCEPT,
        1,
        ("attention",),
        "Self-Attention",
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_paper_summary_is_a_card(tmp_path: Path, lang: str) -> None:
    ws = workspace(tmp_path, lang)
    text = write(paper_text(ws), SUMMARY[lang], "A Q-Former bridges a frozen ViT and a frozen LLM.")
    [card] = cards_of(
        text, note_of(PAPER, kinds.PAPER, "BLIP-2", 3), template_signatures(ws, kinds.PAPER)
    )
    assert card.kind is CardKind.SUMMARY and "BLIP-2" in card.question
    assert card.answer == "A Q-Former bridges a frozen ViT and a frozen LLM." and card.stage == 3


def test_a_section_left_as_its_template_wrote_it_is_no_card() -> None:
    template = {"面试口述版": section_signature("- 要点：用一句话解释 Sample 的作用\n", "Sample")}
    note = note_of(CONCEPT, kinds.CONCEPT, "Self-Attention")
    as_rendered = (
        "# Self-Attention\n\n## 面试口述版\n\n- 要点：用一句话解释 Self-Attention 的作用\n"
    )
    assert note_cards(note, as_rendered, template=template) == []
    written = as_rendered + "\n它让每个 token 都能看到整句话。\n"
    assert [c.kind for c in note_cards(note, written, template=template)] == [CardKind.INTERVIEW]


@pytest.mark.parametrize(
    "body", ["## 面试口述版\n\n<!-- 写在这里 -->\n", "## 面试口述版\n\n- \n\n"]
)
def test_an_empty_section_is_no_card(body: str) -> None:
    assert note_cards(note_of(CONCEPT, kinds.CONCEPT, "X"), body) == []


def test_interview_cards_come_only_from_concept_notes() -> None:
    body = "## 面试口述版\n\n写好了。\n\n## 一句话总结\n\n也写好了。\n"
    weekly = note_of("weekly-log/2026-W48.md", kinds.WEEKLY, "W48")
    assert note_cards(weekly, body) == []
    paper = note_of(PAPER, kinds.PAPER, "BLIP-2")
    assert [c.kind for c in note_cards(paper, body)] == [CardKind.SUMMARY]


# --- review notes ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_answered_self_test_questions_are_cards(tmp_path: Path, lang: str) -> None:
    ws = workspace(tmp_path, lang)
    link = "[Self-Attention](../notes/fundamentals/self-attention.md)"
    source = f"对照 {link}" if lang == "zh" else f"check against {link}"
    questions = [
        Question("What is attention?", source),
        Question("监督微调（SFT）：核心思想是什么？", stage_name(2, lang)),
        Question("Unanswered?", ""),
    ]
    text = review_text(ws, questions)
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("1. "))
    lines.insert(first + 1, "\n   答：softmax(QK^T/√d)V\n   按行加权。\n")
    second = next(i for i, line in enumerate(lines) if line.startswith("2. "))
    lines.insert(second + 1, "   A: instruction tuning")
    note = note_of(REVIEW, kinds.REVIEW, "Review", None)
    cards = cards_of("\n".join(lines), note, stages={CONCEPT: 1})
    assert [(c.kind, c.question, c.answer, c.stage) for c in cards] == [
        (CardKind.SELFTEST, "What is attention?", "softmax(QK^T/√d)V\n按行加权。", 1),
        (
            CardKind.SELFTEST,
            questions[1].text
            + (f"（{stage_name(2, lang)}）" if lang == "zh" else f" ({stage_name(2, lang)})"),
            "instruction tuning",
            2,
        ),
    ]
    assert "\n".join(lines).split("\n")[cards[0].line - 1].startswith("1. What is attention?")


def test_unanswered_review_has_no_cards(tmp_path: Path) -> None:
    ws = workspace(tmp_path, "zh")
    text = review_text(ws, [Question("Q1", ""), Question("Q2", "")])
    assert cards_of(text, note_of(REVIEW, kinds.REVIEW, "Review", None)) == []


# --- explicit cards --------------------------------------------------------------------------

EXPLICIT = """\
# Note

Q: What does the Q-Former output?
A: 32 query embeddings.

问：为什么要除以 $\\sqrt{d_k}$？

答：防止点积过大，
softmax 饱和。

  第二段也属于答案。

不属于答案。

**Q:** bold?
**A:** yes

> [!question] Complexity of attention?
>
> ---
>
> $O(n^2 d)$

> [!question]- Nested?
>
> > [!answer]
> > Yes, nested.

> [!faq] Title asks
> and the body answers.

> [!question]
> Question in the body
> ---
> answer after the rule

```markdown
Q: inside code
A: not a card
```

Q: no answer here

> [!question] No answer either
"""


def test_explicit_cards_in_every_documented_style() -> None:
    cards = note_cards(note_of("notes/x.md", kinds.CONCEPT, "Note"), EXPLICIT)
    assert [(c.question, c.answer) for c in cards] == [
        ("What does the Q-Former output?", "32 query embeddings."),
        ("为什么要除以 $\\sqrt{d_k}$？", "防止点积过大，\nsoftmax 饱和。\n\n第二段也属于答案。"),
        ("bold?", "yes"),
        ("Complexity of attention?", "$O(n^2 d)$"),
        ("Nested?", "Yes, nested."),
        ("Title asks", "and the body answers."),
        ("Question in the body", "answer after the rule"),
    ]
    assert {c.kind for c in cards} == {CardKind.EXPLICIT}
    lines = EXPLICIT.split("\n")
    assert [lines[c.line - 1][:5] for c in cards] == [
        "Q: Wh",
        "问：为什么",
        "**Q:*",
        "> [!q",
        "> [!q",
        "> [!f",
        "> [!q",
    ]


def test_explicit_cards_in_a_section_are_not_part_of_its_answer() -> None:
    body = "## 面试口述版\n\n它让 token 互相看见。\n\nQ: 复杂度？\nA: 平方。\n"
    cards = note_cards(note_of(CONCEPT, kinds.CONCEPT, "Self-Attention"), body)
    assert [(c.kind, c.answer) for c in cards] == [
        (CardKind.INTERVIEW, "它让 token 互相看见。"),
        (CardKind.EXPLICIT, "平方。"),
    ]


def test_crlf_notes_give_the_same_cards() -> None:
    note = note_of("notes/x.md", kinds.CONCEPT, "Note")
    assert note_cards(note, EXPLICIT.replace("\n", "\r\n")) == note_cards(note, EXPLICIT)


def docs_examples() -> list[str]:
    blocks = re.findall(r"^( *)```markdown\n(.*?)^\1```", DOCS.read_text("utf-8"), re.S | re.M)
    return [re.sub(rf"(?m)^{indent}", "", text) for indent, text in blocks]


@pytest.mark.parametrize("example", docs_examples())
def test_every_example_in_the_docs_is_a_card(example: str) -> None:
    kind = kinds.REVIEW if "## " in example else kinds.CONCEPT
    cards = note_cards(note_of("notes/x.md", kind, "X"), example)
    assert cards and all(c.answer for c in cards), example


# --- ids -------------------------------------------------------------------------------------


def test_ids_survive_edits_elsewhere_in_the_note(tmp_path: Path) -> None:
    note = note_of(CONCEPT, kinds.CONCEPT, "Self-Attention")
    ws = workspace(tmp_path, "zh")
    text = write(concept_text(ws), INTERVIEW["zh"], "答案。\n\nQ: 复杂度？\nA: 平方。")
    before = {c.kind: c.id for c in cards_of(text, note)}
    edited = write(text, "## 直觉理解", "很多新写的内容。\n\n更多。")
    edited = write(edited, INTERVIEW["zh"], "改写过的口述版。")
    after = cards_of(edited, note)
    assert {c.kind: c.id for c in after} == before
    assert after[0].line > cards_of(text, note)[0].line  # moved down, same id
    renamed = cards_of(
        concept_text(ws, "自注意力").replace("## 面试口述版\n", "## 面试口述版\n\n答案。\n"), note
    )
    assert renamed[0].id == before[CardKind.INTERVIEW]  # a new title keeps the history


def test_the_id_depends_on_question_and_path_not_on_spelling() -> None:
    assert card_id("a.md", "What is  RoPE？") == card_id("a.md", "what is rope?")
    assert card_id("a.md", "What is RoPE?") != card_id("b.md", "What is RoPE?")
    assert card_id("a.md", "What is RoPE?") != card_id("a.md", "What is ALiBi?")


def test_an_id_comment_names_the_card() -> None:
    note = note_of("notes/x.md", kinds.CONCEPT, "X")
    above = "<!-- card: rope-1 -->\nQ: What is RoPE?\nA: rotation.\n"
    same_line = "Q: What is RoPE, reworded? <!-- card: rope-1 -->\nA: rotation.\n"
    callout = "> [!question] RoPE? <!-- card: rope-1 -->\n> rotation.\n"
    for body in (above, same_line, callout):
        [card] = note_cards(note, body)
        assert card.id == "rope-1" and "<!--" not in card.question
    section = "## 面试口述版\n\n<!-- card: sa-interview -->\n口述。\n"
    [card] = note_cards(note, section)
    assert card.id == "sa-interview"


def test_an_id_comment_above_a_card_belongs_to_that_card() -> None:
    body = "Q: one\nA: first\n<!-- card: two -->\nQ: two\nA: second\n"
    cards = note_cards(note_of("notes/x.md", kinds.CONCEPT, "X"), body)
    assert [(c.answer, c.id == "two") for c in cards] == [("first", False), ("second", True)]


def test_duplicate_ids_are_reported_with_both_places() -> None:
    note = note_of("notes/x.md", kinds.CONCEPT, "X")
    cards = note_cards(note, "Q: same\nA: 1\n\nQ: Same\nA: 2\n")
    [finding] = duplicates(cards, "en")
    assert (finding.path, finding.line) == ("notes/x.md", 4) and "notes/x.md:1" in finding.message
    assert duplicates(cards[:1], "zh") == []


def test_roadmap_order_puts_cards_without_a_stage_last() -> None:
    made = [
        Card("a", CardKind.EXPLICIT, "q", "a", "z.md", 1, None),
        Card("b", CardKind.EXPLICIT, "q", "a", "a.md", 9, 2),
    ]
    assert [c.id for c in sorted(made, key=roadmap_order)] == ["b", "a"]


@given(st.text(), st.text())
def test_any_text_hashes_to_an_id(path: str, question: str) -> None:
    assert re.fullmatch(r"[0-9a-f]{16}", card_id(path, question))
    assert card_id(path, question) == card_id(path, f"  {question}\n")


SAFE = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1).filter(
    lambda q: q.strip() and "<!--" not in q and "-->" not in q
)
PROSE = st.text(st.sampled_from("abc 注意力\n"), max_size=40).map(lambda t: t.strip())


@given(question=SAFE, before=PROSE, after=PROSE)
def test_any_question_has_one_stable_id(question: str, before: str, after: str) -> None:
    note = note_of("notes/x.md", kinds.CONCEPT, "X")
    alone = note_cards(note, f"Q: {question}\nA: yes\n")
    edited = note_cards(note, f"{before}\n\nQ: {question}\nA: yes\n\n{after}\n")
    assert len(alone) == 1 and [c.id for c in edited] == [alone[0].id]
    assert alone[0].id == card_id("notes/x.md", question.strip())
    assert re.fullmatch(r"[0-9a-f]{16}", alone[0].id)


CARD_LINE = st.tuples(
    st.sampled_from(["", " ", "   ", "    ", "\t"]),
    st.sampled_from(["", "**"]),
    st.sampled_from(["Q", "问", "問", "A", ">", "> ", ">\t", "x"]),
    st.sampled_from([":", "：", "[!", "**:", ""]),
    st.sampled_from(["", "x", "question] t"]),
).map("".join)


@given(st.lists(CARD_LINE, max_size=6).map("\n".join))
@example("Q:x")
@example("**Q：x")
@example("问:x")
@example(" 问：x")
@example("問:x")
@example("問：x")
@example("> [!question] t")
@example(">[!faq]")
def test_the_lines_that_may_start_a_card_are_those_the_pattern_finds(body: str) -> None:
    """_starts, which looks only after line breaks (and at the first line), finds the lines
    _CARD_START matches line by line: no card's first line is missed."""
    from mllm_lab.core import cards

    lines = body.split("\n")
    expected = [i for i, line in enumerate(lines) if cards._CARD_START.match(line)]
    assert cards._starts(body) == expected
