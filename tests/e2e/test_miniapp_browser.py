"""The Mini App in a real browser: headless Chromium (Debian's) driven by Playwright, against
the real bot process (`python -m bot`) and the emulator. Telegram's script is blocked, as it
would be offline: the page reads its launch parameters from the URL fragment."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Route

from bot.playground.emulator import BotApiEmulator, World
from bot.playground.emulator.model import Chat, Person
from tests.support.browser import launched_chromium
from tests.support.harness import BotProcess, wait_until
from tests.support.miniapp_tools import (
    DARK,
    LIGHT,
    OTHER_TOKEN,
    init_data,
    launch_url,
    miniapp_env,
    opened_board_token,
    status_message,
)
from tests.support.ports import free_port
from tests.support.scenario import Team

pytestmark = pytest.mark.e2e

HOSTILE = "<img src=x onerror=\"window.__pwned = 1; document.title = 'pwned'\">"


@dataclass
class Scene:
    world: World
    port: int
    group: Chat
    team: Team
    anna: Person
    ben: Person
    carla: Person
    token: str


@pytest.fixture
def scene(emulator: BotApiEmulator, sqlite_url: str, tmp_path: Path) -> Iterator[Scene]:
    world = emulator.world
    port = free_port()
    process = BotProcess(emulator, sqlite_url, tmp_path, **miniapp_env(port))
    anna = world.person(401, "Anna")
    ben = world.person(402, "Ben")
    carla = world.person(403, "Carla")
    group = world.group("Strategie", owner=anna, supergroup=True)
    team = Team(world, group)
    process.start()
    try:
        token = opened_board_token(team, anna, ben)
        yield Scene(world, port, group, team, anna, ben, carla, token)
    finally:
        process.stop()
    assert process.tracebacks_while_running() == [], process.log()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with launched_chromium() as running:
        yield running


def _page(browser: Browser, dark: bool = False) -> tuple[Page, list[str]]:
    """A page 360 px wide, and the script errors it raises."""
    context = browser.new_context(
        viewport={"width": 360, "height": 780},
        device_scale_factor=1,
        color_scheme="dark" if dark else "light",
    )
    # nothing leaves the machine: Telegram's script cannot load, as when it is offline
    context.route("**/*", _only_local)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


def _only_local(route: Route) -> None:
    if route.request.url.startswith("http://127.0.0.1:"):
        route.continue_()
    else:
        route.abort()


def test_the_board_in_the_browser_add_an_entry_and_find_it_in_the_chat(
    scene: Scene, browser: Browser, tmp_path: Path
) -> None:
    page, errors = _page(browser)
    page.goto(launch_url(scene.port, init_data(scene.ben, scene.token)))
    page.wait_for_selector("body[data-ready=yes]")
    fields = page.locator("#board [data-point]")
    assert fields.count() == 20
    numbers = [f.get_attribute("data-point") for f in fields.all()]
    assert sorted(int(n or 0) for n in numbers) == list(range(1, 21))
    assert page.locator('[data-point][data-missing="yes"]').count() == 20
    assert "0 von 20" in page.locator("#progress-text").inner_text()
    page.screenshot(path=str(tmp_path / "light-empty.png"), full_page=True)

    page.click('[data-point="5"]')
    page.wait_for_selector("#point")
    assert "5. Marke/Produkt/Dienstleistung" in page.locator("#point h2").inner_text()
    assert page.locator(".questions li").count() >= 1
    assert page.locator(".example .part").count() >= 1
    page.fill("textarea[name=entry]", "Wir verkaufen Räder von der Stange")
    page.click('[data-kind="soll"]')
    page.click('[data-kind="ist"]')
    assert page.get_attribute('[data-kind="ist"]', "aria-pressed") == "true"
    page.click("form.add button[type=submit]")
    page.wait_for_selector("#entries .entry-ist >> text=Wir verkaufen Räder von der Stange")
    assert "Ben" in page.locator("#entries .entry .meta").first.inner_text()
    assert page.input_value("textarea[name=entry]") == ""

    # the group's /board and /status know it
    scene.team.say(scene.anna, "/board")
    wait_until(
        lambda: any(
            "Wir verkaufen Räder von der Stange" in t for t in scene.world.bot_texts(scene.group)
        ),
        what="the entry on /board",
    )
    status = status_message(scene.world, scene.group)
    wait_until(lambda: "1/20 Punkte mit Ist" in (status.text or ""), what="the status message")
    before = len(scene.world.bot_texts(scene.group))
    scene.team.say(scene.anna, "/status")
    answers = wait_until(
        lambda: [t for t in scene.world.bot_texts(scene.group)[before:] if "Stand:" in t],
        what="the answer to /status",
    )
    [empty] = [line for line in answers[-1].splitlines() if "Noch ohne Ist" in line]
    assert "1. Kundenbedürfnisse" in empty  # still empty
    assert "Marke/Produkt/Dienstleistung" not in empty  # no longer empty

    # back on the board: the field has its Ist, the mark is gone
    page.locator("#point .back").click()
    field = page.locator('[data-point="5"]')
    assert field.get_attribute("data-missing") == "no"
    assert "Ist 1" in field.inner_text()
    assert "1 von 20" in page.locator("#progress-text").inner_text()
    assert errors == []


def test_hostile_text_shows_as_text_and_chat_changes_arrive(
    scene: Scene, browser: Browser, tmp_path: Path
) -> None:
    page, errors = _page(browser, dark=True)
    page.goto(launch_url(scene.port, init_data(scene.ben, scene.token), DARK))
    page.wait_for_selector("body[data-ready=yes]")
    page.click('[data-point="2"]')
    page.fill("textarea[name=entry]", HOSTILE)
    page.click("form.add button[type=submit]")
    shown = page.locator("#entries .entry .text").first
    shown.wait_for()
    assert shown.inner_text() == HOSTILE
    assert page.locator("#view img").count() == 0
    # made in the chat: within 10 seconds on the open page, without reloading
    scene.team.entry(scene.anna, f"/ist 2 {HOSTILE} aus dem Chat")
    page.wait_for_selector("#entries >> text=aus dem Chat", timeout=10_000)
    assert page.locator("#view img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.title() != "pwned"
    assert errors == []
    page.locator("#point .back").click()
    page.wait_for_selector("#board")
    page.screenshot(path=str(tmp_path / "dark.png"), full_page=True)
    with Image.open(tmp_path / "dark.png") as image:
        assert image.width == 360
        corner = image.convert("L").getpixel((2, 2))
        assert isinstance(corner, int)
        assert corner < 80  # a dark page


def test_own_entry_edited_and_taken_back_in_the_page(scene: Scene, browser: Browser) -> None:
    page, errors = _page(browser)
    page.goto(launch_url(scene.port, init_data(scene.ben, scene.token)))
    page.wait_for_selector("body[data-ready=yes]")
    page.click('[data-point="7"]')
    page.fill("textarea[name=entry]", "erste Fassung")
    page.click("form.add button[type=submit]")
    page.wait_for_selector("#entries >> text=erste Fassung")
    page.click('#entries [data-action="edit"]')
    page.fill("textarea[name=edit]", "zweite Fassung")
    page.click('#entries [data-action="save"]')
    page.wait_for_selector("#entries >> text=zweite Fassung")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click('#entries [data-action="take-back"]')
    page.wait_for_selector("#entries .entry", state="detached")
    assert errors == []


def test_forged_stale_and_foreign_launches_are_refused(scene: Scene, browser: Browser) -> None:
    good = init_data(scene.ben, scene.token)
    launches = {
        "forged": good.replace("Ben", "Eve"),
        "stale": init_data(scene.ben, scene.token, age=25 * 3600),
        "foreign bot": init_data(scene.ben, scene.token, signed_by=OTHER_TOKEN),
        "not a member": init_data(scene.carla, scene.token),
    }
    for what, data in launches.items():
        page, errors = _page(browser)
        page.goto(launch_url(scene.port, data))
        page.wait_for_selector("#refused")
        assert "Dieses Board ist hier nicht verfügbar" in page.inner_text("#refused"), what
        assert page.locator("[data-point]").count() == 0, what
        assert "Citybike" not in page.content(), what
        assert errors == [], what
        page.context.close()


def test_screenshots_light_and_dark_at_360_pixels(
    scene: Scene, browser: Browser, tmp_path: Path
) -> None:
    """Screenshots of a partly filled board, light and dark (docs/ keeps one, see README)."""
    for command in ("/ist 1 Kunden fragen nach Farben", "/soll 1 Konfigurator", "/ist 6 Baukasten"):
        scene.team.entry(scene.anna, command)
    for theme, dark in (("light", False), ("dark", True)):
        page, errors = _page(browser, dark)
        colours = DARK if dark else LIGHT
        page.goto(launch_url(scene.port, init_data(scene.anna, scene.token), colours))
        page.wait_for_selector("body[data-ready=yes]")
        target = tmp_path / f"miniapp-board-{theme}.png"
        page.screenshot(path=str(target), full_page=True)
        with Image.open(target) as image:
            assert image.width == 360
        # the fields fit the width: none is cut off at the right edge
        widest = page.evaluate(
            "Math.max(...[...document.querySelectorAll('[data-point]')]"
            ".map(e => e.getBoundingClientRect().right))"
        )
        assert widest <= 360
        assert errors == []
        page.click('[data-point="1"]')
        page.wait_for_selector("#entries .entry")
        point = tmp_path / f"miniapp-point-{theme}.png"
        page.screenshot(path=str(point), full_page=True)
        page.click('[data-tab="review"]')
        page.wait_for_selector("#review")
        assert "2. Kundenkommunikation" in page.inner_text("#review")  # still without Ist
        review = tmp_path / f"miniapp-review-{theme}.png"
        page.screenshot(path=str(review), full_page=True)
        page.click('[data-tab="plan"]')
        page.wait_for_selector("#plan [data-measure]")
        assert "Konfigurator" in page.inner_text("#plan")
        assert page.locator('#plan select[name="status"]').count() == 1  # Anna moderates
        plan = tmp_path / f"miniapp-plan-{theme}.png"
        page.screenshot(path=str(plan), full_page=True)
        out = Path(os.environ.get("MINIAPP_SCREENSHOTS", ""))
        if out.name:  # to look at them: MINIAPP_SCREENSHOTS=<folder> pytest …
            out.mkdir(parents=True, exist_ok=True)
            for shot in (target, point, review, plan):
                shutil.copy(shot, out / shot.name)
        page.context.close()


def test_with_telegram_s_script_back_button_and_haptics(scene: Scene, browser: Browser) -> None:
    """Inside Telegram the launch comes from `Telegram.WebApp` (no fragment): the page uses its
    init data and theme, Telegram's BackButton and haptic feedback."""
    page, errors = _page(browser)
    web_app = {
        "initData": init_data(scene.ben, scene.token),
        "themeParams": DARK,
        "colorScheme": "dark",
    }
    page.add_init_script(
        "window.__calls = [];"
        f"window.Telegram = {{ WebApp: Object.assign({json.dumps(web_app)}, {{"
        "  ready() { __calls.push('ready'); }, expand() {}, onEvent() {},"
        "  BackButton: { show() { __calls.push('back.show'); },"
        "                hide() { __calls.push('back.hide'); },"
        "                onClick(f) { window.__back = f; } },"
        "  HapticFeedback: { selectionChanged() { __calls.push('tap'); },"
        "                    notificationOccurred(k) { __calls.push('notify:' + k); } },"
        "  isVersionAtLeast(v) { return true; },"
        "  showConfirm(message, done) { __calls.push('confirm:' + message);"
        "                               setTimeout(() => done(true), 0); } }) };"
        # the browser's own dialog must not be asked inside Telegram
        "window.confirm = () => { __calls.push('window.confirm'); return false; };"
    )
    page.goto(f"http://127.0.0.1:{scene.port}/app/")
    page.wait_for_selector("body[data-ready=yes]")
    assert page.evaluate("document.documentElement.dataset.scheme") == "dark"
    assert page.locator("#board [data-point]").count() == 20
    page.click('[data-point="9"]')
    page.wait_for_selector("#point")
    page.fill("textarea[name=entry]", "CNC-Fräse seit 2019")
    page.click("form.add button[type=submit]")
    page.wait_for_selector("#entries >> text=CNC-Fräse seit 2019")
    # taking it back asks with Telegram's own dialog, not the browser's
    page.fill("textarea[name=entry]", "Schweißroboter")
    page.click("form.add button[type=submit]")
    page.wait_for_selector("#entries >> text=Schweißroboter")
    page.click('#entries [data-entry]:has-text("Schweißroboter") [data-action="take-back"]')
    page.wait_for_selector("#entries >> text=Schweißroboter", state="detached")
    confirms = [c for c in page.evaluate("window.__calls") if "confirm" in c]
    assert confirms == ["confirm:Diesen Eintrag zurücknehmen?"]
    page.evaluate("window.__back()")  # Telegram's BackButton pressed
    page.wait_for_selector("#board")
    calls = page.evaluate("window.__calls")
    assert calls[0] == "ready"
    assert "tap" in calls
    assert "back.show" in calls
    assert "notify:success" in calls
    assert calls[-1] == "back.hide"
    assert errors == []


