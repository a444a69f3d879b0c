"""Live progress (SPEC §4a): one status message per board, edited in place by the progress sweep
at most once a minute and never without a change; the cards' counts follow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import clock
from bot.handlers.progress import sweep_progress
from bot.playground.emulator import BotApiEmulator
from tests.support.cards import card, labels
from tests.support.inprocess import inprocess_bot
from tests.support.scenario import plain

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_the_status_message_is_edited_at_most_once_a_minute(
    emulator: BotApiEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    database: str,
) -> None:
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else None
    world = emulator.world
    anna = world.person(1601, "Anna")
    ben = world.person(1602, "Ben")
    group = world.group("Team", owner=anna, bot_admin=True)  # with the right to pin
    now = [T0]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    async with inprocess_bot(emulator, tmp_path, database_url=url) as bot:
        world.send(group, anna, "/newboard Fortschritt")
        world.send(group, anna, "/area 1")
        await bot.deliver()
        status = next(m for m in world.bot_messages(group) if (m.text or "").startswith("📊"))
        assert world.pinned[group.id] == [status.message_id]
        assert "Kunde ▱▱▱▱ 0/4" in plain(status.text or "")
        one = card(world, group, 1)
        assert await sweep_progress(bot.context, T0) == 0  # nothing changed yet

        first = world.send(group, ben, "heute so", reply_to=one.message_id)
        await bot.deliver()
        assert status.edits == 0  # the answer does not wait for the edit
        assert await sweep_progress(bot.context, T0 + timedelta(seconds=5)) == 2
        assert "Kunde ▰▱▱▱ 1/4" in plain(status.text or "")
        assert "Einträge: 1 · Beteiligte: 1" in plain(status.text or "")
        assert labels(one)[:2] == ["✍️ Ist · 1", "🎯 Soll · 0"]
        assert (status.edits, one.edits) == (1, 1)

        now[0] = T0 + timedelta(seconds=20)
        world.send(group, ben, "Soll: morgen so", reply_to=one.message_id)
        await bot.deliver()
        for seconds in (21, 40, 64):  # within the minute after the last edit: nothing
            assert await sweep_progress(bot.context, T0 + timedelta(seconds=seconds)) == 0
        assert (status.edits, one.edits) == (1, 1)
        assert await sweep_progress(bot.context, T0 + timedelta(seconds=66)) == 2
        assert labels(one)[:2] == ["✍️ Ist · 1", "🎯 Soll · 1"]
        assert "Einträge: 2 · Beteiligte: 1" in plain(status.text or "")
        assert (status.edits, one.edits) == (2, 2)
        assert await sweep_progress(bot.context, T0 + timedelta(seconds=600)) == 0

        # an edited entry marks the board, but nothing shown changes: no edit at all
        now[0] = T0 + timedelta(seconds=610)
        world.edit(group, first, "heute anders")
        await bot.deliver()
        assert await sweep_progress(bot.context, now[0]) == 0
        assert (status.edits, one.edits) == (2, 2)

        now[0] = T0 + timedelta(seconds=700)
        world.send(group, anna, "/next")
        await bot.deliver()
        two = card(world, group, 2)
        world.send(group, ben, "auch", reply_to=two.message_id)
        await bot.deliver()
        assert await sweep_progress(bot.context, now[0]) == 2
        assert "Kunde ▰▰▱▱ 2/4" in plain(status.text or "")
        assert "Weiter ▶" not in labels(one)
        assert "Weiter ▶" in labels(two)
        # a second /area does not post a second status message
        world.send(group, anna, "/area 3")
        await bot.deliver()
        statuses = [m for m in world.bot_messages(group) if (m.text or "").startswith("📊")]
        assert statuses == [status]
        assert world.refusals() == []


async def test_without_the_right_to_pin_the_status_message_stays_unpinned(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    world = emulator.world
    anna = world.person(1701, "Anna")
    group = world.group("Team", owner=anna)
    group.members_can_pin = False  # and the bot is no administrator
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Ohne Pin")
        world.send(group, anna, "/area 2")
        await bot.deliver()
        texts = [plain(t) for t in world.bot_texts(group)]
        assert any(t.startswith("📊 Ohne Pin – 0/20") for t in texts)
        assert world.pinned.get(group.id, []) == []
        assert card(world, group, 5) is world.bot_messages(group)[-1]  # nothing said about it
