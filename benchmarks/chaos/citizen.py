"""Citizens and a gateway, over HTTP only: a citizen pays through the demo gateway the way
a browser does (pay form → review → start → the hosted page's "pay" button → return page),
and the gateway's notifications are signed as ``gateway.demo`` signs them."""

from __future__ import annotations

import html
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from gateway.demo import SIGNATURE_HEADER, sign

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM_TOKEN_RE = re.compile(r'name="form_token" value="([^"]+)"')
OBLIGATION_TOKEN_RE = re.compile(r'name="obligation_token" value="([^"]+)"')
AMOUNT_RE = re.compile(r'name="amount"[^>]*value="([^"]*)"')


@dataclass
class Sample:
    started: float
    ended: float
    status: int  # 0: no answer (connection refused or reset, timeout)
    label: str


@dataclass
class Recorder:
    """Every HTTP answer the suite saw, with when it was asked; and the restart windows
    during which a 5xx of a request in flight is excepted."""

    samples: list[Sample] = field(default_factory=list)
    windows: list[tuple[float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, started: float, ended: float, status: int, label: str) -> None:
        with self.lock:
            self.samples.append(Sample(started, ended, status, label))

    def mark(self) -> int:
        with self.lock:
            return len(self.samples)

    def since(self, mark: int) -> list[Sample]:
        with self.lock:
            return list(self.samples[mark:])

    def in_window(self, s: Sample) -> bool:
        return any(s.started <= end and s.ended >= start for start, end in self.windows)


class FlowError(Exception):
    pass


@dataclass(frozen=True)
class Service:
    municipality: str
    slug: str
    amount: int


class Client:
    """A browser: one session (cookies), redirects followed by hand so each answer counts."""

    def __init__(self, web: str, recorder: Recorder, relay_port: int | None = None) -> None:
        self.web = web.rstrip("/")
        self.recorder = recorder
        self.relay_netloc = f"127.0.0.1:{relay_port}" if relay_port else None
        self.http = requests.Session()

    def _path(self, url: str) -> str:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def request(self, method: str, url: str, label: str, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
        started = time.time()
        try:
            resp = self.http.request(method, self.web + self._path(url), allow_redirects=False, timeout=30, **kwargs)
        except requests.RequestException as exc:
            self.recorder.record(started, time.time(), 0, label)
            raise FlowError(f"{label}: {exc.__class__.__name__}") from None
        self.recorder.record(started, time.time(), resp.status_code, label)
        return resp

    def expect(self, resp: requests.Response, *codes: int, label: str) -> requests.Response:
        if resp.status_code not in codes:
            raise FlowError(f"{label}: HTTP {resp.status_code}")
        return resp


@dataclass
class Paid:
    external_id: str
    reference: str
    outcome: str


def pay(
    client: Client,
    service: Service,
    *,
    outcome: str = "pay",
    visit_return: bool = True,
    name: str = "Jana Nováková",
    fast: bool = False,
    customer_id: str | None = None,
) -> Paid:
    """One citizen's payment through the demo gateway. Raises FlowError on an answer a
    browser would not expect (the citizen gives up there).

    ``fast``: only the POSTs (pay form, start, the gateway's pay button), with the
    session's CSRF token from its first page and a form token of our own: for making many
    payments quickly (the notification storm, the benchmark).
    ``customer_id``: the citizen looks up their obligation (předpis) first and pays it."""
    c = client
    csrf = getattr(c, "csrf", None) if fast else None
    if csrf is None:
        page = c.expect(
            c.request("GET", f"/obec/{service.municipality}/{service.slug}", "pay form"), 200, label="pay form"
        )
        found, token = CSRF_RE.search(page.text), FORM_TOKEN_RE.search(page.text)
        if not found or not token:
            raise FlowError("pay form: no tokens")
        csrf, form_token = found.group(1), token.group(1)
        c.csrf = csrf  # type: ignore[attr-defined]
    else:
        form_token = secrets.token_urlsafe(24)
    data = {
        "csrf_token": csrf,
        "form_token": form_token,
        "name": name,
        "email": "jana@example.cz",
        "amount": f"{service.amount // 100}",
    }
    if customer_id is not None:
        page = c.expect(
            c.request(
                "POST",
                f"/obec/{service.municipality}/{service.slug}/vyhledat",
                "lookup",
                data={"csrf_token": csrf, "customer_id": customer_id},
            ),
            200,
            label="lookup",
        )
        found, token, amount = (rx.search(page.text) for rx in (OBLIGATION_TOKEN_RE, FORM_TOKEN_RE, AMOUNT_RE))
        if not found or not token:
            raise FlowError(f"lookup: obligation {customer_id} not found")
        data.update(
            obligation_token=html.unescape(found.group(1)),
            form_token=html.unescape(token.group(1)),
            amount=html.unescape(amount.group(1)) if amount else "",
        )
    r = c.expect(
        c.request("POST", f"/obec/{service.municipality}/{service.slug}", "pay form post", data=data),
        303,
        label="pay form post",
    )
    review_url = r.headers["Location"]
    external_id = urlsplit(review_url).path.rstrip("/").rsplit("/", 1)[-1]
    if not fast:
        page = c.expect(c.request("GET", review_url, "review"), 200, label="review")
        found = CSRF_RE.search(page.text)
        if not found:
            raise FlowError("review: no token")
        csrf = found.group(1)
    r = c.expect(
        c.request("POST", review_url, "start", data={"csrf_token": csrf, "consent": "yes", "gateway": "demo"}),
        303,
        label="start",
    )
    hosted = r.headers["Location"]
    if "/demo-gateway/" not in hosted:
        raise FlowError(f"start: redirected to {hosted}")
    reference = urlsplit(hosted).path.rsplit("/", 1)[-1]
    if not fast:
        c.expect(c.request("GET", hosted, "gateway page"), 200, label="gateway page")
    r = c.expect(c.request("POST", hosted, "gateway pay", data={"action": outcome}), 303, label="gateway pay")
    if visit_return:
        back = c.expect(c.request("GET", r.headers["Location"], "return page"), 200, 302, 303, label="return page")
        if back.status_code in (302, 303):
            c.expect(c.request("GET", back.headers["Location"], "success page"), 200, label="success page")
    return Paid(external_id, reference, outcome)


def notification(
    secret: str, reference: str, event_id: str, event_type: str = "payment.paid"
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {"id": event_id, "type": event_type, "reference": reference, "created": int(time.time())}
    ).encode()
    return body, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)}


def notify(client: Client, secret: str, reference: str, event_id: str, event_type: str = "payment.paid") -> int:
    """The gateway's notification, sent (or replayed) by the suite; the answer's status."""
    body, headers = notification(secret, reference, event_id, event_type)
    try:
        return client.request("POST", "/webhooks/demo", "notify:replay", data=body, headers=headers).status_code
    except FlowError:
        return 0
