"""Importing a payer list: validate every row, then write all of them in one
transaction (``INSERT … ON CONFLICT (service_id, customer_id) DO UPDATE``), or nothing when any
row is bad unless the import allows a partial one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from flask import current_app
from sqlalchemy import String, and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.bulk import ids_in
from app.citizens.birth_number import birth_number_hmac
from app.db import db_session
from app.i18n import N_, Text
from app.mail import is_valid_email
from app.models import (
    Obligation,
    Service,
)
from app.obligations.reading import (
    BATCH_SIZE,
    COLUMN_LABELS,
    DEFAULT_MAX_IMPORT_BYTES,
    ImportFileError,
    Progress,
    map_header,
    read_rows,
)
from app.obligations.report import ImportReport, RowError
from app.obligations.store import chunks, write_postgresql, write_sqlite
from app.obligations.values import (
    CUSTOMER_ID_RE,
    BadValue,
    cell_text,
    parse_amount,
    parse_date,
    parse_specific_symbol,
    parse_variable_symbol,
)


def _validate(
    rows: Iterator[tuple[int, list[Any]]], report: ImportReport
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Every row checked; returns the good rows and {customer_id: line}."""
    header_line = 0
    columns: dict[str, int] = {}
    for line, row in rows:
        if any(cell_text(c) for c in row):
            header_line = line
            columns = map_header(line, row)
            break
    if not header_line:
        raise ImportFileError(Text(N_("Soubor je prázdný: chybí záhlaví i řádky s předpisy.")))
    width = len(columns)
    known_indexes = set(columns.values())
    good: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    seen_vs: dict[str, int] = {}
    errors = report.errors
    ic, iname, iamount, idue, ivs, iperiod, inote, ibirth, iemail, ihouse, iss = (columns.get(k, -1) for k in COLUMN_LABELS)
    need = max(columns.values()) + 1
    customer_id_ok = CUSTOMER_ID_RE.match
    # The hot loop: 100,000 rows must take well under a second or two.
    for line, raw in rows:
        row = [c.strip() if type(c) is str else c for c in raw]
        if not any(c is not None and c != "" for c in row):
            continue
        report.total_rows += 1
        if len(row) < need:
            row.extend([None] * (need - len(row)))
        row_errors: list[RowError] = []
        if len(row) > width:
            extra = [i for i, c in enumerate(row) if i not in known_indexes and c is not None and c != ""]
            if extra:
                row_errors.append(
                    RowError(
                        line,
                        None,
                        Text(
                            N_(
                                "Řádek má hodnotu ve sloupci bez názvu (sloupec %(column)s); záhlaví má %(width)s sloupců."
                            ),
                            column=extra[0] + 1,
                            width=width,
                        ),
                    )
                )
        customer_id = cell_text(row[ic])
        if not customer_id:
            row_errors.append(RowError(line, "customer_id", Text(N_("Chybí zákaznické číslo."))))
        elif not customer_id_ok(customer_id):
            row_errors.append(
                RowError(
                    line,
                    "customer_id",
                    Text(
                        N_("Zákaznické číslo „%(value)s“ smí mít nejvýš 50 znaků: písmena, číslice, mezery a - / . _"),
                        value=customer_id[:60],
                    ),
                )
            )
        elif customer_id in seen_ids:
            row_errors.append(
                RowError(
                    line,
                    "customer_id",
                    Text(
                        N_("Zákaznické číslo „%(value)s“ je v souboru už na řádku %(line)s."),
                        value=customer_id,
                        line=seen_ids[customer_id],
                    ),
                )
            )
        else:
            seen_ids[customer_id] = line
        payer_name = cell_text(row[iname])
        if "  " in payer_name:
            payer_name = " ".join(payer_name.split())
        if not payer_name:
            row_errors.append(RowError(line, "payer_name", Text(N_("Chybí jméno plátce."))))
        elif len(payer_name) > 200:
            row_errors.append(RowError(line, "payer_name", Text(N_("Jméno plátce je delší než 200 znaků."))))
        amount = due = vs = None
        try:
            amount = parse_amount(row[iamount])
        except BadValue as exc:
            row_errors.append(RowError(line, "amount", exc.text))
        if idue >= 0:
            try:
                due = parse_date(row[idue])
            except BadValue as exc:
                row_errors.append(RowError(line, "due_date", exc.text))
        if ivs >= 0:
            try:
                vs = parse_variable_symbol(row[ivs])
            except BadValue as exc:
                row_errors.append(RowError(line, "variable_symbol", exc.text))
            if vs:
                if vs in seen_vs:
                    row_errors.append(
                        RowError(
                            line,
                            "variable_symbol",
                            Text(
                                N_("Variabilní symbol %(value)s je v souboru už na řádku %(line)s."),
                                value=vs,
                                line=seen_vs[vs],
                            ),
                        )
                    )
                else:
                    seen_vs[vs] = line
        ss = None
        if iss >= 0:
            try:
                ss = parse_specific_symbol(row[iss])
            except BadValue as exc:
                row_errors.append(RowError(line, "specific_symbol", str(exc)))
        period = cell_text(row[iperiod]) if iperiod >= 0 else ""
        if len(period) > 40:
            row_errors.append(RowError(line, "period", Text(N_("Období je delší než 40 znaků."))))
        note = cell_text(row[inote]) if inote >= 0 else ""
        if len(note) > 500:
            row_errors.append(RowError(line, "note", Text(N_("Poznámka je delší než 500 znaků."))))
        # Only the HMAC is kept, and an error never repeats the number.
        birth_hmac = None
        if ibirth >= 0:
            birth_number = cell_text(row[ibirth])
            if birth_number:
                birth_hmac = birth_number_hmac(birth_number)
                if birth_hmac is None:
                    row_errors.append(
                        RowError(line, "birth_number", Text(N_("Rodné číslo musí mít 9 nebo 10 číslic.")))
                    )
        # For reminders (app/obligations/reminders.py); an unusable address is an error,
        # so the clerk learns of it now and not when no reminder arrives.
        email = cell_text(row[iemail]) if iemail >= 0 else ""
        if email and not is_valid_email(email):
            row_errors.append(
                RowError(line, "email", Text(N_("E-mail „%(value)s“ není platná adresa."), value=email[:60]))
            )
        # The household groups the obligations one payer pays together (app/obligations/household.py).
        household = cell_text(row[ihouse]) if ihouse >= 0 else ""
        if len(household) > 50:
            row_errors.append(RowError(line, "household", Text(N_("Domácnost je delší než 50 znaků."))))
        if row_errors:
            errors.extend(row_errors)
            continue
        good.append(
            {
                "customer_id": customer_id,
                "payer_name": payer_name,
                "amount": amount,
                "due_date": due,
                "variable_symbol": vs,
                "period": period or None,
                "note": note or None,
                "birth_number_hmac": birth_hmac,
                "payer_email": email or None,
                "household": household or None,
                "specific_symbol": ss,
                "_line": line,
            }
        )
    if report.total_rows == 0:
        raise ImportFileError(Text(N_("Soubor neobsahuje žádné předpisy: je v něm jen záhlaví.")))
    return good, seen_ids


