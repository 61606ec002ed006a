"""Generated input to every route and webhook: no answer is ever a 500.

Walks ``app.url_map``: every rule, GET and POST, as an anonymous visitor, a logged-in
clerk and an operator, with generated path values (real ones among them, so the pages
behind the 404s are reached too), query strings, form bodies and uploaded files. A
second test sends validly signed demo notifications with generated values. Hypothesis
is derandomised (the same inputs on every run) and the example counts are small, so the
suite stays under a minute; a 500 or an exception is collected, not shrunk, and all of
them are reported at once."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.db import db_session
from app.models import LookupMode, PaymentState
from app.obligations.importing import import_obligations
from app.receipts.issuing import issue_receipt
from gateway.demo import SIGNATURE_HEADER, sign
from tests.admin.staff_helpers import login, make_staff
from tests.factories import make_municipality, make_payment, make_service

EXAMPLES_PER_ROUTE = 2  # generated, besides the NASTY ones every route gets
SETTINGS = settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# Names the forms and filters read, so generated bodies reach the validation code.
FIELD_NAMES = [
    "action",
    "active",
    "admin_email",
    "admin_name",
    "after",
    "allow_partial",
    "allowed_gateways",
    "amount",
    "amount_match",
    "amount_max",
    "amount_min",
    "amount_mode",
    "before",
    "code",
    "confirm",
    "consent",
    "constant_symbol",
    "cursor",
    "customer_id",
    "date",
    "date_from",
    "date_to",
    "description",
    "district",
    "due_date",
    "email",
    "expired",
    "form_token",
    "format",
    "gateway",
    "ico",
    "lang",
    "lookup_mode",
    "mode",
    "municipality",
    "municipality_id",
    "name",
    "next",
    "note",
    "obdobi",
    "obligation_token",
    "outcome",
    "password",
    "password2",
    "payer",
    "period",
    "q",
    "reason",
    "ref",
    "role",
    "rok",
    "service",
    "slug",
    "sort",
    "staff",
    "state",
    "stav",
    "token",
    "variable_symbol",
    "vs_rule",
    "account",
]
SPECIAL = [
    "",
    "0",
    "-1",
    "1e9",
    "99999999999999999999",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-13",
    "2026-01",
    "=1+1",
    "\x1b[31m",
    "a\x00b",
    "../../etc/passwd",
    "//evil.example/",
    "/%09/evil.example/",
    "' OR 1=1 --",
    "x" * 300,
    "<script>alert(1)</script>",
    "NaN",
    "1,5",
    "12 345,67",
    "Z-1",
    "demo",
    "stripe",
    "paid",
    "csv",
    "xlsx",
    "yes",
    "1",
    "on",
    "y",
    "live",
    "operator",
    "clerk",
    "required",
    "fixed",
    "payer",
    "\u202e",
    "😀",
    "%00",
    "2026-01-01",
]
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
VALUE = st.one_of(st.sampled_from(SPECIAL), TEXT)
KEY = st.one_of(st.sampled_from(FIELD_NAMES), st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8))
FIELDS = st.dictionaries(KEY, VALUE, max_size=6)
UPLOAD = st.one_of(
    st.none(),
    st.tuples(
        st.one_of(
            st.binary(max_size=300),
            st.sampled_from([b"Z\xe1kaznick\xe9 \xe8\xedslo;Jm\xe9no;\xc8\xe1stka\n1;A;=1+1\n"]),
        ),
        st.sampled_from(["seznam.csv", "seznam.xlsx", "x", "a\x1bb.csv"]),
    ),
)
DATE_FIELDS = {"date", "date_from", "date_to", "due_date", "after", "before", "obdobi", "rok"}
NUMBER_FIELDS = {"amount", "amount_min", "amount_max", "service", "municipality", "municipality_id", "cursor"}


def _nasty(day: str, number: str, text: str) -> dict[str, str]:
    return {k: day if k in DATE_FIELDS else number if k in NUMBER_FIELDS else text for k in FIELD_NAMES}


# Sent to every route as query and form (the classes of input that once gave 500s:
# dates that overflow, huge numbers, control characters, formula prefixes, long text).
NASTY = [
    (
        _nasty("0001-01-01", "99999999999999999999", "=1+1\x1b[31m"),
        (b"Z\xe1kaznick\xe9 \xe8\xedslo;Jm\xe9no;\xc8\xe1stka\nZ-9;=A\x1b;1\n", "seznam.csv"),
    ),
    (_nasty("9999-12-31", "-1", "x" * 300), (b"PK\x03\x04broken", "seznam.xlsx")),
]
INTS = [0, 1, 2, 3, 7, 2**31, 2**63 - 1, 10**30]
SKIP_WHEN_LOGGED_IN = {"admin.logout", "auth.logout"}  # would end the session under test
FORMATS = ["csv", "xlsx", "html", "json", "x"]  # never "pdf": rendering one takes a second


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    """Real objects, so generated paths also reach pages behind their 404s."""
    m = make_municipality(slug="obec-fuzz")
    s = make_service(m, slug="odpad", lookup_mode=LookupMode.OPTIONAL)
    csv = "Zákaznické číslo;Jméno;Částka;Splatnost;Variabilní symbol\nZ-1;Jana Nováková;1 250,50;31. 12. 2099;2099001\n"
    import_obligations(s, csv.encode(), "seznam.csv")
    created = make_payment(s)
    paid = make_payment(s, state=PaymentState.PAID, gateway_reference="demo_fuzz_paid")
    receipt = issue_receipt(paid)
    db_session.commit()
    clerk = make_staff("clerk", m)
    operator = make_staff("operator")
    other = make_staff("clerk", m)
    values: dict[str, list[Any]] = {
        "slug": [m.slug, m.region.slug],  # a municipality and its region (/kraj/<slug>/statistiky)
        "service_slug": [s.slug],
        "external_id": [created.external_id, paid.external_id],
        "token": [receipt.token],
        "gateway_name": ["demo", "stripe"],
        "provider_name": ["bankid", "nia"],
        "reference": ["demo_fuzz_paid"],
        "filename": ["portal.css"],
        "fmt": FORMATS,
        "period": ["2026-01", "0001-01", "9999-12"],
        "service_id": [s.id],
        "municipality_id": [m.id],
        "mid": [m.id],
        "staff_id": [other.id],  # never the user's own: deactivating it would end the run
    }
    return {"values": values, "clerk": clerk, "operator": operator}


def _path_values(rule, known: dict[str, list[Any]]) -> st.SearchStrategy[dict[str, Any]]:  # type: ignore[no-untyped-def]
    parts = {}
    for name, converter in rule._converters.items():
        real = known.get(name, [])
        if type(converter).__name__ == "IntegerConverter":
            ints = [v for v in real if isinstance(v, int)] + ([] if name == "staff_id" else INTS)
            parts[name] = st.sampled_from(ints or [999999])
        elif name == "fmt":
            parts[name] = st.sampled_from(FORMATS)
        else:
            parts[name] = st.one_of(st.sampled_from(real), TEXT.filter(bool)) if real else TEXT.filter(bool)
    return st.fixed_dictionaries(parts)


def _request(client, adapter, rule, method: str, path: dict, query: dict, form: dict, upload) -> tuple[str, Any]:  # type: ignore[no-untyped-def]
    try:
        url = adapter.build(rule.endpoint, path, method=method)
    except Exception:  # noqa: BLE001 - a value the converter cannot put in a URL
        return "", None
    data: dict[str, Any] = dict(form)
    if upload is not None:
        data["file"] = (io.BytesIO(upload[0]), upload[1])
    try:
        if method == "GET":
            r = client.get(url, query_string=query)
        else:
            r = client.post(url, query_string=query, data=data)
        return url, r.status_code
    except Exception as exc:  # noqa: BLE001 - an exception is a 500 in production
        db_session.rollback()
        return url, exc


def _fuzz_route(client, adapter, rule, method: str, known: dict[str, list[Any]], failures: list[str]) -> None:  # type: ignore[no-untyped-def]
    def one(path: dict, query: dict, form: dict, upload: Any) -> None:  # type: ignore[type-arg]
        url, outcome = _request(client, adapter, rule, method, path, query, form, upload if method == "POST" else None)
        if isinstance(outcome, Exception) or outcome == 500:
            failures.append(f"{method} {url} {query!r} {form!r} -> {outcome!r}")

    test = SETTINGS(given(path=_path_values(rule, known), query=FIELDS, form=FIELDS, upload=UPLOAD)(one))
    real_path = {name: (known.get(name) or [1])[0] for name in rule._converters}
    for fields, upload in NASTY:
        test = example(path=real_path, query=fields, form=fields, upload=upload)(test)
    test()


def _walk(app, client, known: dict[str, list[Any]], *, logged_in: bool) -> list[str]:  # type: ignore[no-untyped-def]
    failures: list[str] = []
    adapter = app.url_map.bind("localhost")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if logged_in and rule.endpoint in SKIP_WHEN_LOGGED_IN:
            continue
        for method in ("GET", "POST"):
            if method in rule.methods:
                _fuzz_route(client, adapter, rule, method, known, failures)
    return failures


def _check(failures: list[str]) -> None:
    assert not failures, f"{len(failures)} answers were 500:\n" + "\n".join(failures[:40])


def test_no_route_answers_500_to_an_anonymous_visitor(app, world) -> None:  # type: ignore[no-untyped-def]
    _check(_walk(app, app.test_client(), world["values"], logged_in=False))


@pytest.mark.parametrize("role", ["clerk", "operator"])
def test_no_route_answers_500_to_staff(app, world, role: str) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    login(client, world[role])
    failures = _walk(app, client, world["values"], logged_in=True)
    # Still logged in at the end: the walk did test the staff's pages.
    assert client.get("/admin/").status_code == 200
    _check(failures)


JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), VALUE),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=5,
)


def test_signed_demo_notifications_with_generated_values_never_500(app, world) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    secret = app.config["DEMO_GATEWAY_SECRET"]
    failures: list[str] = []

    @settings(max_examples=80, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(
        event_id=JSON_VALUE,
        event_type=st.one_of(st.sampled_from(["payment.paid", "payment.failed", "payment.cancelled"]), JSON_VALUE),
        reference=st.one_of(st.just("demo_fuzz_paid"), JSON_VALUE),
        extra=st.dictionaries(TEXT, JSON_VALUE, max_size=2),
    )
    def one(event_id: Any, event_type: Any, reference: Any, extra: dict) -> None:
        body = json.dumps(
            {**extra, "id": event_id, "type": event_type, "reference": reference, "created": int(time.time())}
        ).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)}
        try:
            status: Any = client.post("/webhooks/demo", data=body, headers=headers).status_code
        except Exception as exc:  # noqa: BLE001
            db_session.rollback()
            status = exc
        if isinstance(status, Exception) or status == 500:
            failures.append(f"{body!r} -> {status!r}")

    one()
    _check(failures)


__all__: list[Callable[..., Any]] = []
