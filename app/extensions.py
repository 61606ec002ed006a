"""Flask extensions, created unbound and initialised in create_app."""

from __future__ import annotations

import functools

from babel import Locale
from flask import current_app, has_request_context, request, session
from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
login_manager = LoginManager()
# Computed figures shared by the processes (the public statistics): Redis when REDIS_URL
# is set, else each process's memory (configured in create_app).
cache = Cache()


def select_locale() -> Locale:
    """The request's language: ?lang= (remembered in the session), the session's, or the
    default. Returned as a shared Locale object (Flask-Babel would parse a string on
    every request)."""
    if not has_request_context():  # CLI and jobs speak the default language
        return _locale(current_app.config["BABEL_DEFAULT_LOCALE"])
    lang = request.args.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        return _locale(lang)
    lang = session.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        return _locale(lang)
    return _locale(current_app.config["BABEL_DEFAULT_LOCALE"])


@functools.cache
def _locale(code: str) -> Locale:
    return Locale.parse(code)
