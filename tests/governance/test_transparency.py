"""The public transparency page: anyone (no login) reads the active scorecard, the facts
and what may never be one, each perk's rules in words, the latest fairness audit (ratios
only, small groups named without figures) and the history of activations with their
justifications; in English, Spanish or Chinese; nothing personal, no staff name."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client, override_settings

from scoring.facts import FACTS, NEVER_FACT_KEYS, NEVER_FACTS
from tests.governance.transparency_world import (
    JUSTIFICATION,
    NOW,
    SECRET_COUNT,
    SECRET_MEAN,
    World,
    world_make,
)

pytestmark = pytest.mark.django_db

URL = "/transparency"


@pytest.fixture
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(clock: None) -> World:
    return world_make()


def text(response: object) -> str:
    """The page's visible text, whitespace collapsed (tags out, entities decoded)."""
    body = response.content.decode()  # type: ignore[attr-defined]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def page(client: Client, accept: str = "") -> str:
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE=accept) if accept else client.get(URL)
    assert response.status_code == 200
    return text(response)


def test_anyone_reads_it_without_signing_in_with_or_without_the_slash(world: World) -> None:
    client = Client()
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    slash = client.get(URL + "/")
    assert slash.status_code == 301
    assert slash["Location"] == URL
    assert client.post(URL).status_code == 405


def test_the_page_is_public_and_runs_no_inline_script_or_style(world: World) -> None:
    response = Client().get(URL)
    body = response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "<script" not in body
    assert "<style" not in body
    assert " style=" not in body
    assert re.search(r"\son[a-z]+=", body) is None
    # Not a private page: no personal data, so no no-store.
    assert "no-store" not in response.get("Cache-Control", "")
    assert '<html lang="en">' in body


def test_the_active_scorecard_with_its_factors_bins_and_points(world: World) -> None:
    shown = page(Client())
    assert "Version 2 (“Reliability v2”), in use since Feb. 10, 2026." in shown
    assert "A score is 410 base points" in shown
    assert "between 350 and 950" in shown
    # A factor labelled as its fact is said with the fact's words; the others as written.
    assert "Bills paid on time (12 months) up to 120 points" in shown
    assert "Stays without a problem up to 60 points" in shown
    # Bins: a range of the fact's values, in its unit, and their points.
    assert "0% to 49% 0 50% to 79% 30 80% to 89% 60 90% to 97% 90 98% to 100% 120" in shown
    assert "No bill in the last 12 months 0" in shown
    assert "0 60 1 35 2 15 3 or more 0" in shown
    assert "0 60 1 -280 2 or more -400" in shown
    assert "0 to 89 days 0 90 to 364 days 20" in shown
    assert "1,095 days or more 80" in shown
    assert "Not verified 0 Phone verified 40 Identity document verified 60" in shown
    assert "Excellent 700–950 Very good 650–699 Good 600–649 Fair 550–599 Poor 350–549" in shown  # noqa: RUF001
    # The thin-file rule names the factors it folds.
    assert "“Your credit history is short”" in shown
    assert "Bills paid on time (12 months) Stays without a problem" in shown


def test_the_facts_and_what_may_never_be_one(world: World) -> None:
    shown = page(Client())
    for fact in FACTS.values():
        assert fact.label in shown
        assert fact.description in shown
    assert "Open disputes Records the citizen disputes" in shown
    assert "No: perks' rules may read it" in shown
    for never in NEVER_FACTS:
        assert f"{never.label} {never.why}" in shown


def test_never_facts_are_not_facts_and_each_says_why() -> None:
    assert {"sex", "age", "ethnicity", "religion", "nationality", "health"} <= NEVER_FACT_KEYS
    assert {"wealth", "social", "opinions"} <= NEVER_FACT_KEYS
    assert not NEVER_FACT_KEYS & set(FACTS)
    for never in NEVER_FACTS:
        assert never.why.endswith(".")
        assert len(never.why.split()) >= 8


