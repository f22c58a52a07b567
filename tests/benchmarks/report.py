"""The benchmark's report: one Markdown table per lab size, the growth from one size to the
next, and the run's circumstances (date, machine, versions, load average). The same text goes
to stdout and, with --markdown, into README.md between `<!-- bench:begin -->` and
`<!-- bench:end -->` (or into any other file)."""

from __future__ import annotations

import itertools
import math
import os
import platform
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from cases import MEMORY_LIMIT_MB, Case, Floor

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


@dataclass
class Row:
    case: Case
    floor: Floor
    times: list[float] = field(default_factory=list)
    floor_times: list[float] = field(default_factory=list)
    rss_mb: float = 0.0  # peak RSS summed over the tree (sampled run)
    pss_mb: float | None = None
    processes: int = 1
    error: str = ""
    wrong_output: str = ""
    skipped: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def floor_median(self) -> float:
        return statistics.median(self.floor_times)

    @property
    def ratio(self) -> float:
        return self.median / self.floor_median

    def verdict(self) -> str:
        if self.skipped:
            return "skipped"
        if self.error:
            return "ERROR"
        missed = []
        if self.case.target is not None and self.ratio > self.case.target:
            missed.append("time")
        if self.rss_mb >= MEMORY_LIMIT_MB:
            missed.append("memory")
        if self.wrong_output:
            missed.append("output")
        if missed:
            return f"FAIL ({', '.join(missed)})"
        return "pass" if self.case.target is not None else "info"


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def spread(times: list[float]) -> str:
    return f"{ms(statistics.median(times))} ms ({ms(min(times))}-{ms(max(times))})"


def cell(text: str) -> str:
    """Text in a Markdown table cell: a `|` in it (`read|unread`) would start another column."""
    return text.replace("|", "\\|")


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| command | median (min-max) | floor | ratio | target | pass/FAIL | peak MB |",
        "|---|---|---|---:|---:|---|---:|",
    ]
    for row in rows:
        case, name = row.case, cell(row.case.name)
        target = f"<= {case.target:g}x" if case.target is not None else "-"
        if row.skipped or (row.error and not row.times):
            why = f" ({row.skipped})" if row.skipped else ""
            lines.append(
                f"| {name} | - | {row.floor.label} | - | {target} | {row.verdict()}{why} | - |"
            )
            continue
        pss = f" ({row.pss_mb:.0f})" if row.pss_mb is not None else ""
        procs = f" ×{row.processes}" if row.processes > 1 else ""
        lines.append(
            f"| {name} | {spread(row.times)} | {row.floor.label} {ms(row.floor_median)} ms "
            f"| {row.ratio:.2f}x | {target} | {row.verdict()} | {row.rss_mb:.0f}{pss}{procs} |"
        )
    return lines


def growth(results: dict[int, list[Row]]) -> list[str]:
    """How each command grows from one size to the next (from 10,000 notes up)."""
    lines = []
    for small, big in itertools.pairwise(sorted(results)):
        if small < 10_000:
            continue  # start-up dominates below 10k notes: the exponent says nothing
        by_name = {row.case.name: row for row in results[small]}
        lines += [
            "",
            f"### Growth from {small:,} to {big:,} notes: exponent log(t{big // 1000}k/t{small // 1000}k)/log({big / small:g}), 1 = linear",
            "",
            f"| command | {small:,} | {big:,} | exponent | floor's | verdict |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for row in results[big]:
            other = by_name.get(row.case.name)
            if other is None or not row.times or not other.times:
                continue
            power = math.log(row.median / other.median) / math.log(big / small)
            floor_power = math.log(row.floor_median / other.floor_median) / math.log(big / small)
            verdict = "pass" if power <= 1.0 else "FAIL"
            lines.append(
                f"| {cell(row.case.name)} | {ms(other.median)} ms | {ms(row.median)} ms | {power:.2f} | {floor_power:.2f} | {verdict} |"
            )
    return lines


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        kib = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
        ram = f"{kib / 2**20:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        ram = "RAM unknown"
    usable = len(os.sched_getaffinity(0))
    return f"{model}, {os.cpu_count()} cores ({usable} usable), {ram}"


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def busy() -> bool:
    """More runnable processes, on average over the last minute, than usable cores."""
    return os.getloadavg()[0] > len(os.sched_getaffinity(0))


def write_markdown(path: Path, text: str) -> str:
    """Put the report into `path`: between the bench markers if the file has them (the rest
    of the file kept byte for byte), else as the whole file. Says what it did."""
    block = f"{BEGIN}\n{text.rstrip()}\n{END}"
    old = path.read_bytes().decode("utf-8") if path.exists() else None  # line endings as they are
    if old is not None and BEGIN in old and END in old:
        start, end = old.index(BEGIN), old.index(END) + len(END)
        path.write_bytes((old[:start] + block + old[end:]).encode("utf-8"))
        return f"replaced the table between the bench markers in {path}"
    if old is not None and (BEGIN in old or END in old):
        raise SystemExit(f"{path}: one bench marker without the other; fix the file by hand")
    path.write_bytes((block + "\n").encode("utf-8"))
    return f"wrote {path}"
