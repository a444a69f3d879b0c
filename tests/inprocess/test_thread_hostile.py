"""Property tests: any text as an entry or a command argument, through the bot's application
polling the emulator in a thread (BotThread).

Each example is sent into the emulated group; the bot must store exactly what was written (minus
the prefix) or answer why not, never crash, and never send anything Telegram would refuse.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.handlers.entries import ENTRY_LIMIT
from bot.model.entry_text import parse_entry
from bot.playground.emulator import BotApiEmulator, Chat, Person, World
from bot.playground.emulator.model import COMMAND, StoredMessage
from tests.support.cards import cards_of, has_card
from tests.support.dbtools import rows
from tests.support.harness import BotThread, wait_until
from tests.support.hostile_texts import HOSTILE_TEXTS

pytestmark = pytest.mark.e2e

SPECIAL = [text for text in HOSTILE_TEXTS if text]  # Telegram sends no empty text
# Telegram delivers text without surrogates and without NUL; the bot drops NUL if it comes anyway
texts = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=400),
)
PROFILE = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Stage:
    def __init__(
        self, world: World, bot: BotThread, group: Chat, anna: Person, card: StoredMessage
    ) -> None:
        self.world, self.bot, self.group, self.anna, self.card = world, bot, group, anna, card

    def answered(self, message: StoredMessage) -> bool:
        return bool(message.reactions) or any(
            m.reply_to == message.message_id for m in self.world.bot_messages(self.group)
        )


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    workdir: Path = tmp_path_factory.mktemp("hostile")
    with BotApiEmulator(World()) as emulator:
        bot = BotThread(emulator, f"sqlite:///{workdir / 'bot.sqlite3'}", workdir).start()
        world = emulator.world
        anna = world.person(3001, "Anna")
        group = world.group("Feindlich", owner=anna, supergroup=True)
        world.send(group, anna, "/newboard Eingaben")
        world.send(group, anna, "/point 1")
        wait_until(lambda: has_card(world, group, 1), what="card")
        card = cards_of(world, group, 1)[0]
        yield Stage(world, bot, group, anna, card)
        bot.stop()
        log = bot.log()
        assert bot.tracebacks_while_running() == [], log[-3000:]
        assert world.refusals() == []
        assert world.violations == []


@PROFILE
@given(text=texts)
def test_any_reply_is_stored_exactly_or_refused_with_an_answer(stage: Stage, text: str) -> None:
    assume(COMMAND.match(text) is None)  # a reply that is a command is a command, not an entry
    message = stage.world.send(stage.group, stage.anna, text, reply_to=stage.card.message_id)
    wait_until(lambda: stage.answered(message), timeout=15, what="an answer or a reaction")
    expected = parse_entry(text)
    stored = rows(
        stage.bot.database_url,
        "select kind, text from entry where message_id = ?",
        message.message_id,
    )
    if expected.text and len(expected.text) <= ENTRY_LIMIT:
        assert stored == [(expected.kind.value, expected.text)]
        assert message.reactions == ["👍"]
    else:  # empty, or longer than an entry may be: answered, not stored
        assert stored == []
        assert not message.reactions
    assert stage.world.refusals() == []


commands = st.sampled_from(
    ["/ist", "/soll", "/area", "/point", "/remind", "/timezone", "/example", "/lang", "/newboard"]
)


@PROFILE
@given(command=commands, argument=texts)
def test_any_command_argument_gets_an_answer(stage: Stage, command: str, argument: str) -> None:
    message = stage.world.send(stage.group, stage.anna, f"{command} {argument}")
    wait_until(lambda: stage.answered(message), timeout=15, what=f"an answer to {command}")
    replies = [m for m in stage.world.bot_messages(stage.group) if m.reply_to == message.message_id]
    assert all("schiefgegangen" not in (m.text or "") for m in replies)
    assert stage.world.refusals() == []


def test_the_board_with_all_of_it_is_still_accepted(stage: Stage) -> None:
    before = len(stage.world.bot_messages(stage.group))
    stage.world.send(stage.group, stage.anna, "/board")
    stage.world.send(stage.group, stage.anna, "/export")
    stage.world.send(stage.group, stage.anna, "/review")
    wait_until(
        lambda: (
            len([m for m in stage.world.bot_messages(stage.group)[before:] if m.kind == "document"])
            == 4  # Markdown, JSON, the report, the image
        ),
        what="export",
    )
    wait_until(
        lambda: any(m.kind == "photo" for m in stage.world.bot_messages(stage.group)[before:]),
        what="image",
    )
    assert stage.world.refusals() == []
