"""Wait.needs: a wait says which decision needs which data, and keeps it through JSON."""

import pytest

from flows import Wait


def test_wait_missing_names_blank_or_absent_keys() -> None:
    wait = Wait("review", ("approve", "edit"), needs={"edit": ("text",)})

    assert wait.missing("edit", {}) == ("text",)
    assert wait.missing("edit", {"text": "  \n"}) == ("text",)
    assert wait.missing("edit", {"text": None}) == ("text",)
    assert wait.missing("edit", {"text": "new joke"}) == ()
    assert wait.missing("approve", {}) == ()


def test_wait_needs_survive_json_and_are_omitted_when_empty() -> None:
    wait = Wait("review", ("approve", "edit"), needs={"edit": ("text",)})

    assert Wait.from_json(wait.to_json()) == wait
    assert "needs" not in Wait("review", ("approve",)).to_json()


def test_wait_needs_only_allowed_actions() -> None:
    with pytest.raises(ValueError, match="dance"):
        Wait("review", ("approve",), needs={"dance": ("style",)})
