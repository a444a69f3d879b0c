from tests.emulator import World
from tests.harness import BotProcess, wait_until


def test_newboard_and_card(world: World, bot: BotProcess) -> None:
    anna = world.person(101, "Anna")
    group = world.group("Team", owner=anna)
    bot.start()
    world.send(group, anna, "/newboard Citybike")
    wait_until(lambda: any("Citybike" in t for t in world.bot_texts(group)), what="board opened")
    world.send(group, anna, "/area 1")
    wait_until(lambda: any(t.startswith("<b>1. Kundenbedürfnisse") for t in world.bot_texts(group)), what="card")
    card = next(m for m in world.bot_messages(group) if (m.text or "").startswith("<b>1."))
    reply = world.send(group, anna, "Kunden wollen <Farben> & mehr", reply_to=card.message_id)
    wait_until(lambda: reply.reactions == ["👍"], what="reaction")
    assert world.violations == []
    assert world.refusals() == []
