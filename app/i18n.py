"""Marker for strings translated later, at render time (extracted by ``scripts/i18n`` via ``-k N_``)."""


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Return ``message`` unchanged; babel extracts it into the catalogue."""
    return message


def language_switch_url(lang: str) -> str:
    """This page in ``lang``: the same path and query (a search, filters, a page of a
    list) with ``lang`` set, so switching the language keeps what the user was looking at."""
    from urllib.parse import urlencode

    from flask import request

    # ``next`` (where a login goes afterwards) is not echoed into the page.
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k not in ("lang", "next")]
    return "?" + urlencode([*pairs, ("lang", lang)])
