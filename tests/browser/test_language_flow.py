"""The filing flow in Spanish, in Chromium: a browser that asks for Spanish gets the sign-in page,
the filing form (its help, its live counter, its errors) and the confirmation in Spanish; the
switcher, a plain form, turns the pages German and the account keeps it."""

from __future__ import annotations

import pytest
from django.core import mail

from reports.models import Profile, Report
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD, TargetFactory


@pytest.fixture
def spanish_page(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="es-ES")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.mark.django_db(transaction=True)
def test_file_a_report_in_spanish_then_switch_to_german(spanish_page, user, other_user):
    page = spanish_page
    target = TargetFactory(owner=other_user, title="Mensaje en #noche", snapshot_text="vete, perdedor")

    page.goto("/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("h1").inner_text() == "Iniciar sesión"
    sign_in(page, user.username, PASSWORD)

    page.goto(f"/report/new/?target={target.public_id}")
    assert page.locator("h1").inner_text() == "Denunciar este mensaje de chat"
    assert "¿Qué ha pasado?" in page.locator("label[for=id_reason]").inner_text()
    # The live counter speaks Spanish too (its words come from the page, not from the script).
    page.fill("#id_reason", "Me insulta cada noche.")
    assert page.locator("#reason-counter").inner_text().startswith("22 / 1000 caracteres")

    # Sent without a category or the good-faith box: the error summary and the field errors in Spanish.
    page.click("text=Enviar denuncia")
    summary = page.locator("#error-summary")
    assert summary.locator("h2").inner_text() == "Hay 2 problemas"
    assert "Confirma que la denuncia es exacta" in summary.inner_text()

    page.select_option("#id_category", "harassment")
    page.check("#id_good_faith")
    page.click("text=Enviar denuncia")
    page.wait_for_url("**/report/mine/")
    report = Report.objects.get(target=target)
    assert report.language == "es"
    confirmation = page.locator(".messages").inner_text().strip()
    assert confirmation.startswith(f"Denuncia {report.short_id} enviada. La revisaremos antes del ")
    assert page.locator("h1").inner_text() == "Mis denuncias"
    assert page.locator(".report-item .badge").inner_text() == "Pendiente"
    # The confirmation mail went out in Spanish as well.
    assert mail.outbox[-1].subject == f"Hemos recibido tu denuncia {report.short_id}"

    # The switcher, without any script: choose Deutsch and press the button.
    page.select_option("#language-switcher-select", "de")
    page.click(".language-switcher button[type=submit]")
    page.wait_for_url("**/report/mine/")
    assert page.locator("h1").inner_text() == "Meine Meldungen"
    assert page.locator("html").get_attribute("lang") == "de"
    assert Profile.objects.get(user=user).language == "de"
