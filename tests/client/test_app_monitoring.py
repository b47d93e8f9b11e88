"""Help us check the score is fair, in a real browser against the real API: the plain
explanation, volunteering an age band and a sex, seeing them again after a reload, changing
one to "Prefer not to say", withdrawing them (erased), in English and in Spanish."""

import re

import pytest
from playwright.sync_api import Page, expect

from governance import monitoring
from governance.models import MonitoringAttributes
from tests.client.test_app_account import log_in_es
from tests.client.test_app_basics import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def test_volunteer_see_again_after_reload_and_withdraw(
    phone, citizen, accessible, screenshots
) -> None:
    # Given a signed-in citizen on Account and security
    log_in(phone, citizen.username)
    page = phone.page
    expect(heading(page)).to_have_text(re.compile("Hello"))
    page.get_by_role("link", name="More").click()
    page.get_by_role("link", name=re.compile("Account and security")).click()
    expect(heading(page)).to_have_text("Account and security")

    # When they open "Help us check the score is fair"
    page.get_by_role("link", name=re.compile("Help us check the score is fair")).click()

    # Then it says why, plainly, and that nothing is kept yet
    expect(heading(page)).to_have_text("Help us check the score is fair")
    for words in (
        "It is optional",
        "It is never used to compute your score",
        "It is never shown to merchants",
        "You can change or withdraw it at any time",
        "It is included in your data export.",
    ):
        expect(page.get_by_text(words)).to_be_visible()
    expect(page.get_by_text("You have not told us anything. Nothing is kept.")).to_be_visible()
    expect(page.get_by_label("Age band")).to_have_value("")
    expect(page.get_by_label("Sex", exact=True)).to_have_value("")
    expect(page.get_by_role("button", name="Withdraw my answers")).to_have_count(0)
    accessible(page)

    # When they tell their age band and sex and save
    page.get_by_label("Age band").select_option(label="25 to 34")
    page.get_by_label("Sex", exact=True).select_option(label="Female")
    page.get_by_role("button", name="Save my answers").click()

    # Then they are thanked, and the answers are kept
    expect(page.get_by_role("status").filter(has_text="Saved. Thank you")).to_be_visible()
    expect(page.get_by_text("Your answers are kept for the fairness check only.")).to_be_visible()
    accessible(page)
    page.get_by_role("button", name="Save my answers").evaluate(
        "(button) => button.scrollIntoView({block: 'center'})"
    )
    screenshots(page, "30-monitoring", top=False)
    phone.settle()
    kept = MonitoringAttributes.objects.get(user=citizen)
    assert (kept.age_band, kept.sex) == ("25-34", "female")

    # When they reload the screen
    page.reload()

    # Then their answers are shown again
    expect(heading(page)).to_have_text("Help us check the score is fair")
    expect(page.get_by_label("Age band")).to_have_value("25-34")
    expect(page.get_by_label("Sex", exact=True)).to_have_value("female")

    # When they prefer not to say their sex any more
    page.get_by_label("Sex", exact=True).select_option(label="Prefer not to say")
    page.get_by_role("button", name="Save my answers").click()
    expect(page.get_by_role("status").filter(has_text="Saved. Thank you")).to_be_visible()
    phone.settle()
    kept.refresh_from_db()
    assert (kept.age_band, kept.sex) == ("25-34", "")

    # When they withdraw (asked first)
    page.get_by_role("button", name="Withdraw my answers").click()
    page.get_by_role("group").get_by_role("button", name="Erase them").click()

    # Then the answers are erased, and the form is empty again
    expect(page.get_by_role("status").filter(has_text="Your answers are erased.")).to_be_visible()
    expect(page.get_by_text("You have not told us anything. Nothing is kept.")).to_be_visible()
    expect(page.get_by_label("Age band")).to_have_value("")
    expect(page.get_by_role("button", name="Withdraw my answers")).to_have_count(0)
    phone.settle()
    assert not MonitoringAttributes.objects.filter(user=citizen).exists()
    page.reload()
    expect(page.get_by_label("Age band")).to_have_value("")
    expect(page.get_by_label("Sex", exact=True)).to_have_value("")


def test_the_screen_in_spanish(phone_factory, citizen, screenshots) -> None:
    # Given a Spanish-speaking citizen who volunteered an age band only
    monitoring.monitoring_set(user=citizen, age_band="65+", sex=None)
    phone = phone_factory("es-ES")
    log_in_es(phone, citizen.username)

    # When they open the screen
    page = phone.open("monitoring")

    # Then it speaks Spanish, with their answer and "Prefer not to say" for the other
    expect(heading(page)).to_have_text("Ayúdanos a comprobar que la puntuación es justa")
    expect(page.get_by_text("Nunca se muestra a los comercios", exact=False)).to_be_visible()
    expect(page.get_by_label("Grupo de edad")).to_have_value("65+")
    expect(page.get_by_label("Sexo")).to_have_value("")
    expect(page.get_by_label("Sexo").locator("option:checked")).to_have_text("Prefiero no decirlo")
    screenshots(page, "31-monitoring-es")
    phone.settle()
    assert phone.errors == []