def test_plan_headings_votes_and_example_marks_say_what_the_chat_says(
    scene: Scene, browser: Browser
) -> None:
    """The plan tab names a measure as `/plan` does (`Nr. 3 · 12. …`), says `1 Stimme` for
    one vote, orders by votes as `/plan stimmen` (ties in area order); the point view marks
    the project's own example once, as `/example` does."""
    team, world = scene.team, scene.world
    # Nr. 1 on point 20 (Value Chain), Nr. 2 on point 6, Nr. 3 on point 1 (Kunde)
    for command in ("/soll 20 Lieferkette", "/soll 6 Shop", "/soll 1 Umfrage"):
        team.entry(scene.anna, command)
    team.say(scene.anna, "/vote")
    [poll] = wait_until(lambda: world.polls_in(scene.group), what="the poll")
    [shop] = [i for i, option in enumerate(poll.options) if option.startswith("Nr. 2 ")]
    world.answer_poll(scene.ben, poll, [shop])
    page, errors = _page(browser)
    page.goto(launch_url(scene.port, init_data(scene.anna, scene.token)))
    page.wait_for_selector("body[data-ready=yes]")
    page.click('[data-tab="plan"]')
    page.wait_for_selector("#plan [data-measure]")

    def measure(number: int) -> str:
        return page.inner_text(f'#plan [data-measure="{number}"]')

    wait_until(lambda: "1 Stimme" in page.inner_text("#plan"), what="the vote in the plan tab")
    headings = page.locator("#plan [data-measure] h3").all_inner_texts()
    assert headings[0] == "Nr. 1 · 20. Kommunikation zu Partnern"
    assert "Nr. 2 · 6. " in headings[1]
    assert "🗳 1 Stimme" in measure(2)
    assert "1 Stimmen" not in page.inner_text("#plan")
    assert "🗳 0 Stimmen" in measure(1)
    page.click("#plan [data-order]")
    order = [m.get_attribute("data-measure") for m in page.locator("#plan [data-measure]").all()]
    assert order == ["2", "3", "1"]  # the tie of Nr. 1 and Nr. 3 in area order

    for number in (5, 8):  # the points whose example is partly the project's own
        page.click('[data-tab="board"]')
        page.click(f'[data-point="{number}"]')
        page.wait_for_selector(f'[data-point-view="{number}"]')
        own = page.inner_text('.example .part[data-origin="project"]')
        assert own.count("Eigene Illustration, nicht aus der Quelle") == 1
        assert own.count("Quelle") == 1
        assert "Ergänzung" not in page.inner_text(".example")
        page.locator("#point .back").click()
    assert errors == []


