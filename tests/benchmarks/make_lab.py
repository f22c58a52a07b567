"""Build a synthetic lab of N notes for the benchmark: papers in every status, concept notes in
every category, weekly logs, links between notes, a reading list and a few notebooks."""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

CATEGORIES = ("fundamentals", "vision-language", "multimodal-arch", "training", "applications")
STATUSES = ("unread", "reading", "read")
TOPICS = ("foundation", "llm-arch", "multimodal", "training", "reasoning-eval", "vla")
WORDS = (
    "attention",
    "vision",
    "encoder",
    "token",
    "alignment",
    "projection",
    "q-former",
    "lora",
    "reward",
    "video",
    "agent",
    "注意力",
    "多模态",
    "对齐",
    "视觉",
    "训练",
)


def lab_command() -> str:
    return str(Path(sys.executable).with_name("lab"))


def paper_note(number: int, rng: random.Random, start: date) -> str:
    status = STATUSES[number % 3]
    started = start + timedelta(days=rng.randrange(400))
    finished = started + timedelta(days=rng.randrange(1, 30))
    title = f"Synthetic Paper {number}: {rng.choice(WORDS)} for {rng.choice(WORDS)}"
    lines = [
        "---",
        f"key: synth-{number}",
        f"title: '{title}'",
        "authors:",
        f"- Author {number} et al.",
        f"year: {2017 + number % 9}",
        "venue: null",
        f"arxiv: '{2300 + number % 99:04d}.{number:05d}'",
        f"url: https://arxiv.org/abs/{2300 + number % 99:04d}.{number:05d}",
        f"topic: {TOPICS[number % 6]}",
        f"stage: {1 + number % 5}",
        f"tags: [{rng.choice(WORDS)}, {rng.choice(WORDS)}]",
        f"status: {status}",
        f"created: {started}",
        f"started: {started if status != 'unread' else 'null'}",
        f"finished: {finished if status == 'read' else 'null'}",
        "---",
        "",
        f"# {title}",
        "",
    ]
    body = [
        f"## {h}\n\n{rng.choice(WORDS)} " * 3 + "\n"
        for h in ("一句话总结", "直觉理解", "方法详解", "关键公式")
    ]
    return "\n".join(lines) + "\n".join(body)


def concept_note(number: int, rng: random.Random, start: date, paths: list[str]) -> tuple[str, str]:
    category = CATEGORIES[number % 5]
    title = f"Concept {number} {rng.choice(WORDS)}"
    path = f"notes/{category}/concept-{number}.md"
    links = "".join(f"- [link](../../{rng.choice(paths)})\n" for _ in range(3) if paths)
    text = (
        f"---\ntitle: '{title}'\ncategory: {category}\nstage: {1 + number % 5}\ntags: [{rng.choice(WORDS)}]\n"
        f"related: []\nsummary: 'summary of {title}'\ncreated: {start + timedelta(days=rng.randrange(700))}\n---\n\n"
        f"# {title}\n\n## 直觉理解\n\nSomething {number}.\n\n## 与已有笔记的关联\n\n{links}[[Concept {max(0, number - 1)}]]\n\n"
        + ("lorem ipsum dolor sit amet " * 40 + "\n")
        * 3
    )
    return path, text


def build(root: Path, notes: int, seed: int = 0) -> None:
    env = {**os.environ, "LAB_TODAY": "2026-11-25"}
    subprocess.run([lab_command(), "init", str(root)], check=True, env=env, capture_output=True)
    rng = random.Random(seed)
    start = date(2025, 1, 1)
    papers = notes * 3 // 10
    weeks = min(400, notes // 20)
    concepts = notes - papers - weeks
    paths = []
    for number in range(papers):
        path = f"papers/synth-{number}.md"
        (root / path).write_text(paper_note(number, rng, start), "utf-8")
        paths.append(path)
    for number in range(concepts):
        path, text = concept_note(number, rng, start, paths[-50:])
        (root / path).write_text(text, "utf-8")
        paths.append(path)
    monday = date(2019, 1, 7)
    for number in range(weeks):
        day = monday + timedelta(weeks=number)
        name = f"{day.isocalendar().year}-W{day.isocalendar().week:02d}"
        (root / f"weekly-log/{name}.md").write_text(
            f"---\nweek: {name}\nstart: {day}\nend: {day + timedelta(days=6)}\n---\n\n# {name}\n\n## 本周完成\n\n- stuff\n",
            "utf-8",
        )
    with open(root / "papers/reading-list.yaml", "a", encoding="utf-8") as handle:
        for number in range(notes // 10):
            handle.write(
                f"- key: list-{number}\n  title: Listed paper {number}\n  stage: {1 + number % 5}\n"
                f"  topic: {TOPICS[number % 6]}\n  status: unread\n"
            )
    env["LAB_ROOT"] = str(root)
    for number in range(3):
        subprocess.run(
            [lab_command(), "new", "experiment", f"experiment {number}"],
            check=True,
            env=env,
            capture_output=True,
        )
    subprocess.run([lab_command(), "sync"], check=True, env=env, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--notes", type=int, default=1000)
    args = parser.parse_args()
    build(args.root, args.notes)
    print(f"built {args.root} with {args.notes} notes")


if __name__ == "__main__":
    main()
