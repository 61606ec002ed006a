"""``{% fragment store, "name" %}…{% endfragment %}``: a piece of a template rendered
once and then reused, for markup that is the same for every visitor.

The key is the name, the request's locale and the script root; the store is either a
catalogue entry (``app.catalog.cache.CatalogEntry``: the piece lives and dies with the
entry, so it is never older than the catalogue data it shows; the name must then say which
of the entry's services it shows) or ``"chrome"`` for page chrome that depends on nothing
but the locale and the configuration (kept per application). A ``None`` store renders the
piece every time (a view without a catalogue entry, e.g. a POST). With
``CATALOG_CACHE_SECONDS = 0`` nothing is kept.

Never wrap anything that carries a CSRF token, a form token, form values or errors, a
flash message or anything of the logged-in citizen or staff member.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_babel import get_locale
from jinja2 import Undefined, nodes
from jinja2.ext import Extension
from markupsafe import Markup

MAX_CHROME = 256
_LOCALE = "portal.fragment_locale"  # a view that switches language mid-request must drop it


class FragmentCacheExtension(Extension):
    tags = {"fragment"}

    def parse(self, parser):  # type: ignore[no-untyped-def]
        lineno = next(parser.stream).lineno
        store = parser.parse_expression()
        parser.stream.expect("comma")
        name = parser.parse_expression()
        body = parser.parse_statements(("name:endfragment",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_fragment", [store, name]), [], [], body).set_lineno(lineno)

    def _fragment(self, store: Any, name: str, caller) -> Markup:  # type: ignore[no-untyped-def]
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if not app.config.get("CATALOG_CACHE_SECONDS"):
            return Markup(caller())
        if isinstance(store, str) and store == "chrome":
            cache: dict[tuple[str, str, str], Markup] = app.extensions.setdefault("fragment_cache", {})
            if len(cache) >= MAX_CHROME:
                cache.clear()
        elif not isinstance(store, Undefined) and isinstance(getattr(store, "fragments", None), dict):
            cache = store.fragments
        else:  # no store (None or undefined): render every time
            return Markup(caller())
        locale = request.environ.get(_LOCALE)  # looked up once per request
        if locale is None:
            locale = request.environ[_LOCALE] = str(get_locale())
        key = (name, locale, request.script_root)
        value = cache.get(key)
        if value is None:
            value = cache[key] = Markup(caller())
        return value