# Where each rendered line of the poster's titles and area names begins: a line may begin
# only after a space, a soft hyphen (shown as a hyphen there), a slash or a hyphen.
WORD_CUTS = r"""
() => {
  const cut = [];
  const atSoftHyphen = [];
  for (const node of document.querySelectorAll("#board .field .name, #board .area h2")) {
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    let text = "";
    const tops = [];
    for (let t = walker.nextNode(); t; t = walker.nextNode()) {
      for (let i = 0; i < t.data.length; i++) {
        const range = document.createRange();
        range.setStart(t, i);
        range.setEnd(t, i + 1);
        const rects = range.getClientRects();
        const last = rects[rects.length - 1];
        tops.push(last && last.width > 0 ? last.top : null);
        text += t.data[i];
      }
    }
    let previous = -1;
    for (let i = 0; i < text.length; i++) {
      if (tops[i] === null) continue;
      if (previous >= 0 && tops[i] > tops[previous] + 2) {
        const joint = text.slice(previous, i);
        const shown = text.slice(0, i).replace(/\u00ad/g, "") + "|" + text.slice(i).replace(/\u00ad/g, "");
        if (!/[\s\u00ad\/-]/.test(joint)) cut.push(shown);
        else if (joint.includes("\u00ad")) atSoftHyphen.push(shown);
      }
      previous = i;
    }
  }
  return { cut, atSoftHyphen };
}
"""


@pytest.mark.parametrize("language", ["de", "en"])
def test_no_word_is_cut_without_a_hyphen_at_360_pixels(
    scene: Scene, browser: Browser, language: str
) -> None:
    """Chromium on Linux has no hyphenation dictionaries: the poster's long words carry soft
    hyphens at their syllables, and no line of a title or area name begins inside a word
    except there (measured from each character's rendered position)."""
    person = scene.ben
    if language == "en":
        person = scene.world.person(404, "Dana", language_code="en")
        scene.team.say(person, "/status")
    for dark in (False, True):
        page, errors = _page(browser, dark)
        colours = DARK if dark else LIGHT
        page.goto(launch_url(scene.port, init_data(person, scene.token), colours))
        page.wait_for_selector("body[data-ready=yes]")
        assert page.locator("#board [data-point]").count() == 20
        found = page.evaluate(WORD_CUTS)
        assert found["cut"] == [], found["cut"]
        assert found["atSoftHyphen"], "no long word needed breaking: the check would be idle"
        widest = page.evaluate(
            "Math.max(...[...document.querySelectorAll('#board .area')]"
            ".map(e => e.getBoundingClientRect().right))"
        )
        assert widest <= 360
        assert errors == []
        page.context.close()
