"""An in-repo emulator of the Telegram Bot API for end-to-end tests (127.0.0.1 only)."""

from bot.playground.emulator.model import Chat, Fault, Person
from bot.playground.emulator.server import BotApiEmulator
from bot.playground.emulator.world import World

__all__ = ["BotApiEmulator", "Chat", "Fault", "Person", "World"]
