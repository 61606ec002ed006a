"""Public statistics pages and their open data, for the country and for each region.

Every answer carries an ETag (from the figures, and the language for the page) and a
Last-Modified (when the figures were computed) and is public for
``STATISTICS_CACHE_SECONDS``; a matching conditional GET is answered 304 unrendered."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime

from babel.numbers import format_compact_decimal
from flask import Response, abort, current_app, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from redis.exceptions import RedisError
from sqlalchemy import select

from app.db import db_session
from app.extensions import cache
from app.identity.session import citizen_in_session
from app.models import Region
from app.reporting.charts import column_chart, hbar_chart
from app.reporting.monthly import month_name
from app.statistics import bp
from app.statistics.channels import CHANNEL_LABELS, CHANNELS
from app.statistics.figures import YearFigures, area_of, available_years, year_figures
from app.statistics.opendata import LICENCE_LINK, LICENCE_NAME, LICENCE_URL, csvw_metadata, to_csv, to_json
from app.timeutil import prague_today


def _region(slug: str) -> Region:
    region = db_session.scalar(select(Region).where(Region.slug == slug)) if len(slug) <= 100 else None
    if region is None:
        abort(404)
    return region


def _year_arg(years: list[int]) -> int | None:
    """?rok=YYYY: None when absent; 400 when not a year; 404 when the portal has no such year."""
    text = request.args.get("rok", "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        abort(400, _("Rok musí být čtyřmístné číslo, například %(y)s.", y=prague_today().year))
    year = int(text)
    if year not in years:
        abort(
            404,
            _("Statistiky za rok %(y)s nejsou: portál má údaje za roky %(a)s–%(b)s.", y=year, a=years[0], b=years[-1]),
        )
    return year


def _conditional(tag: str, modified: datetime, build: Callable[[], Response]) -> Response:
    """304 when the client has this version (If-None-Match, else If-Modified-Since)."""
    modified = modified.replace(microsecond=0)
    if request.if_none_match:
        fresh = request.if_none_match.contains_weak(tag)
    else:
        fresh = request.if_modified_since is not None and modified <= request.if_modified_since
    response = current_app.response_class(status=304) if fresh else build()
    response.set_etag(tag)
    response.last_modified = modified
    response.cache_control.public = True
    response.cache_control.max_age = max(int(current_app.config.get("STATISTICS_CACHE_SECONDS", 60)), 0)
    return response


def _tag(figures: Sequence[YearFigures], *extra: str) -> str:
    text = "|".join([*(f.digest for f in figures), *extra])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# -- pages -------------------------------------------------------------------------------
@bp.get("/statistiky")
def country():  # type: ignore[no-untyped-def]
    return _page(None)


@bp.get("/kraj/<slug>/statistiky")
def region(slug: str):  # type: ignore[no-untyped-def]
    return _page(_region(slug))


def _page(region: Region | None) -> Response:
    years = available_years()
    year = _year_arg(years) or years[-1]
    fig = year_figures(year, region)
    if citizen_in_session() or "_flashes" in session:
        # The header names the citizen's account (or shows a message): not for shared caches.
        response = current_app.make_response(_render(fig, region, years))
        response.cache_control.private = True
        response.cache_control.no_cache = True
        return response
    locale = str(get_locale())
    tag = _tag([fig], "page", locale, request.script_root, ",".join(map(str, years)))
    return _conditional(tag, fig.modified_at, lambda: current_app.make_response(_rendered(tag, fig, region, years)))


def _rendered(tag: str, fig: YearFigures, region: Region | None, years: list[int]) -> str:
    """The page, kept in the cache beside the figures: the same for every anonymous visitor
    of that version, language and year (its only query; any other query is rendered
    afresh, as the language link keeps it)."""
    timeout = int(current_app.config.get("STATISTICS_CACHE_SECONDS", 60))
    if timeout <= 0 or not set(request.args) <= {"rok", "lang"}:
        return _render(fig, region, years)
    key = f"statistics:page:{tag}:{request.args.get('rok', '')}:{len(years)}"
    try:
        html = cache.get(key)
    except RedisError:
        return _render(fig, region, years)
    if not isinstance(html, str):
        html = _render(fig, region, years)
        try:
            cache.set(key, html, timeout=timeout)
        except RedisError:
            pass
    return html


def _render(fig: YearFigures, region: Region | None, years: list[int]) -> str:
    months = fig.months()
    total = fig.year_total()
    label = lambda m: month_name(m.month.month, "abbreviated")  # noqa: E731
    locale = get_locale()
    count_chart = column_chart(
        [(label(m), m.total.count) for m in months],
        value_text=lambda v: format_compact_decimal(v, locale=locale, fraction_digits=1),
        title=_("Počet plateb po měsících roku %(y)s", y=fig.year),
        caption=_("Počet zaplacených plateb v jednotlivých měsících (všechny kanály); čísla jsou v tabulce níže."),
    )
    volume_chart = column_chart(
        [(label(m), m.total.volume) for m in months],
        title=_("Objem plateb po měsících roku %(y)s", y=fig.year),
        value_text=lambda v: format_compact_decimal(v // 100, locale=locale, fraction_digits=1),
        caption=_("Objem zaplacených plateb v Kč po měsících (zaokrouhleno); přesné částky jsou v tabulce níže."),
    )
    channel_chart = hbar_chart(
        [(_(CHANNEL_LABELS[c]), total.channels[c].count) for c in CHANNELS],
        title=_("Platby roku %(y)s podle kanálu", y=fig.year),
        width=440,  # three bars: legible on a phone
        caption=_("Počet plateb roku podle platebního kanálu."),
    )
    endpoint = "statistics.country" if region is None else "statistics.region"
    data_args = {} if region is None else {"slug": region.slug}
    return render_template(
        "statistics/page.html",
        fig=fig,
        region=region,
        area=area_of(region),
        years=years,
        months=months,
        total=total,
        regions=fig.by_region() if region is None else [],
        channels=[(c, _(CHANNEL_LABELS[c])) for c in CHANNELS],
        charts={"count": count_chart, "volume": volume_chart, "channels": channel_chart},
        page_endpoint=endpoint,
        data_urls={fmt: url_for(f"{endpoint}_{fmt}", **data_args) for fmt in ("csv", "json")},
        year_data_urls={fmt: url_for(f"{endpoint}_{fmt}", rok=fig.year, **data_args) for fmt in ("csv", "json")},
        schema_url=url_for(f"{endpoint}_csvw", **data_args),
        licence_name=LICENCE_NAME,
        licence_url=LICENCE_URL,
        num=lambda n: f"{n:,}".replace(",", "\u00a0"),
        month_label=lambda m: f"{month_name(m.month.month).capitalize()} {m.month.year}",
        month_in_text=lambda m: f"{month_name(m.month.month)} {m.month.year}",
    )


# -- open data -------------------------------------------------------------------------------
@bp.get("/statistiky/data.csv")
def country_csv():  # type: ignore[no-untyped-def]
    return _data(None, "csv")


@bp.get("/statistiky/data.json")
def country_json():  # type: ignore[no-untyped-def]
    return _data(None, "json")


@bp.get("/kraj/<slug>/statistiky/data.csv")
def region_csv(slug: str):  # type: ignore[no-untyped-def]
    return _data(_region(slug), "csv")


@bp.get("/kraj/<slug>/statistiky/data.json")
def region_json(slug: str):  # type: ignore[no-untyped-def]
    return _data(_region(slug), "json")


@bp.get("/statistiky/data.csv-metadata.json")
def country_csvw():  # type: ignore[no-untyped-def]
    return _csvw(None)


@bp.get("/kraj/<slug>/statistiky/data.csv-metadata.json")
def region_csvw(slug: str):  # type: ignore[no-untyped-def]
    return _csvw(_region(slug))


def _csvw(region: Region | None) -> Response:
    """The CSV's schema (CSV on the Web); the same for every year."""
    args = {} if region is None else {"slug": region.slug}
    endpoint = "statistics.country_csv" if region is None else "statistics.region_csv"
    title = f"Statistiky Platebního portálu – {area_of(region).name}"
    body = csvw_metadata(url_for(endpoint, _external=True, **args), title)
    response = current_app.response_class(body, mimetype="application/csvm+json")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    response.headers["Link"] = LICENCE_LINK
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _data(region: Region | None, fmt: str) -> Response:
    """Every year (or ?rok=) of the area; the language of the request plays no part."""
    years = available_years()
    year = _year_arg(years)
    name = f"statistiky-{region.slug if region else 'cr'}{f'-{year}' if year else ''}"
    page_args = {} if region is None else {"slug": region.slug}
    tag, modified, body = _data_body(region, fmt, [year] if year else years, page_args)
    mimetype = "text/csv" if fmt == "csv" else "application/json"

    def build() -> Response:
        response = current_app.response_class(body, mimetype=mimetype)
        response.headers["Content-Disposition"] = f'inline; filename="{name}.{fmt}"'
        return response

    response = _conditional(tag, modified, build)
    response.headers["Link"] = LICENCE_LINK
    if fmt == "csv":
        endpoint = "statistics.country_csvw" if region is None else "statistics.region_csvw"
        schema = url_for(endpoint, **page_args)
        response.headers.add("Link", f'<{schema}>; rel="describedby"; type="application/csvm+json"')
    response.headers["Access-Control-Allow-Origin"] = "*"  # open data: readable from any site
    return response


