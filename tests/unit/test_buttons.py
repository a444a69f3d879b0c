"""Callback data: versioned, short, opaque; anything else is refused on arrival."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.handlers.core.buttons import DATA_LIMIT, ButtonData, button, decode


def test_round_trip_and_limit() -> None:
    data = ButtonData("area", 123456789, "6")
    assert decode(data.encode()) == data
    assert button("Kunde", "area", 7, 1).callback_data == "v1:area:7:1"
    with pytest.raises(ValueError, match="64 bytes"):
        ButtonData("x", 1, "ä" * 40).encode()


@pytest.mark.parametrize(
    "forged",
    [None, "", "v0:area:1:1", "v1:area:x:1", "v1:area:-5:1", "v1:ar ea:1:1", "v1:area", "x" * 65],
)
def test_forged_or_old_payloads_are_refused(forged: str | None) -> None:
    assert decode(forged) is None


@given(st.text(max_size=80))
def test_no_payload_crashes_the_decoder(raw: str) -> None:
    parsed = decode(raw)
    if parsed is not None:
        assert len(raw.encode("utf-8")) <= DATA_LIMIT
        assert parsed.board_id >= 0
