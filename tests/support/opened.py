"""The scene most tests start from: a group, its owner and a member, a board opened with /newboard.

The fixtures `opened_board` (the bot polling in a thread, see BotThread) and
`opened_board_inprocess` (InProcessBot) in tests/conftest.py build it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.playground.emulator import Chat, Person, World
from tests.support.inprocess import InProcessBot
from tests.support.scenario import Team

TITLE = "Citybike"


def group_of_two(world: World) -> tuple[Chat, Person, Person]:
    """The group "Team", Anna its owner, Ben a member."""
    anna = world.person(101, "Anna")
    ben = world.person(102, "Ben")
    return world.group("Team", owner=anna), anna, ben


@dataclass
class OpenedBoard:
    """Anna (the group's owner, a moderator) opened the board; Ben is a member."""

    world: World
    group: Chat
    anna: Person
    ben: Person
    title: str
    team: Team = field(init=False)  # steps that wait for the bot's answers (a bot in a thread)

    def __post_init__(self) -> None:
        self.team = Team(self.world, self.group)


@dataclass
class InProcessBoard(OpenedBoard):
    """The scene and the in-process application that opened the board."""

    bot: InProcessBot
