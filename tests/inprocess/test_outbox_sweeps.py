"""The schedules' posts are outbox rows stored with their claims (SPEC §12): a process that
dies after a reminder's or the autopilot's claim was committed, before Telegram got the post,
leaves the row, and the next delivery sends it — once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlmodel import Session, col

from bot import clock
from bot.handlers import autopilot, plan, reminders
from bot.handlers.core import outbox, unsent
from bot.playground.emulator import BotApiEmulator
from bot.store.tables import OutboxSend, utcnow
from tests.support.inprocess import inprocess_bot
from tests.support.scenario import plain

VIENNA = ZoneInfo("Europe/Vienna")
WEEKDAYS = ("mo", "di", "mi", "do", "fr", "sa", "so")


def _died_after_the_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process dies right after the claim's commit: nothing is delivered in it."""

    async def nothing(self: outbox.Outbox, context: Any) -> None:
        return None

    monkeypatch.setattr(outbox.Outbox, "deliver", nothing)


async def test_a_reminder_claimed_before_a_crash_is_sent_by_the_next_delivery(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = emulator.world
    anna = world.person(611, "Anna")
    group = world.group("Team", owner=anna, supergroup=True)
    now = [datetime(2026, 11, 26, 14, 30, 20, tzinfo=VIENNA)]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Erinnerung")
        world.send(group, anna, "/timezone europe/vienna")
        for point in range(1, 4):
            world.send(group, anna, f"/ist {point} erledigt")
        target = now[0].replace(second=0) + timedelta(minutes=1)
        world.send(group, anna, f"/remind {WEEKDAYS[target.weekday()]} {target:%H:%M}")
        await bot.deliver()
        before = len(world.bot_texts(group))
        now[0] = target + timedelta(seconds=5)
        with monkeypatch.context() as crash:
            _died_after_the_commit(crash)
            await reminders.sweep(bot.context, now[0])
        assert len(world.bot_texts(group)) == before  # claimed, not sent
        assert await reminders.sweep(bot.context, now[0]) == 0  # claimed once: not again
        now[0] += timedelta(minutes=5)  # the dead process's lease ran out
        assert await unsent.deliver_claimed(bot.context, None, others_only=False) == 1
        digest = [plain(t) for t in world.bot_texts(group)[before:]]
        assert len(digest) == 1
        assert "Erinnerung" in digest[0]
        assert await unsent.deliver_claimed(bot.context, None, others_only=False) == 0


async def test_an_autopilot_card_claimed_before_a_crash_is_posted_by_the_next_delivery(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = emulator.world
    anna = world.person(612, "Anna")
    group = world.group("Team", owner=anna, supergroup=True)
    now = [datetime(2026, 11, 26, 8, 0, tzinfo=VIENNA)]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Takt")
        world.send(group, anna, "/pace täglich 09:00")
        await bot.deliver()
        before = len(world.bot_texts(group))
        now[0] = datetime(2026, 11, 26, 9, 0, 5, tzinfo=VIENNA)
        with monkeypatch.context() as crash:
            _died_after_the_commit(crash)
            await autopilot.sweep(bot.context, now[0])
        assert len(world.bot_texts(group)) == before
        assert await autopilot.sweep(bot.context, now[0]) == 0
        now[0] += timedelta(minutes=5)
        assert await unsent.deliver_claimed(bot.context, None, others_only=False) >= 1
        posted = [plain(t) for t in world.bot_texts(group)[before:]]
        assert any(text.startswith("1. ") for text in posted), posted
        assert await unsent.deliver_claimed(bot.context, None, others_only=False) == 0


async def test_a_day_before_note_claimed_before_a_crash_appears_once_after_the_restart(
    emulator: BotApiEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies after the follow-up's due time was claimed, before Telegram got the
    note; the next start (SQLite: it takes over the dead process's rows at once) posts it,
    and neither a sweep nor a later delivery posts it again."""
    world = emulator.world
    anna = world.person(613, "Anna")
    group = world.group("Team", owner=anna)
    eve = datetime(2026, 11, 27, 8, 0, 30, tzinfo=UTC)  # Friday 09:00 in Berlin
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    notes = lambda: [t for t in world.bot_texts(group) if "Morgen fällig" in t]  # noqa: E731
    async with inprocess_bot(emulator, tmp_path) as bot:
        world.send(group, anna, "/newboard Nachfassen")
        world.send(group, anna, "/soll 1 Kundenbefragung starten")
        world.send(group, anna, "/measure 1 due 2026-11-28")
        await bot.deliver()
        with monkeypatch.context() as crash:
            _died_after_the_commit(crash)
            assert await plan.followup_sweep(bot.context, eve) == 1
        assert notes() == []  # claimed, not sent
        with Session(bot.engine) as session:  # its row's claim, as a killed process leaves it
            session.execute(
                update(OutboxSend)
                .where(col(OutboxSend.sent_at).is_(None))
                .values(claimed_by="killed-process", claimed_until=utcnow() + timedelta(minutes=1))
            )
            session.commit()
    async with inprocess_bot(emulator, tmp_path) as restarted:
        assert await plan.followup_sweep(restarted.context, eve) == 0  # claimed once
        assert (
            await unsent.deliver_claimed(restarted.context, None, others_only=False, take_over=True)
            == 1
        )
        assert len(notes()) == 1
        assert "Kundenbefragung starten" in plain(notes()[0])
        assert await plan.followup_sweep(restarted.context, eve.replace(minute=5)) == 0
        assert await unsent.deliver_claimed(restarted.context, None, others_only=False) == 0
    assert len(notes()) == 1
