"""The accessibility statement itself passes the checks it describes, in both languages,
and is reachable from the footer."""

from __future__ import annotations

import pytest

from tests.browser.helpers import a11y_smoke, horizontal_overflow, run_axe

pytestmark = pytest.mark.browser


def test_statement_is_accessible_in_both_languages(live_server, phone) -> None:  # type: ignore[no-untyped-def]
    live = live_server()
    phone.goto(live.url + "/")
    phone.get_by_role("link", name="Prohlášení o přístupnosti").click()
    phone.wait_for_url("**/prohlaseni-o-pristupnosti")
    for lang in ("cs", "en"):
        if lang == "en":
            phone.goto(live.url + "/accessibility-statement")
            assert phone.locator("h1").inner_text() == "Accessibility statement"
        assert horizontal_overflow(phone) <= 0, lang
        assert a11y_smoke(phone) == [], lang
        assert run_axe(phone) == [], lang
