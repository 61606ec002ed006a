"""Citizen pages: home → municipality → pay form → review → gateway → return → success.

Each payment page checks the payment's state and redirects to the page of the state it
is in (pay-frontend's state enforcer)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import aliased, contains_eager, selectinload

from app.catalog.cache import entry_etag, municipality_catalog
from app.checkout import bp
from app.checkout.forms import LookupForm, PayForm, ReviewForm, SeveralForm
from app.citizens.consent import ConsentKind, current_text, give_consent
from app.czech import czech, fold
from app.db import autocommit_reads, db_session
from app.extensions import limiter
from app.gateway_accounts.accounts import active_accounts, redirect_origin
from app.identity import current_citizen
from app.identity.session import citizen_in_session
from app.messages import message_for
from app.models import LookupMode, Municipality, OnboardingState, Payment, PaymentState, Region, Service
from app.money import amount_input
from app.obligations.household import (
    describe_household,
    household_from_token,
    household_obligations,
    household_token,
)
from app.obligations.lookup import (
    LookupInputError,
    amount_editable,
    describe_obligation,
    find_obligation,
    obligation_for_payment,
    obligation_token,
)
from app.obligations.reminders import obligation_from_pay_token, read_unsubscribe_token, unsubscribe
from app.payments.cards import confirm_card_payment
from app.payments.create import (
    choose_gateway,
    create_payment,
    create_several_payment,
    find_payment,
    offered_gateways,
    start_payment,
)
from app.payments.errors import CardPaymentError, GatewayUnavailable, PaymentError
from app.payments.status import apply_return, sync_payment
from app.qr import transfer_for_obligation, transfer_for_payment, transfer_for_service
from app.receipts.issuing import item_rows, receipt_for_obligation, receipt_for_payment
from app.regions.brand import NATIONAL, brand_of
from app.regions.branding import catalog_cached, configured_hosts
from gateway import InvalidNotification

S = PaymentState


def _active_service(slug: str, service_slug: str) -> tuple[Municipality, Service]:
    """An active service of an active municipality, in one query (the pay page is the hottest)."""
    row = db_session.execute(
        select(Municipality, Service)
        .options(contains_eager(Municipality.region))  # its brand, in the same statement
        .join(Region, Region.id == Municipality.region_id)
        .join(Service, Service.municipality_id == Municipality.id)
        .where(
            Municipality.slug == slug,
            Municipality.onboarding_state == OnboardingState.ACTIVE,
            Service.slug == service_slug,
            Service.active.is_(True),
        )
    ).first()
    if row is None:
        abort(404)
    return row[0], row[1]


def _payment(external_id: str) -> Payment:
    payment = find_payment(external_id)
    if payment is None:
        abort(404)
    return payment


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    """A host name mapped to a region (REGION_HOSTS, or the region's own ``host``) shows
    that region's home; any other the national one."""
    autocommit_reads()
    host = request.host.split(":", 1)[0].strip().lower()[:253]
    slug = configured_hosts().get(host)
    if slug:
        return _region_home(Region.slug == slug)
    return _national_home(host)


@bp.get("/kraje")
def national_home():  # type: ignore[no-untyped-def]
    """The national home on every host: the regions, and a search of all municipalities."""
    autocommit_reads()
    return _national_home(None)


@bp.get("/kraj/<slug>")
def region_home(slug: str):  # type: ignore[no-untyped-def]
    autocommit_reads()
    if len(slug) > 100:
        abort(404)
    return _region_home(Region.slug == slug)


def _query() -> tuple[str, str]:
    q = (request.args.get("q") or "").strip()[:100]
    return q, fold(q)


def _municipality_rows(folded: str):  # type: ignore[no-untyped-def]
    """Joined municipalities of every region with their active services' count, in Czech
    order, filtered by the folded search text (``search_name``)."""
    stmt = (
        select(Municipality.name, Municipality.slug, Municipality.district, func.count(Service.id), Region.name,
               Region.slug)
        .join(Region, Region.id == Municipality.region_id)
        .outerjoin(Service, (Service.municipality_id == Municipality.id) & Service.active.is_(True))
        .where(Municipality.onboarding_state == OnboardingState.ACTIVE)
        .group_by(Municipality.id, Region.name, Region.slug)
        .order_by(czech(Municipality.name), Municipality.district)
    )
    if folded:
        stmt = stmt.where(Municipality.search_name.contains(folded, autoescape=True))
    return db_session.execute(stmt).all()


def _region_home(which):  # type: ignore[no-untyped-def]
    """One statement: the region (its brand) with its joined municipalities matching the
    search, each with its active services' count, in Czech order."""
    q, folded = _query()
    joined = (Municipality.region_id == Region.id) & (Municipality.onboarding_state == OnboardingState.ACTIVE)
    if folded:
        joined = joined & Municipality.search_name.contains(folded, autoescape=True)
    rows = db_session.execute(
        select(Region, Municipality.name, Municipality.slug, Municipality.district, func.count(Service.id))
        .select_from(Region)
        .outerjoin(Municipality, joined)
        .outerjoin(Service, (Service.municipality_id == Municipality.id) & Service.active.is_(True))
        .where(which)
        .group_by(Region.id, Municipality.id)
        .order_by(czech(Municipality.name), Municipality.district)
    ).all()
    if not rows:
        abort(404)
    region = rows[0][0]
    municipalities = [(name, slug, district, count, region.name, region.slug)
                      for _r, name, slug, district, count in rows if name is not None]
    return render_template("checkout/home.html", municipalities=municipalities, q=q,
                           search_url=url_for("checkout.region_home", slug=region.slug), page_brand=brand_of(region))


def _national_home(host: str | None):  # type: ignore[no-untyped-def]
    """One statement: every region with its joined municipalities and their active
    services, and (on ``host``) the region the host name is mapped to, if any."""
    q, folded = _query()
    active = Municipality.onboarding_state == OnboardingState.ACTIVE
    joined = (select(func.count(Municipality.id)).where(Municipality.region_id == Region.id, active)
              .correlate(Region).scalar_subquery())
    services = (select(func.count(Service.id)).join(Municipality, Municipality.id == Service.municipality_id)
                .where(Municipality.region_id == Region.id, active, Service.active.is_(True))
                .correlate(Region).scalar_subquery())
    mapped = aliased(Region)
    host_region = select(mapped.id).where(mapped.host == (host or "")).scalar_subquery()

    def load() -> list[tuple[Any, ...]]:
        return [
            tuple(r)
            for r in db_session.execute(
                select(Region.name, Region.slug, joined, services, host_region).order_by(czech(Region.name))
            )
        ]

    # Counting a country's services takes tens of milliseconds: kept like the catalogue.
    rows = catalog_cached(("national-home", host or ""), load)
    if host and rows and rows[0][4] is not None:
        return _region_home(Region.id == rows[0][4])
    regions = [(name, slug, count, n_services) for name, slug, count, n_services, _ in rows if count]
    municipalities = _municipality_rows(folded) if folded else []
    return render_template("checkout/home.html", municipalities=municipalities, q=q, regions=regions,
                           search_url=url_for("checkout.national_home"), national=True, page_brand=NATIONAL)


@bp.get("/favicon.ico")
def favicon():  # type: ignore[no-untyped-def]
    # For browsers that ask for it before reading the page's <link rel="icon">.
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/obec/<slug>")
def municipality(slug: str):  # type: ignore[no-untyped-def]
    # The catalogue cache: no database round trip while the entry is fresh.
    entry = municipality_catalog(slug)
    if entry is None:
        abort(404)
    # The page is the same for every visitor without a citizen login or a pending message:
    # an ETag from the catalogue data and the language lets a browser revalidate it, and a
    # match is answered 304 without rendering. no-cache: a browser asks every time, so a
    # deactivated service still disappears within CATALOG_CACHE_SECONDS.
    if not citizen_in_session() and "_flashes" not in session:
        brand = entry.municipality.brand.key if entry.municipality.brand else ""
        etag = hashlib.sha256(
            f"{entry_etag(entry)}|{brand}|{get_locale()}|{request.script_root}".encode()).hexdigest()[:32]
        if etag in request.if_none_match:
            response = current_app.response_class(status=304)
        else:
            response = make_response(_render_municipality(entry))
        response.set_etag(etag)
        response.cache_control.no_cache = True
        return response
    return _render_municipality(entry)


def _render_municipality(entry):  # type: ignore[no-untyped-def]
    return render_template(
        "checkout/municipality.html", municipality=entry.municipality, services=entry.services, catalog=entry
    )


def _obligation_extras(obligation) -> dict:  # type: ignore[no-untyped-def]
    """What the pay page shows beside a found obligation: a paid one's receipt, and the
    payer's open obligations in the municipality to pay together (when more than one)."""
    if obligation is None:
        return {}
    extras: dict = {}
    if obligation.remaining <= 0:
        extras["paid_receipt"] = receipt_for_obligation(obligation)
    household = household_obligations(obligation)
    if len(household) > 1 or (household and obligation.remaining <= 0):
        extras["household"] = describe_household(household)
        extras["household_token"] = household_token(household)
    return extras


def _render_pay(m: Municipality, service: Service, form: PayForm, form_token: str | None, *, obligation=None, status: int = 200, **extra):  # type: ignore[no-untyped-def]
    if "household" not in extra:
        extra.update(_obligation_extras(obligation))
    return (
        render_template(
            "checkout/pay.html",
            municipality=m,
            service=service,
            form=form,
            form_token=form_token or secrets.token_urlsafe(24),
            obligation=describe_obligation(obligation) if obligation is not None else None,
            obligation_token=obligation_token(service, obligation) if obligation is not None else None,
            amount_editable=amount_editable(service),
            # A found obligation is paid under its own variable symbol and remaining amount.
            transfer=transfer_for_obligation(service, obligation) if obligation is not None else transfer_for_service(service),
            # Explicit, because after a lookup the page's own URL is the lookup route.
            pay_action=url_for("checkout.pay", slug=m.slug, service_slug=service.slug),
            **extra,
        ),
        status,
    )


# The pay links (app/paylinks) open this same page, prefilled.
render_pay_page = _render_pay


@bp.route("/obec/<slug>/<service_slug>", methods=["GET", "POST"])
def pay(slug: str, service_slug: str):  # type: ignore[no-untyped-def]
    if request.method == "GET":
        # The form is shown from the catalogue cache; the POST below (and create_payment)
        # check the service in the database again.
        entry = municipality_catalog(slug)
        shown = entry.service(service_slug) if entry is not None else None
        if shown is None:
            abort(404)
        if citizen_in_session():
            autocommit_reads()
        citizen = current_citizen()
        # A logged-in citizen finds their name and e-mail filled in (and may change them).
        form = PayForm.blank(name=citizen.name, email=citizen.email or "") if citizen else PayForm.blank()
        return _render_pay(entry.municipality, shown, form, None, catalog=entry)
    m, service = _active_service(slug, service_slug)
    citizen = current_citizen()
    form = PayForm(request.form)
    try:
        obligation = obligation_for_payment(service, form.obligation_token.data)
    except LookupInputError as exc:
        return _render_pay(m, service, PayForm.blank(), None, status=422, lookup_error=message_for(exc))
    form.check(service, obligation)
    form_token = form.form_token.data or None
    if not form.messages:
        try:
            payment = create_payment(
                service,
                amount=form.amount_value,
                payer_name=form.name.data,
                payer_email=form.email.data,
                form_token=form_token,
                citizen_id=citizen.id if citizen else None,
                obligation=obligation,
            )
        except PaymentError as exc:
            form.messages["form"] = message_for(exc)
        else:
            return redirect(url_for("checkout.review", external_id=payment.external_id), code=303)
    return _render_pay(m, service, form, form_token, obligation=obligation, status=422)


@bp.post("/obec/<slug>/<service_slug>/vyhledat")
@limiter.limit(lambda: current_app.config.get("LOOKUP_RATE_LIMIT", "10 per minute"))
def lookup(slug: str, service_slug: str):  # type: ignore[no-untyped-def]
    """Find what a payer owes by customer ID or variable symbol; shows the masked name only."""
    m, service = _active_service(slug, service_slug)
    if service.lookup_mode == LookupMode.NONE:
        abort(404)
    form = LookupForm(request.form)
    query = form.query
    if not form.validate():
        return _render_pay(m, service, PayForm.blank(), None, status=422, lookup_error=form.error, lookup_query=query[:100])
    obligation = find_obligation(service, query)
    if obligation is None:
        # The same answer for an unknown ID and for another municipality's.
        return _render_pay(m, service, PayForm.blank(), None, lookup_not_found=True, lookup_query=query)
    form = PayForm.blank(amount=amount_input(obligation.remaining))
    return _render_pay(m, service, form, None, obligation=obligation)


@bp.get("/obec/<slug>/<service_slug>/predpis/<token>")
def pay_obligation(slug: str, service_slug: str, token: str):  # type: ignore[no-untyped-def]
    """The pay form for an obligation the citizen's account links to: the link carries the
    same signed token as the form after a lookup."""
    m, service = _active_service(slug, service_slug)
    try:
        obligation = obligation_for_payment(service, token)
    except LookupInputError as exc:
        return _render_pay(m, service, PayForm.blank(), None, status=422, lookup_error=message_for(exc))
    if obligation is None:  # the service has no payer list
        abort(404)
    citizen = current_citizen()
    data = {"name": citizen.name, "email": citizen.email or ""} if citizen else {}
    form = PayForm.blank(amount=amount_input(obligation.remaining), **data)
    return _render_pay(m, service, form, None, obligation=obligation)


@bp.get("/obec/<slug>/<service_slug>/pripominka/<token>")
def pay_reminded(slug: str, service_slug: str, token: str):  # type: ignore[no-untyped-def]
    """The pay link of an e-mail reminder: the obligation's pay page (a longer-lived
    signed link than a lookup's; the form then carries a fresh lookup token)."""
    m, service = _active_service(slug, service_slug)
    obligation = obligation_from_pay_token(service, token)
    if obligation is None:
        return _render_pay(
            m, service, PayForm.blank(), None, status=410, lookup_error=message_for(LookupInputError("expired"))
        )
    return _render_pay(m, service, PayForm.blank(amount=amount_input(obligation.remaining)), None, obligation=obligation)


@bp.route("/pripominky/odhlasit/<token>", methods=["GET", "POST"])
def unsubscribe_reminders(token: str):  # type: ignore[no-untyped-def]
    """The unsubscribe link of every reminder: GET asks (mail scanners open links), POST does it."""
    found = read_unsubscribe_token(token)
    if found is None:
        abort(404)
    municipality, email = found
    done = False
    if request.method == "POST":
        unsubscribe(municipality, email)
        done = True
    return render_template("reminders/unsubscribe.html", municipality=municipality, email=email, done=done)


@bp.post("/obec/<slug>/zaplatit-vice")
def pay_several(slug: str):  # type: ignore[no-untyped-def]
    """Several obligations of one payer in one payment: the ones ticked on the pay page."""
    entry = municipality_catalog(slug, read_only=False)
    if entry is None:
        abort(404)
    form = SeveralForm(request.form)
    try:
        obligations = household_from_token(entry.municipality.id, form.household_token.data)
    except LookupInputError as exc:
        abort(422, description=message_for(exc))
    if not obligations:
        abort(422)
    first = obligations[0]
    m, service = _active_service(slug, first.service.slug)
    form.check(obligations)
    form_token = form.form_token.data or None
    citizen = current_citizen()
    if not form.messages:
        try:
            payment = create_several_payment(
                form.chosen, payer_name=form.name.data, payer_email=form.email.data, form_token=form_token,
                citizen_id=citizen.id if citizen else None,
            )
        except PaymentError as exc:
            form.messages["form"] = message_for(exc)
        else:
            return redirect(url_for("checkout.review", external_id=payment.external_id), code=303)
    pay_form = PayForm.blank(name=form.name.data or "", email=form.email.data or "")
    pay_form.messages = dict(form.messages)
    items = describe_household(obligations)
    return _render_pay(m, service, pay_form, form_token, obligation=first, status=422, household=items,
                       household_token=form.household_token.data, ticked=set(form.keys),
                       **({"paid_receipt": receipt_for_obligation(first)} if first.remaining <= 0 else {}))


def _embedded(payment: Payment) -> bool:
    """The card form is on our page (Stripe.js), not on the gateway's."""
    return not payment.gateway_redirect_url and bool(payment.gateway_client_secret)


def _redirect_by_state(payment: Payment):  # type: ignore[no-untyped-def]
    if payment.state == S.CREATED:
        return redirect(url_for("checkout.review", external_id=payment.external_id))
    if payment.state == S.STARTED and _embedded(payment):
        return redirect(url_for("checkout.card", external_id=payment.external_id))
    if payment.is_paid:
        return redirect(url_for("checkout.success", external_id=payment.external_id))
    return redirect(url_for("checkout.status", external_id=payment.external_id))


def _allow_gateway_redirects(payment: Payment) -> None:
    """The review form's POST ends in a redirect to the gateway's hosted page: CSP
    form-action must name the origins of the municipality's own gateways."""
    g.csp_form_action_extra = [
        o for o in (redirect_origin(a) for a in active_accounts(payment.municipality_id)) if o
    ]


@bp.get("/platba/<external_id>")
def review(external_id: str):  # type: ignore[no-untyped-def]
    payment = _payment(external_id)
    if payment.state != S.CREATED:
        return _redirect_by_state(payment)
    return _review_page(payment)


def _review_page(payment: Payment, *, error: str | None = None, consent_error: str | None = None):  # type: ignore[no-untyped-def]
    _allow_gateway_redirects(payment)
    return render_template(
        "checkout/review.html",
        payment=payment,
        gateways=offered_gateways(payment.service),
        transfer=transfer_for_payment(payment),
        items=item_rows(payment),
        terms=current_text(ConsentKind.TERMS),
        privacy=current_text(ConsentKind.PRIVACY),
        error=error,
        consent_error=consent_error,
    )


@bp.post("/platba/<external_id>")
def start(external_id: str):  # type: ignore[no-untyped-def]
    payment = _payment(external_id)
    if payment.state == S.STARTED and payment.gateway_redirect_url:
        return redirect(payment.gateway_redirect_url, code=303)
    if payment.state != S.CREATED:
        return _redirect_by_state(payment)
    form = ReviewForm(request.form, offered=offered_gateways(payment.service))
    if not form.validate():
        return _review_page(payment, error=form.gateway_error, consent_error=form.consent_error), 422
    chosen = form.chosen_gateway
    if chosen is not None:
        try:
            choose_gateway(payment, chosen)
        except PaymentError:
            return _review_page(payment, error=_("Vyberte jeden z nabízených způsobů platby.")), 422
    base = current_app.config["BASE_URL"].rstrip("/")
    return_url = base + url_for("checkout.status", external_id=payment.external_id)
    if payment.gateway_account is not None:
        # The municipality's own account: its notifications are verified with its secret.
        notify_url = base + url_for(
            "webhooks.receive_for_account", gateway_name=payment.gateway_name, account_id=payment.gateway_account.public_id
        )
    else:
        notify_url = base + url_for("webhooks.receive", gateway_name=payment.gateway_name)
    citizen = current_citizen()
    # Recorded in the transaction that starts the payment.
    give_consent(payment, citizen_id=citizen.id if citizen else None)
    try:
        payment = start_payment(payment, return_url=return_url, notify_url=notify_url)
    except GatewayUnavailable:
        message = _(
            "Platební brána teď neodpovídá. Zkuste to prosím za chvíli znovu, nebo zaplaťte převodem "
            "podle údajů níže. Vaše platba zůstává uložena."
        )
        return _review_page(payment, error=message), 503
    if payment.state != S.STARTED:
        return _redirect_by_state(payment)
    if payment.gateway_redirect_url:
        return redirect(payment.gateway_redirect_url, code=303)
    return redirect(url_for("checkout.card", external_id=payment.external_id), code=303)


@bp.get("/platba/<external_id>/stav")
def status(external_id: str):  # type: ignore[no-untyped-def]
    """The return page: ask the gateway, then show the real state."""
    payment = _payment(external_id)
    if payment.state == S.CREATED:
        return _redirect_by_state(payment)
    if request.args and payment.gateway_reference:
        # Parameters the gateway sent the payer back with (GP webpay signs them).
        try:
            payment = apply_return(payment, request.args)
        except InvalidNotification:
            abort(400)
    elif payment.can_become_paid:
        payment = sync_payment(payment, source="return page")
    if payment.is_paid:
        return redirect(url_for("checkout.success", external_id=payment.external_id))
    # While the card payment waits or after it failed, a bank transfer is offered instead.
    transfer = transfer_for_payment(payment) if payment.state in (S.STARTED, S.FAILED) else None
    return render_template("checkout/status.html", payment=payment, transfer=transfer)


@bp.get("/platba/<external_id>/zaplaceno")
def success(external_id: str):  # type: ignore[no-untyped-def]
    payment = _payment(external_id)
    if not payment.is_paid:
        return _redirect_by_state(payment)
    return render_template(
        "checkout/success.html", payment=payment, receipt=receipt_for_payment(payment), items=item_rows(payment)
    )


@bp.get("/platba/<external_id>/karta")
def card(external_id: str):  # type: ignore[no-untyped-def]
    """Card fields from the gateway's own script (Stripe.js): card data goes from the
    browser to Stripe; our server only receives the token (static/card.js)."""
    payment = _payment(external_id)
    if payment.state != S.STARTED or not _embedded(payment):
        return _redirect_by_state(payment)
    publishable_key = current_app.config.get("STRIPE_PUBLISHABLE_KEY")
    if payment.gateway_account is not None:
        # The municipality's own Stripe account (the publishable key is not a secret).
        publishable_key = (payment.gateway_account.settings or {}).get("publishable_key") or publishable_key
    js_url = current_app.config.get("STRIPE_JS_URL")
    return (
        render_template("checkout/card.html", payment=payment, publishable_key=publishable_key, stripe_js_url=js_url),
        200 if publishable_key and js_url else 503,
    )


@bp.post("/platba/<external_id>/karta/potvrdit")
@limiter.limit("10 per minute")
def confirm_card(external_id: str):  # type: ignore[no-untyped-def]
    """JSON endpoint for card.js: {"token": "tok_…"} → {state, requires_action, client_secret, next}."""
    payment = _payment(external_id)
    data = request.get_json(silent=True)
    token = data.get("token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token or len(token) > 255:
        return jsonify(error=_("Chybí údaje o kartě. Zadejte je prosím znovu."), code="missing_token"), 400
    try:
        result = confirm_card_payment(payment, token)
    except CardPaymentError as exc:
        message = message_for(exc)
        # A bad token is the browser's fault; a payment in the wrong state is a conflict;
        # anything else is the gateway's trouble and may pass on a retry.
        status = 400 if exc.code == "invalid_card_token" else 409 if not exc.retryable else 502
        return jsonify(error=message, code=exc.code), status
    return jsonify(
        state=result.state,
        requires_action=result.requires_action,
        client_secret=result.client_secret,
        next=url_for("checkout.status", external_id=payment.external_id),
    )


__all__ = ["flash", "selectinload"]