def test_each_active_perks_rules_in_words_with_the_merchants_messages(world: World) -> None:
    shown = page(Client())
    assert "Harbour Hotel · Deposit waiver" in shown
    assert "Score: at least 600" in shown
    assert "No unpaid claims" in shown
    assert "A verified phone number (or identity document)" in shown
    assert "Band Good: up to 500.00 CNY waived" in shown
    assert "Band Excellent: up to 2,000.00 CNY waived" in shown
    assert "at most 2,000.00 CNY waived" in shown
    # The merchant's own message stays as written.
    assert "the merchant's message: A score of at least 600 is needed." in shown
    assert "Lakeside Bikes · Deposit waiver" in shown
    assert "Band: at least Good" in shown
    assert "Account age: at least 90 days" in shown
    assert "Bills paid on time (12 months): at least 80%" in shown
    assert "Band Excellent: up to 300.00 CNY waived" in shown


def test_the_latest_audit_shows_ratios_only_and_names_small_groups(world: World) -> None:
    response = Client().get(URL)
    shown = text(response)
    assert "The latest audit of what is live, on March 1, 2026." in shown
    assert "The floor: 0.80." in shown
    assert "At least one ratio is under the floor." in shown
    assert "The scorecard (version 2)" in shown
    # Wealth: q1 too small; the others against the highest (0.45 / 0.60 = 0.75).
    assert (
        "Wealth (average wallet balance over 90 days) under the floor "
        "Group Band good or better Lowest fifth too few to show Second fifth 0.75 "
        "Middle fifth 0.83 Fourth fifth 0.92 Highest fifth 1.00 "
        "Ratio (lowest group / highest) 0.75"
    ) in shown
    # Sex: one group left, so no ratio; the small ones named, no figure.
    assert "Female 1.00 Male too few to show Another answer too few to show" in shown
    # A perk's waiver rates, by identity level, labelled in words.
    assert "Harbour Hotel · Deposit waiver" in shown
    assert (
        "Not verified 0.40 0.33 Phone verified 0.80 0.83 Identity document verified 1.00 1.00 "
        "Ratio (lowest group / highest) 0.40 0.33"
    ) in shown
    # Factors against wealth: the proxy is named.
    assert "Stays without a problem" not in shown.split("Factors and wealth")[1]
    assert "Bookings completed (24 months) 0.24 Yes" in shown
    assert "Identity verification 0.93 No" in shown
    # Never counts, means, shares of a group, nor a draft's subject.
    for figure in (str(SECRET_COUNT), str(SECRET_COUNT * 5), "612", "0.0123", "4,321"):
        assert figure not in shown
    assert "Secret Draft Inn" not in shown


def test_without_an_audit_it_says_so(clock: None) -> None:
    world_make(with_audit=False)
    assert "No audit yet." in page(Client())


def test_an_older_audit_or_an_audit_of_a_draft_is_not_the_one_shown(world: World) -> None:
    from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus

    assert world.audit is not None
    # Later, an audit of a draft (not of what is live): the live one stays shown.
    AnalysisRun.objects.create(
        kind=AnalysisKind.AUDIT,
        status=AnalysisStatus.DONE,
        scorecard=world.v1,
        created_at=NOW,
        finished_at=NOW,
        result={"at": NOW.isoformat(), "subjects": [], "floor": 0.8},
    )
    # A failed live audit, later still: not shown either.
    AnalysisRun.objects.create(
        kind=AnalysisKind.AUDIT,
        status=AnalysisStatus.FAILED,
        created_at=NOW,
        error="boom",
    )
    assert "The latest audit of what is live, on March 1, 2026." in page(Client())


def test_the_history_of_activations_with_justifications_newest_first(world: World) -> None:
    shown = page(Client())
    history = shown.split("Activations, newest first")[1]
    assert (
        "Feb. 10, 2026 Scorecard version 2 (“Reliability v2”) in use "
        f"{JUSTIFICATION} (lowest ratio of its audit: 0.78)"
    ) in history
    assert "Jan. 26, 2025 Scorecard version 1 (“Reliability v1”) Feb. 10, 2026 –" in history  # noqa: RUF001
    assert history.index("Scorecard version 2") < history.index("Scorecard version 1")


