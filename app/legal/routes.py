"""/obchodni-podminky and /ochrana-osobnich-udaju, each with its past versions."""

from __future__ import annotations

from flask import abort, render_template

from app.citizens.consent import render_text, text_version, text_versions
from app.legal import bp
from app.models import ConsentKind

_PAGES = {
    ConsentKind.TERMS: ("legal.terms", "legal.terms_version"),
    ConsentKind.PRIVACY: ("legal.privacy", "legal.privacy_version"),
}


def _page(kind: ConsentKind, version: int | None = None):  # type: ignore[no-untyped-def]
    versions = text_versions(kind)
    current = versions[0]
    if version is None:
        shown = current
    else:
        # A version beyond any real one (or beyond the database's integer) is simply unknown.
        shown = text_version(kind, version) if 0 < version < 100_000 else None
        if shown is None:
            abort(404)
    endpoint, version_endpoint = _PAGES[kind]
    return render_template(
        "legal/text.html",
        text=shown,
        body=render_text(shown.body),
        current=current,
        versions=versions,
        endpoint=endpoint,
        version_endpoint=version_endpoint,
    )


@bp.get("/obchodni-podminky")
def terms():  # type: ignore[no-untyped-def]
    return _page(ConsentKind.TERMS)


@bp.get("/obchodni-podminky/verze/<int:version>")
def terms_version(version: int):  # type: ignore[no-untyped-def]
    return _page(ConsentKind.TERMS, version)


@bp.get("/ochrana-osobnich-udaju")
def privacy():  # type: ignore[no-untyped-def]
    return _page(ConsentKind.PRIVACY)


@bp.get("/ochrana-osobnich-udaju/verze/<int:version>")
def privacy_version(version: int):  # type: ignore[no-untyped-def]
    return _page(ConsentKind.PRIVACY, version)
