"""Make docs/screenshots/*.png from a fresh demo database (see scripts/screenshots)."""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

import pyotp
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def main() -> None:
    from app import create_app
    from app.db import Base, db_session
    from app.demo_data import seed_demo, seed_demo_payer_lists, seed_demo_payments
    from app.staff.demo import seed_demo_staff

    tmp = tempfile.mkdtemp(prefix="screenshots-")
    holder: dict = {}
    server = make_server("127.0.0.1", 0, lambda env, sr: holder["app"](env, sr), threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/demo.sqlite3", "BASE_URL": url, "REDIS_URL": None,
                      "SECRET_KEY": "screenshots", "CATALOG_CACHE_SECONDS": 0})
    holder["app"] = app
    with app.app_context():
        Base.metadata.create_all(app.extensions["db_engine"])
        seed_demo()
        seed_demo_payer_lists()
        seed_demo_payments(2025)
        staff: dict = {}
        for s in seed_demo_staff():  # the first of each role: the Liberec Region's operator
            staff.setdefault(s["role"], s)
        db_session.remove()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="cs-CZ",
                                  device_scale_factor=1)
        page = ctx.new_page()
        page.goto(url + "/")
        page.screenshot(path=OUT / "home.png")
        # A household's fees in one payment: the lookup lists them, the review sums them.
        page.goto(url + "/obec/liberec/odpad")
        page.get_by_label("Zákaznické číslo nebo variabilní symbol").fill("1001")
        page.get_by_role("button", name="Vyhledat").click()
        page.wait_for_selector("input[name=item]")
        page.screenshot(path=OUT / "several-fees.png", full_page=True)
        page.get_by_label("Jméno a příjmení plátce").fill("Jana Nováková")
        page.get_by_label("E-mail pro potvrzení o zaplacení").fill("jana.novakova@example.cz")
        page.get_by_role("button", name="Pokračovat").click()
        page.wait_for_url("**/platba/*")
        page.screenshot(path=OUT / "several-fees-review.png", full_page=True)
        # The operator's monthly report (December 2025, the annual report's last month).
        operator = staff["operator"]
        page.goto(url + "/admin/")
        page.get_by_label("E-mail").fill(operator["email"])
        page.get_by_label("Heslo").fill(operator["password"])
        page.get_by_role("button", name="Pokračovat").click()
        page.get_by_label("Šestimístný kód z aplikace").fill(pyotp.TOTP(operator["totp_secret"]).now())
        page.get_by_role("button", name="Přihlásit se").click()
        page.wait_for_url(url + "/admin/")
        page.goto(url + "/admin/operator/zpravy/mesicni?obdobi=2025-12")
        page.screenshot(path=OUT / "operator-monthly-report.png")
        browser.close()
    server.shutdown()
    for png in sorted(OUT.glob("*.png")):
        print(png.relative_to(ROOT))


if __name__ == "__main__":
    main()