def test_no_staff_name_and_nothing_personal(world: World) -> None:
    shown = Client().get(URL).content.decode()
    for user in (world.author, world.approver, world.analyst, world.citizen):
        assert user.username not in shown
        if user.email:
            assert user.email not in shown
    for figure in (str(SECRET_COUNT), str(SECRET_MEAN)):
        assert figure not in shown


@pytest.mark.parametrize(
    ("accept", "lang", "words"),
    [
        (
            "es-ES,es;q=0.9,en;q=0.5",
            "es",
            [
                "Cómo puntuamos y con qué equidad",
                "Versión 2 («Reliability v2»), en uso desde el 10 de febrero de 2026.",
                "Facturas pagadas a tiempo (12 meses) hasta 120 puntos",
                "de 90 a 364 días 20",
                "1.095 días o más 80",
                "Sexo o género",
                "Puntuación: al menos 600",
                "Ningún cargo por daños sin pagar",
                "Nivel: al menos Buena",
                "Antigüedad de la cuenta: al menos 90 días",
                "Nivel «Buena»: se exime hasta 500,00",
                "Quinta parte más baja demasiado pocos para mostrarlo",
                "Segunda quinta parte 0,75",
                # Written by people: as written (quoted by <q>).
                "A score of at least 600 is needed.",
                JUSTIFICATION,
                "Stays without a problem",
            ],
        ),
        (
            "zh-CN,zh;q=0.9",
            "zh-hans",
            [
                "我们如何评分，以及是否公平",  # noqa: RUF001
                "按时支付账单比例（12 个月） 最多 120 分",  # noqa: RUF001
                "90 至 364 天 20",
                "余额、收入或财富",
                "评分：至少 600",  # noqa: RUF001
                "没有未付索赔",
                "等级：不低于 良好",  # noqa: RUF001
                "已验证的手机号码（或身份证件）",  # noqa: RUF001
                "最低的五分之一 人数太少，不予显示",  # noqa: RUF001
                "第二个五分之一 0.75",
                JUSTIFICATION,
            ],
        ),
    ],
)
def test_it_answers_in_the_browsers_language(
    world: World, accept: str, lang: str, words: list[str]
) -> None:
    response = Client().get(URL, HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in response.content.decode()
    assert response["Content-Language"] == lang
    assert "Accept-Language" in response["Vary"]
    shown = text(response)
    for word in words:
        assert word in shown, word


def test_the_switcher_sets_the_language_and_the_api_stays_english(world: World) -> None:
    client = Client()
    switched = client.post("/i18n/setlang/", {"language": "zh-hans", "next": URL})
    assert switched.status_code == 302
    assert switched["Location"] == URL
    assert "我们如何评分" in page(client, accept="es")
    # The API is not localised: no Content-Language, English problem details.
    problem = client.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="es")
    assert problem.status_code == 404
    assert "Content-Language" not in problem


@override_settings(LOCALIZED_PATH_PREFIXES=("/merchant/",))
def test_which_paths_are_localised_is_a_setting(world: World) -> None:
    response = Client().get(URL, HTTP_ACCEPT_LANGUAGE="es")
    assert '<html lang="en">' in response.content.decode()
    assert "Content-Language" not in response


def test_its_queries_are_bounded(world: World, django_assert_max_num_queries: Any) -> None:
    client = Client()
    client.get(URL)  # warm: the session, caches
    with django_assert_max_num_queries(8):
        assert client.get(URL).status_code == 200


def test_without_an_active_scorecard_or_perks_it_still_answers(db: None) -> None:
    from scoring.models import Scorecard

    Scorecard.objects.all().update(status="retired")
    shown = page(Client())
    assert "No scorecard is in use at the moment." in shown
    assert "No perk is on offer at the moment." in shown
    assert "No audit yet." in shown
