"""The citizen-facing Flask application: ``create_app`` builds it in a fixed order —
config, database, extensions, queue, listeners, gateways, blueprints, CLI."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, render_template, request, request_started
from flask_wtf.csrf import CSRFError

from app import config as config_module
from app.extensions import babel, csrf, limiter, select_locale


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(config_module.from_env())
    if config:
        app.config.update(config)

    init_db(app)
    init_extensions(app)
    init_login(app)
    init_queue(app)
    init_listeners(app)
    init_gateways(app)
    init_blueprints(app)
    init_errors(app)
    init_security_headers(app)
    init_cli(app)
    init_privacy(app)
    return app


def init_db(app: Flask) -> None:
    from app.db import init_db as _init

    _init(app)


def init_extensions(app: Flask) -> None:
    from app.money import format_btc, format_czk, format_rate

    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    if app.config.get("REDIS_URL") and not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "portal")
    # Redis down must not turn the login, the password reset or the lookup into a 500:
    # the limits then count per process in memory until Redis answers again (Flask-Limiter
    # retries it with backoff), and a slow Redis gives up after a second.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    if str(app.config["RATELIMIT_STORAGE_URI"]).startswith(("redis://", "rediss://")):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1})
    limiter.init_app(app)
    init_cache(app)
    app.jinja_env.filters["czk"] = format_czk
    app.jinja_env.filters["btc"] = format_btc
    app.jinja_env.filters["btc_rate"] = format_rate
    from flask_babel import get_locale

    app.jinja_env.globals["get_locale"] = get_locale
    from app.i18n import language_switch_url

    app.jinja_env.globals["language_switch_url"] = language_switch_url
    from app.regions.branding import current_brand

    # The region a public page speaks for (its name, logo, colour, footer).
    app.jinja_env.globals["portal_brand"] = current_brand
    from app.regions import region_display

    app.jinja_env.globals["region_display"] = region_display

    # Every request starts with an empty ``g``, as it does when it has an app context of
    # its own (every request under gunicorn). When an app context outlives a request
    # (tests, clients driven from a script inside ``app.app_context()``), Flask lets the
    # request reuse it, and with it what the previous request left on ``g``: Flask-Login's
    # loaded user, Flask-Babel's locale, the CSRF token, our own per-request values.
    # ``request_started`` is sent before any ``before_request`` function (Flask-Limiter's
    # included), so nothing a request sets is lost; only public API of ``g`` is used.
    request_started.connect(_fresh_request_globals, app, weak=False)

    app.jinja_env.policies["ext.i18n.trimmed"] = True
    from app.fragments import FragmentCacheExtension

    app.jinja_env.add_extension(FragmentCacheExtension)


def init_cache(app: Flask) -> None:
    """Flask-Caching: RedisCache when REDIS_URL is set (shared by every process), else a
    SimpleCache in the process. A slow Redis gives up after a second."""
    from app.extensions import cache

    if app.config.get("REDIS_URL"):
        config = {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": app.config["REDIS_URL"],
            "CACHE_KEY_PREFIX": "portal-cache:",
            "CACHE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    else:
        config = {"CACHE_TYPE": "SimpleCache"}
    config["CACHE_DEFAULT_TIMEOUT"] = 60
    cache.init_app(app, config=config)


def _fresh_request_globals(sender: Flask, **extra: Any) -> None:
    for name in list(g):
        g.pop(name, None)


def init_login(app: Flask) -> None:
    """Staff sessions (the admin area). The id is "<staff id>.<session version>": a
    password change or deactivation bumps the version and ends every session."""
    from datetime import timedelta

    from flask_login import current_user

    from app.extensions import login_manager

    # Flask-Login's own context processor loads the staff user for every template, and its
    # "strong" session protection then rewrites a citizen's session cookie (and clears a
    # remember cookie) on every public page. Templates get the lazy proxy instead: the
    # user is loaded only where a template looks (the admin area).
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(lambda: {"current_user": current_user})
    login_manager.login_view = "admin.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    if not isinstance(app.config.get("PERMANENT_SESSION_LIFETIME"), timedelta):
        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=int(app.config["PERMANENT_SESSION_LIFETIME"]))

    @login_manager.user_loader
    def load_staff(user_id: str):  # type: ignore[no-untyped-def]
        from app.db import db_session
        from app.models import StaffUser

        sid, _, version = user_id.partition(".")
        if not (user_id.isascii() and sid.isdigit() and version.isdigit()) or len(user_id) > 40:
            return None
        user = db_session.get(StaffUser, int(sid))
        if user is None or not user.active or user.session_version != int(version):
            return None
        return user


def init_queue(app: Flask) -> None:
    from app.jobs import init_queue as _init

    _init(app)


def init_gateways(app: Flask) -> None:
    from gateway.demo.hosted import make_blueprint

    if app.config.get("DEMO_GATEWAY_NOTIFIER"):
        app.extensions["demo_gateway_notifier"] = app.config["DEMO_GATEWAY_NOTIFIER"]

    def demo_gateway():  # type: ignore[no-untyped-def]
        from app.gateways import get_gateway

        return get_gateway("demo")

    def demo_texts():  # type: ignore[no-untyped-def]
        from app.gateways import demo_page_texts

        return demo_page_texts()

    bp = make_blueprint(demo_gateway, texts=demo_texts)
    csrf.exempt(bp)
    app.register_blueprint(bp)


def init_listeners(app: Flask) -> None:
    """Payment-transition and session listeners, registered here and nowhere else."""
    from app.listeners import register_listeners

    register_listeners()


def init_blueprints(app: Flask) -> None:
    from admin import bp as admin_bp
    from admin.operator import bp as operator_bp
    from app.account import bp as account_bp
    from app.api import bp as api_bp
    from app.checkout import bp as checkout_bp
    from app.identity import bp as auth_bp
    from app.identity import init_identity
    from app.legal import bp as legal_bp
    from app.paylinks import bp as paylinks_bp
    from app.receipts import bp as receipts_bp
    from app.statistics import bp as statistics_bp
    from app.webhooks import bp as webhooks_bp

    csrf.exempt(webhooks_bp)
    app.register_blueprint(checkout_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(legal_bp)
    app.register_blueprint(receipts_bp)
    init_identity(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(operator_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(paylinks_bp)
    app.register_blueprint(statistics_bp)


def init_errors(app: Flask) -> None:
    def page(code: int, title: str, message: str):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):  # the API's machine-readable shape (app/api/errors.py)
            slug = {
                400: "bad_request",
                403: "forbidden",
                404: "not_found",
                405: "method_not_allowed",
                429: "rate_limited",
                500: "server_error",
            }.get(code, "error")
            return {"error": {"code": slug, "message": message, "field": None, "row": None}}, code
        if request.accept_mimetypes.best == "application/json" or request.path.startswith("/webhooks/"):
            return {"error": message}, code
        return render_template("error.html", code=code, title=title, message=message), code

    from flask_babel import gettext as _

    @app.errorhandler(400)
    def bad_request(e):  # type: ignore[no-untyped-def]
        return page(400, _("Chybný požadavek"), getattr(e, "description", "") or _("Požadavek nelze zpracovat."))

    @app.errorhandler(CSRFError)
    def csrf_error(e):  # type: ignore[no-untyped-def]
        return page(
            400,
            _("Formulář vypršel"),
            _("Platnost formuláře vypršela. Vraťte se zpět, obnovte stránku a odešlete jej znovu."),
        )

    @app.errorhandler(403)
    def forbidden(e):  # type: ignore[no-untyped-def]
        return page(403, _("Přístup odepřen"), _("K této stránce nemáte oprávnění."))

    @app.errorhandler(404)
    def not_found(e):  # type: ignore[no-untyped-def]
        return page(404, _("Stránka nenalezena"), _("Hledaná stránka neexistuje nebo byla odstraněna."))

    @app.errorhandler(405)
    def method_not_allowed(e):  # type: ignore[no-untyped-def]
        return page(405, _("Nepovolená metoda"), _("Tuto akci nelze provést tímto způsobem."))

    @app.errorhandler(429)
    def too_many(e):  # type: ignore[no-untyped-def]
        return page(429, _("Příliš mnoho pokusů"), _("Zkuste to prosím znovu za chvíli."))

    from sqlalchemy.exc import InterfaceError, OperationalError

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(e):  # type: ignore[no-untyped-def]
        # The database restarted or is away: the connection's transaction is gone, and
        # with it anything this request had not committed.
        from app.db import db_session

        db_session.remove()
        if request.method in ("GET", "HEAD") and not g.get("_db_retried"):
            # A read is safe to repeat (the return page's gateway sync is idempotent):
            # once, on a fresh connection (pool_pre_ping drops the dead ones).
            g._db_retried = True
            try:
                return app.make_response(app.dispatch_request())
            except (OperationalError, InterfaceError):
                db_session.remove()
        app.logger.warning("database unavailable on %s %s: %s", request.method, request.path, e.__class__.__name__)
        response = app.make_response(
            page(
                503,
                _("Portál je na okamžik nedostupný"),
                _(
                    "Portál se teď nemůže spojit se svou databází. Zkuste to prosím za chvíli znovu. "
                    "Platba, kterou jste už zaplatili u platební brány, se neztratí: do portálu se doplní sama."
                ),
            )
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(500)
    def server_error(e):  # type: ignore[no-untyped-def]
        return page(500, _("Chyba serveru"), _("Omlouváme se, nastala chyba. Zkuste to prosím znovu."))


def init_security_headers(app: Flask) -> None:
    @app.before_request
    def _reject_nul_bytes() -> None:
        # PostgreSQL refuses text with NUL bytes: a clear 400 instead of a 500, everywhere.
        from flask import abort
        from flask_babel import gettext as _

        if "\x00" in request.path:
            abort(404)  # no page or object has such a name
        values = list(request.args.values())
        has_body = request.environ.get("CONTENT_LENGTH") not in (None, "", "0") or request.environ.get(
            "HTTP_TRANSFER_ENCODING"
        )
        if has_body and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            values += request.form.values()
        if any("\x00" in v for v in values):
            abort(400, _("Požadavek obsahuje nepovolené znaky."))

    from urllib.parse import urlsplit

    # Built once: it depends only on configuration.
    parts = urlsplit(app.config.get("STRIPE_JS_URL") or "")
    stripe_origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    frame_src = stripe_origin or "'none'"
    connect_src = stripe_origin
    if stripe_origin == "https://js.stripe.com":
        # Real Stripe.js talks to its API and runs 3-D Secure in frames of hooks.stripe.com
        # (localstripe serves all of it from its one origin).
        connect_src += " https://api.stripe.com"
        frame_src += " https://hooks.stripe.com"
    # Login and logout forms redirect to the identity providers: CSP form-action
    # applies to those redirects too.
    form_action = " ".join(["'self'", app.config["BASE_URL"], *app.config.get("CSP_FORM_ACTION_ORIGINS", [])])
    csp = (
        "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
        f"script-src 'self' {stripe_origin}; frame-src {frame_src}; "
        f"connect-src 'self' {connect_src}; form-action {form_action}; "
        "frame-ancestors 'none'; base-uri 'self'"
    )

    security = [
        ("Content-Security-Policy", csp),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    hsts = [("Strict-Transport-Security", "max-age=31536000; includeSubDomains")]

    @app.after_request
    def headers(resp):  # type: ignore[no-untyped-def]
        # As setdefault for each, in one pass (a missing key costs werkzeug an exception).
        present = {name.lower() for name, _ in resp.headers}
        extra = g.get("csp_form_action_extra")
        if extra and "content-security-policy" not in present:
            # A page whose form redirects to a municipality's own gateway (GoPay, GP webpay,
            # its BTCPay server): that origin joins form-action for this response only.
            origins = " ".join(sorted(set(extra)))
            resp.headers.add(
                "Content-Security-Policy",
                csp.replace(f"form-action {form_action};", f"form-action {form_action} {origins};"),
            )
            present.add("content-security-policy")
        for name, value in security + hsts if app.config.get("SESSION_COOKIE_SECURE") else security:
            if name.lower() not in present:
                resp.headers.add(name, value)
        return resp


def init_cli(app: Flask) -> None:
    from app.cli import register

    register(app)


def init_privacy(app: Flask) -> None:
    """Retention settings (checked here: a period below a statutory minimum stops the app)
    and ``flask privacy …``."""
    from app.privacy import init_app

    init_app(app)