def _data_body(
    region: Region | None, fmt: str, years: list[int], page_args: dict[str, str]
) -> tuple[str, datetime, str]:
    """(ETag, Last-Modified, body) of a data file, kept in the cache like the figures (a
    warm request neither reads nor serialises them)."""
    timeout = int(current_app.config.get("STATISTICS_CACHE_SECONDS", 60))
    key = f"statistics:data:{region.slug if region else '-'}:{fmt}:{','.join(map(str, years))}:{request.script_root}"
    use_cache = timeout > 0
    if use_cache:
        try:
            hit = cache.get(key)
        except RedisError:
            hit, use_cache = None, False
        if isinstance(hit, tuple) and len(hit) == 3:
            return hit
    figures = [year_figures(y, region) for y in years]
    modified = max(f.modified_at for f in figures)
    area = area_of(region)
    if fmt == "csv":
        body = to_csv(figures)
    else:
        endpoint = "statistics.country" if region is None else "statistics.region"
        page = url_for(endpoint, _external=True, **page_args)
        title = f"Statistiky Platebního portálu – {area.name}"
        body = to_json(figures, area, title=title, page_url=page, generated=modified)
    result = (_tag(figures, fmt), modified, body)
    if use_cache:
        try:
            cache.set(key, result, timeout=timeout)
        except RedisError:
            pass
    return result