def import_obligations(
    service: Service,
    data: bytes,
    filename: str,
    *,
    progress: Progress | None = None,
    allow_partial: bool = False,
    max_bytes: int | None = None,
) -> ImportReport:
    """Validate and import a payer list for ``service``; returns the report. Commits.

    Rows are upserted by customer ID (never duplicated). With any bad row nothing is
    written unless ``allow_partial``; then the good rows are imported."""
    started = time.perf_counter()
    report = ImportReport(filename=filename)
    limit = max_bytes if max_bytes is not None else max_import_bytes()
    if len(data) > limit:
        report.file_errors.append(too_big_message(len(data), limit))
        return report
    if not data.strip():
        report.file_errors.append(Text(N_("Soubor je prázdný.")))
        return report
    try:
        rows = read_rows(data, filename)
    except ImportFileError as exc:
        report.file_errors.extend(exc.texts)
        return report
    return import_rows(service, rows, report, progress=progress, allow_partial=allow_partial, started=started)


def import_rows(
    service: Service,
    rows: Iterator[tuple[int, list[Any]]],
    report: ImportReport,
    *,
    progress: Progress | None = None,
    allow_partial: bool = False,
    started: float | None = None,
) -> ImportReport:
    """``import_obligations`` for rows already read: (line, cells), the header first
    (the API's JSON rows come this way, without a file in between). Commits."""
    started = time.perf_counter() if started is None else started
    try:
        good, _ = _validate(rows, report)
    except ImportFileError as exc:
        report.file_errors.extend(exc.texts)
        report.errors.clear()
        return report

    session = db_session()
    # One Core query (no ORM objects) for the rows of this service and every variable
    # symbol in the municipality; on PostgreSQL only those the list names (= ANY of two
    # arrays, by the unique indexes): a list of 10,000 rows need not read 100,000.
    t = Obligation.__table__
    existing: dict[str, str | None] = {}
    holders: dict[str, tuple[int, str]] = {}
    if session.get_bind().dialect.name == "postgresql":
        named = or_(
            and_(t.c.service_id == service.id, ids_in(t.c.customer_id, [r["customer_id"] for r in good], session, String)),
            ids_in(t.c.variable_symbol, [r["variable_symbol"] for r in good if r["variable_symbol"]], session, String),
        )
    else:
        named = or_(t.c.service_id == service.id, t.c.variable_symbol.is_not(None))
    for sid, cid, vs in session.connection().execute(
        select(t.c.service_id, t.c.customer_id, t.c.variable_symbol).where(
            t.c.municipality_id == service.municipality_id, named
        )
    ):
        if sid == service.id:
            existing[cid] = vs
        if vs is not None:
            holders[vs] = (sid, cid)
    in_file = {r["customer_id"]: r["variable_symbol"] for r in good}
    checked: list[dict[str, Any]] = []
    for r in good:
        vs = r["variable_symbol"]
        holder = holders.get(vs) if vs else None
        if holder and holder != (service.id, r["customer_id"]):
            sid, cid = holder
            # Freed by this file: the holder is in it with another symbol.
            if not (sid == service.id and cid in in_file and in_file[cid] != vs):
                report.errors.append(
                    RowError(
                        r["_line"],
                        "variable_symbol",
                        Text(N_("Variabilní symbol %(value)s už v obci používá jiný předpis."), value=vs),
                    )
                )
                continue
        checked.append(r)
    report.errors.sort(key=lambda e: e.line)
    report.valid_rows = len(checked)
    if report.errors and not allow_partial:
        report.seconds = time.perf_counter() - started
        return report

    total = len(checked)
    write_started = time.perf_counter()
    if progress:
        progress(0, total)
    try:
        # A symbol that moves between two customers of this service would collide
        # mid-batch: free the old ones first.
        moving = [
            r["customer_id"]
            for r in checked
            if existing.get(r["customer_id"]) and existing[r["customer_id"]] != r["variable_symbol"]
        ]
        for batch in chunks(moving, BATCH_SIZE):
            session.execute(
                update(Obligation)
                .where(Obligation.service_id == service.id, Obligation.customer_id.in_(batch))
                .values(variable_symbol=None),
                execution_options={"synchronize_session": False},
            )
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            written = write_postgresql(session, service, checked, progress)
        elif dialect == "sqlite":
            written = write_sqlite(session, service, checked, progress)
        else:  # pragma: no cover - the project supports these two
            raise RuntimeError(f"obligation import is not implemented for {dialect}")
        session.commit()
    except _INTEGRITY_ERRORS:
        # A variable symbol still held by a row this file could not move (in a partial
        # import): refuse the whole file rather than half of it.
        session.rollback()
        report.file_errors.append(
            Text(
                N_(
                    "Soubor nebyl importován: variabilní symboly v něm se kříží s jinými předpisy obce. "
                    "Opravte chybné řádky a nahrajte soubor znovu."
                )
            )
        )
        report.seconds = time.perf_counter() - started
        return report
    except Exception:
        session.rollback()
        raise
    existing_in_file = sum(1 for r in checked if r["customer_id"] in existing)
    report.inserted = total - existing_in_file
    # Rows written = inserted + changed (unchanged rows are skipped by the upsert).
    report.updated = max(written - report.inserted, 0)
    report.unchanged = existing_in_file - report.updated
    report.imported = True
    report.seconds = time.perf_counter() - started
    report.write_seconds = time.perf_counter() - write_started
    return report


# The PostgreSQL path runs on psycopg's own cursor (COPY), whose errors SQLAlchemy does not wrap.
try:
    from psycopg import IntegrityError as _PsycopgIntegrityError

    _INTEGRITY_ERRORS: tuple[type[Exception], ...] = (IntegrityError, _PsycopgIntegrityError)
except ImportError:  # pragma: no cover - SQLite-only installs
    _INTEGRITY_ERRORS = (IntegrityError,)


def too_big_message(size: int, limit: int) -> Text:
    return Text(
        N_("Soubor je příliš velký (%(size)s MB); největší povolená velikost je %(limit)s MB."),
        size=f"{size / 1024 / 1024:.1f}",
        limit=f"{limit / 1024 / 1024:.0f}",
    )


def max_import_bytes() -> int:
    try:
        return int(current_app.config.get("OBLIGATION_IMPORT_MAX_BYTES") or DEFAULT_MAX_IMPORT_BYTES)
    except RuntimeError:  # no app context (a script)
        return DEFAULT_MAX_IMPORT_BYTES
