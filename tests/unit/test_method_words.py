"""What the cards say about the method, against the source (issue 21, SPEC §5).

Each point the issue names has one row: the phrases that drifted from the source (they must not
come back, in German or English) and the phrases that now carry the source's claim (they must be
on the card). Where the source is beside the clone, the source's own words for that claim are
looked up at the cited lines, so a row cannot rest on something the source does not say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.model.catalogue import load_catalogue
from bot.texts import load_texts

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "sechs-cluster-modell.txt"
CATALOGUE = load_catalogue()
TEXTS = load_texts()


@dataclass(frozen=True)
class Claim:
    point: int
    source: tuple[str, ...]  # the source's words for the claim (seed lines in the comment)
    de_absent: tuple[str, ...] = ()
    de_present: tuple[str, ...] = ()
    en_absent: tuple[str, ...] = ()
    en_present: tuple[str, ...] = ()


CLAIMS = (
    # S:212-223: important with product selectors; suppliers derive or decode it
    Claim(
        3,
        ("besonders bei der Nutzung von Produktselektoren", "abgeleitet oder entschlüsselt"),
        de_absent=("Auswahlhilfen",),
        de_present=("Produktselektoren", "ableiten oder entschlüsseln"),
        en_absent=("selection aids",),
        en_present=("product selectors", "derive or decode"),
    ),
    # S:321-328: comparisons drive status feelings; "Die Produktkonfiguration"
    Claim(
        6,
        (
            "Status-Gefühle hervorzurufen",
            "Die Produktkonfiguration stellt eine wichtige Verbindung",
        ),
        de_absent=("Der Konfigurator verbindet", "Vergleiche mit anderen helfen"),
        de_present=("Die Produktkonfiguration verbindet", "Status-Gefühle"),
        en_absent=("The configurator links", "comparing with others helps"),
        en_present=("Product configuration links", "feeling of status"),
    ),
    # S:351-352: the source hedges
    Claim(
        7,
        ("Zu viele Optionen können für den Kunden möglicherweise irrelevant und verwirrend sein",),
        de_absent=("Zu viele Optionen verwirren.",),
        de_present=("können für Kunden irrelevant und verwirrend sein",),
        en_absent=("Too many options confuse.",),
        en_present=("can be irrelevant and confusing",),
    ),
    # S:385-391: produce to a fixed programme; new technologies and IT systems in three fields
    Claim(
        8,
        ("nach festgelegtem Produktionsprogramm", "Fertigung, Organisation und Datenverwaltung"),
        de_absent=("Vielfalt wirtschaftlich", "Standardräder mit Luftreifen"),
        de_present=("festgelegtem Produktionsprogramm", "bei unseren Partnern"),
        en_absent=("make variety pay", "Standard bikes with air tyres"),
        en_present=("fixed production programme", "Our partners do the production"),
    ),
    # S:445-447: production *can* take place at partners
    Claim(
        10,
        ("kann in Kooperation mit 3D-druckenden Unternehmen stattfinden",),
        de_absent=("Unternehmen herstellen;",),
        de_present=("kann in Kooperation mit 3D-druckenden Unternehmen stattfinden",),
        en_absent=("Make 3D-printed tyres", "cooperations"),
        en_present=("can be made in partnership", "partnerships"),
    ),
    # S:459-461: fewer advisers, fewer staff
    Claim(
        11,
        ("weniger Berater benötigt und dadurch Personalressourcen reduziert",),
        de_absent=("desto weniger Beratung braucht es",),
        de_present=("weniger Berater", "spart Personal"),
        en_absent=("the less advice",),
        en_present=("fewer advisers", "saves staff"),
    ),
    # S:478-480
    Claim(
        12,
        ("ihre Vision zu kommunizieren, zu überwachen und durchzusetzen",),
        de_absent=("ihre Ziele zu verfolgen",),
        de_present=("Vision zu kommunizieren, zu überwachen und durchzusetzen",),
        en_absent=("pursue their goals",),
        en_present=("communicate, monitor and enforce their vision",),
    ),
    # S:545-547: staff ability is one example ("wie z. B.")
    Claim(
        15,
        ("von internen Erfolgsfaktoren ab wie z. B. der Fähigkeit der Mitarbeiter",),
        de_absent=("vor allem an den Fähigkeiten",),
        de_present=("internen Erfolgsfaktoren – etwa an den Fähigkeiten",),
        en_absent=("above all on the staff",),
        en_present=("internal factors – such as the staff's abilities",),
    ),
    # S:565-575: SMEs must improve; lower complexity of interactions speeds decisions
    Claim(
        16,
        ("Die geringere Komplexität der Interaktionen", "Entscheidungsfindung erleichtert und"),
        de_absent=("kurze Wege",),
        de_present=("Weniger komplexe Abstimmungen", "beschleunigen Entscheidungen"),
        en_absent=("short paths",),
        en_present=("Less complex interactions", "a 15-minute shop-floor meeting"),
    ),
    # S:649-651 "außerhalb der Produktion"; S:658-660 "bis auf die Zubehörteile" as "down to"
    Claim(
        19,
        ("außerhalb der Produktion vollzogen", "das Design bis auf die Zubehörteile"),
        de_absent=("Fertigung, danach", "individuell aus – bis auf"),
        de_present=("außerhalb der Produktion", "das Design bis auf die Zubehörteile"),
        en_absent=("afterwards", "except for the accessories"),
        en_present=("outside production", "down to the accessories"),
    ),
    # S:670-672: SMEs still have to improve considerably; S:641-643 exchange only with makers
    Claim(
        20,
        ("noch erheblich verbessern", "ausschließlich mit den Herstellern"),
        de_absent=("größte Hebel", "nur fallweise"),
        de_present=("noch erheblich verbessern", "nur mit den Herstellern"),
        en_absent=("biggest lever", "only now and then"),
        en_present=("still have much to improve", "only with the manufacturers"),
    ),
    # S:615-617 (point 17): long delivery times, not "as in the market"
    Claim(
        5,
        ("Probleme der langen Lieferzeiten und Lieferengpässe",),
        de_absent=("wie im Markt",),
        de_present=("lange Lieferzeiten",),
        en_absent=("as in the market",),
        en_present=("long delivery times",),
    ),
    # English example sentences read as English
    Claim(
        1,
        ("überwiegend mit Seitenständer bestellt",),
        en_absent=("the kickstand mostly",),
        en_present=("the kickstand is chosen most often",),
    ),
)


def _card(language: str, number: int) -> str:
    point = CATALOGUE[language].point(number)
    return " ".join([point.explanation, *point.questions, *(part.text for part in point.example)])


def _fold(text: str) -> str:
    return re.sub(r"[^0-9a-zäöüß]", "", text.casefold())


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: f"point{c.point}")
def test_the_card_says_what_the_source_says(claim: Claim) -> None:
    for language, absent, present in (
        ("de", claim.de_absent, claim.de_present),
        ("en", claim.en_absent, claim.en_present),
    ):
        card = _card(language, claim.point)
        for phrase in absent:
            assert phrase not in card, (language, claim.point, phrase)
        for phrase in present:
            assert phrase in card, (language, claim.point, phrase)


@pytest.mark.skipif(
    not SEED.exists(), reason=f"the source document is not beside the clone ({SEED}); skipped"
)
@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: f"point{c.point}")
def test_the_claim_rests_on_the_source(claim: Claim) -> None:
    source = _fold(SEED.read_text(encoding="utf-8"))
    for words in claim.source:
        assert _fold(words) in source, words


def test_the_bot_s_own_sentences_about_the_method_are_true() -> None:
    de, en = TEXTS["de"], TEXTS["en"]
    # /review lists points without Ist or Soll and the steps' points: it compares no Ist with Soll
    assert "auseinanderliegen" not in de.plain("help")
    assert "differ" not in en.plain("help")
    assert "Aktionsschritt" not in de.plain("help")
    # a step whose points all have an Ist entry has been worked on, not covered
    for key in ("review_step_covered", "report_step_covered", "app_step_covered"):
        assert "abgedeckt" not in de.plain(key)
        assert "bearbeitet" in de.plain(key)
        assert "covered" not in en.plain(key)
    # a point with only a Soll entry is "without Ist", not empty
    for key in ("empty_mark", "status_empty", "image_empty"):
        assert "leer" not in de.plain(key)
        assert "Ist" in de.plain(key)
        assert "empty" not in en.plain(key)
    # the bot reminds of points without an Ist entry: a point with only a Soll is not "leer"
    for key in ("bot_description", "board_opened"):
        assert "leere" not in de.plain(key), key
        assert "ohne Ist" in de.plain(key), key
        assert "empty" not in en.plain(key), key
        assert "without a Current entry" in en.plain(key), key
    # the model supports developing a strategy (S:72-76); it does not hand one over
    for key in ("help", "bot_short_description", "start_private"):
        assert "eure Mass-Customization-Strategie" not in de.plain(key)
        assert "Strategieentwicklung" in de.plain(key)
        assert "your mass customization strategy" not in en.plain(key)
    # English says Current and Target
    for key, template in en.templates.items():
        assert "current-state" not in template, key
        assert "Soll entry" not in template, key
        assert "Soll (target)" not in template, key
    # the plan's step column says whose links they are
    assert "Projekt" in de.plain("plan_steps_note")
    assert "project" in en.plain("plan_steps_note")


@pytest.mark.parametrize("language", ["de", "en"])
def test_one_is_said_in_the_singular(language: str) -> None:
    """`offen sind noch 1 Maßnahmen`, `mit allen 1 Einträgen`: one thing reads as one."""
    from bot.handlers.plan_digest import plan_digest_complete_line
    from bot.handlers.privacy import deleteboard_question

    messages = TEXTS[language]
    one = plan_digest_complete_line(messages, 1)
    many = plan_digest_complete_line(messages, 3)
    asked_one = deleteboard_question(messages, "Citybike", 1)
    asked_many = deleteboard_question(messages, "Citybike", 7)
    if language == "de":
        assert "offen ist noch 1 Maßnahme." in one
        assert "offen sind noch 3 Maßnahmen" in many
        assert "allen 1" not in asked_one
        assert "seinem einen Eintrag" in asked_one
        assert "mit allen 7 Einträgen" in asked_many
    else:
        assert "1 measure is still open" in one
        assert "3 measures are still open" in many
        assert "all 1" not in asked_one
        assert "its one entry" in asked_one
        assert "with all 7 entries" in asked_many
