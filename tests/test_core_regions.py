"""Generated regions: every byte outside the markers is the user's; updating is idempotent."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from mllm_lab.core.regions import (
    body_sha,
    closing_fence,
    conflict_line,
    find_region,
    render_region,
    replace_region,
)

# Text that cannot itself contain a marker line for region "r", nor a line git leaves from a
# merge conflict (a text holding one is refused: tests/test_merge_conflict.py).
outside = st.text().filter(
    lambda t: "lab:begin r" not in t and "lab:end r" not in t and conflict_line(t) is None
)
# A body as lab writes one: no fence left open (a table, a list, a closed Mermaid block).
body_text = st.text().filter(
    lambda t: (
        "lab:end r" not in t
        and "lab:begin r" not in t
        and closing_fence(t + ("\n" if t else "")) is None
        and conflict_line(t) is None
    )
)


def test_region_replaced_between_markers_only() -> None:
    text = "intro\n" + render_region("r", "old\n") + "outro"
    new = replace_region(text, "r", "new\n")
    assert new.startswith("intro\n<!-- lab:begin r sha=")
    assert "new\n<!-- lab:end r -->\noutro" in new
    assert new.endswith("outro")


def test_missing_region_is_appended_after_user_text() -> None:
    assert replace_region("no newline", "r", "x").startswith("no newline\n\n<!-- lab:begin r")
    assert replace_region("", "r", "x").startswith("<!-- lab:begin r")


def test_crlf_file_stays_crlf_and_hand_edit_is_seen() -> None:
    text = "a\r\nb\r\n"
    new = replace_region(text, "r", "one\ntwo\n")
    assert "\n" not in new.replace("\r\n", "")
    region = find_region(new, "r")
    assert region is not None and not region.hand_edited
    edited = new.replace("one", "ONE")
    region = find_region(edited, "r")
    assert region is not None and region.hand_edited


def test_sha_ignores_line_endings() -> None:
    assert body_sha("a\r\nb\r\n") == body_sha("a\nb\n")


@given(outside, body_text, outside, body_text)
def test_outside_text_is_kept_byte_for_byte_and_update_is_idempotent(
    before: str, old: str, after: str, new: str
) -> None:
    glue = "" if not before or before.endswith("\n") else "\n"
    text = before + glue + render_region("r", old) + after
    once = replace_region(text, "r", new)
    region = find_region(once, "r")
    assert region is not None
    assert once[: region.begin] == before + glue
    assert once[region.end :] == after
    assert replace_region(once, "r", new) is once  # as written already: not a copy of it
    assert not region.hand_edited


@given(outside, body_text)
@example(text="```", body="")  # a text that ends inside a fence: the fence is closed first
@example(text="~~~~ py\nx\n", body="row\n")
def test_appending_keeps_every_existing_byte(text: str, body: str) -> None:
    result = replace_region(text, "r", body)
    assert result.startswith(text)
    assert replace_region(result, "r", body) == result
