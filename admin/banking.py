"""Bank transfers in the admin: the municipality's accounts (with the Fio pull's last
success and error), statements imported, uploading one, the queue of unmatched lines
with search, a line's detail with manual match / undo / return to sender, and the list of
returns for the bank (CSV). Viewing needs a viewer, acting a clerk, accounts an admin;
everything is scoped to the municipality (the operator sees the one chosen, or all)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from admin import bp
from admin.guards import (
    current_municipality_id,
    current_region_id,
    current_staff,
    scoped,
    scoped_get_or_404,
    staff_required,
)
from app.banking.accounts import create_account, set_fio_token
from app.banking.errors import BankingError
from app.banking.importing import find_account_for, import_statement, parse_upload
from app.banking.manual import find_target, match_manually, return_to_sender, returns_csv, returns_query, undo_match
from app.banking.statements import MAX_BYTES
from app.db import db_session
from app.i18n import N_
from app.models import BankAccount, BankLine, BankLineMatch, BankStatement, LineStatus, Payment, Service, StaffRole
from app.staff.audit import audit, snapshot

PAGE = 100
RULE_LABELS = {
    "obligation_exact": N_("Předpis zaplacen přesně"),
    "obligation_partial": N_("Předpis zaplacen částečně"),
    "obligation_over": N_("Předpis zaplacen, přeplatek k vrácení"),
    "payer_sum": N_("Více předpisů jednoho plátce jedním převodem"),
    "payment_exact": N_("Platba čekající na převod"),
    "payment_over": N_("Platba čekající na převod, přeplatek k vrácení"),
    "service_exact": N_("Služba s jedním VS, cena přesně"),
    "service_over": N_("Služba s jedním VS, přeplatek k vrácení"),
    "manual": N_("Spárováno ručně"),
    "debit": N_("Odchozí platba"),
    "fee": N_("Bankovní poplatek"),
    "return": N_("Vrácená platba"),
    "wrong_currency": N_("Jiná měna"),
    "no_vs": N_("Chybí variabilní symbol"),
    "unknown_vs": N_("Neznámý variabilní symbol"),
    "ks_mismatch": N_("Jiný konstantní symbol, než služba používá"),
    "ss_mismatch": N_("Chybí specifický symbol předpisu, nebo je jiný"),
    "other_account": N_("Služba se platí na jiný účet"),
    "already_paid": N_("Předpis je už zaplacený"),
    "payment_short": N_("Méně, než je částka platby"),
    "payment_at_gateway": N_("Platba je rozpracovaná u platební brány"),
    "amount_short": N_("Méně, než je cena služby"),
    "amount_out_of_range": N_("Částka mimo povolený rozsah služby"),
    "undone": N_("Ruční spárování zrušeno"),
}
STATUS_LABELS = {
    LineStatus.MATCHED: N_("Spárováno"),
    LineStatus.UNMATCHED: N_("Nespárováno"),
    LineStatus.OUTGOING: N_("Odchozí"),
    LineStatus.RETURNED: N_("K vrácení odesílateli"),
}
SOURCE_LABELS = {"upload": N_("Nahraný soubor"), "cli": N_("Příkazová řádka"), "fio": N_("Fio API – automatické stažení")}


def _labels() -> dict[str, object]:
    return {"rule_labels": RULE_LABELS, "status_labels": STATUS_LABELS, "source_labels": SOURCE_LABELS}


def _scope() -> tuple[int | None, int | None]:
    """The municipality in view, else the region in view."""
    mid = current_municipality_id()
    return mid, (current_region_id() if mid is None else None)


def _scoped_by_id(model, object_id: int):  # type: ignore[no-untyped-def]
    return scoped_get_or_404(model, id=object_id)


# -- statements and accounts ---------------------------------------------------------------
@bp.get("/banka")
@staff_required()
def bank_statements():  # type: ignore[no-untyped-def]
    accounts = db_session.scalars(scoped(select(BankAccount), BankAccount).order_by(BankAccount.id)).all()
    statements = db_session.scalars(
        scoped(select(BankStatement), BankStatement).order_by(BankStatement.created_at.desc(), BankStatement.id.desc())
        .limit(PAGE)
    ).all()  # fmt: skip
    unmatched = db_session.scalar(
        scoped(select(func.count()).select_from(BankLine), BankLine).where(BankLine.status == LineStatus.UNMATCHED)
    )
    return render_template("admin/bank_statements.html", accounts=accounts, statements=statements,
                           unmatched=unmatched, **_labels())  # fmt: skip


@bp.route("/banka/nahrat", methods=["GET", "POST"])
@staff_required(role=StaffRole.CLERK)
def bank_upload():  # type: ignore[no-untyped-def]
    error = None
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise BankingError("empty")
            data = upload.stream.read(MAX_BYTES + 1)
            statement = parse_upload(data, upload.filename)
            mid = current_municipality_id()
            account = find_account_for(statement, mid, region_id=current_region_id() if mid is None else None)
            result = import_statement(account.id, statement, source="upload", filename=upload.filename,
                                      imported_by=current_staff.email)  # fmt: skip
            row = db_session.get(BankStatement, result.statement_id)
            audit("bank_statement.import", row, None, snapshot(row), commit=False)
            db_session.commit()
        except BankingError as exc:
            db_session.rollback()
            error = exc.describe()
        else:
            flash(_("Výpis načten: %(new)s nových pohybů, %(matched)s spárováno, %(unmatched)s nespárováno, "
                    "%(dup)s už dříve načtených.", new=result.new_lines, matched=result.matched,
                    unmatched=result.unmatched, dup=result.duplicates), "success")  # fmt: skip
            return redirect(url_for("admin.bank_statement", statement_id=result.statement_id), code=303)
    return render_template("admin/bank_upload.html", error=error, max_mb=MAX_BYTES // (1024 * 1024)), (
        422 if error else 200
    )


@bp.get("/banka/vypisy/<int:statement_id>")
@staff_required()
def bank_statement(statement_id: int):  # type: ignore[no-untyped-def]
    statement = _scoped_by_id(BankStatement, statement_id)
    lines = db_session.scalars(
        select(BankLine).where(BankLine.statement_id == statement.id).order_by(BankLine.booking_date, BankLine.id)
        .limit(1000)
    ).all()  # fmt: skip
    return render_template("admin/bank_statement.html", statement=statement, lines=lines, **_labels())


@bp.route("/banka/ucty", methods=["GET", "POST"])
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def bank_accounts():  # type: ignore[no-untyped-def]
    mid = current_municipality_id()
    error = None
    if request.method == "POST":
        if mid is None:
            error = _("Nejprve vyberte obec v horní liště.")
        else:
            service_id = request.form.get("service_id", type=int)
            if service_id and not db_session.scalar(
                select(Service.id).where(Service.id == service_id, Service.municipality_id == mid)
            ):
                abort(404)
            try:
                account = create_account(mid, request.form.get("account", ""), name=request.form.get("name", ""),
                                         service_id=service_id or None,
                                         fio_token=request.form.get("fio_token") or None)  # fmt: skip
                audit("bank_account.create", account, None, snapshot(account, ["id", "account_number", "bank_code",
                      "iban", "service_id", "name"]), commit=False)  # fmt: skip
                db_session.commit()
            except BankingError as exc:
                db_session.rollback()
                error = exc.describe()
            else:
                flash(_("Účet byl přidán."), "success")
                return redirect(url_for("admin.bank_accounts"), code=303)
    accounts = db_session.scalars(scoped(select(BankAccount), BankAccount).order_by(BankAccount.id)).all()
    services = db_session.scalars(scoped(select(Service), Service).order_by(Service.name)).all()
    return render_template("admin/bank_accounts.html", accounts=accounts, services=services, error=error), (
        422 if error else 200
    )


@bp.post("/banka/ucty/<int:account_id>/token")
@staff_required(role=StaffRole.MUNICIPALITY_ADMIN)
def bank_account_token(account_id: int):  # type: ignore[no-untyped-def]
    account = _scoped_by_id(BankAccount, account_id)
    try:
        set_fio_token(account, request.form.get("fio_token") or None)
    except BankingError as exc:
        flash(exc.describe(), "error")
        return redirect(url_for("admin.bank_accounts"), code=303)
    audit("bank_account.token", account, None, {"has_fio_token": account.has_fio_token}, commit=False)
    db_session.commit()
    flash(_("Token Fio API byl uložen.") if account.has_fio_token else _("Token Fio API byl odebrán."), "success")
    return redirect(url_for("admin.bank_accounts"), code=303)


@bp.post("/banka/ucty/<int:account_id>/stahnout")
@staff_required(role=StaffRole.CLERK)
def bank_account_pull(account_id: int):  # type: ignore[no-untyped-def]
    from app.banking.jobs import pull_account_job
    from app.jobs import enqueue

    account = _scoped_by_id(BankAccount, account_id)
    if not account.has_fio_token:
        flash(BankingError("no_token").describe(), "error")
    else:
        enqueue(pull_account_job, account.id)
        flash(_("Stažení pohybů z Fio bylo zařazeno."), "success")
    return redirect(url_for("admin.bank_statements"), code=303)


# -- the unmatched queue and one line --------------------------------------------------------
@bp.get("/banka/nesparovane")
@staff_required()
def bank_unmatched():  # type: ignore[no-untyped-def]
    q = (request.args.get("q") or "").strip()[:100]
    stmt = scoped(select(BankLine), BankLine).where(BankLine.status == LineStatus.UNMATCHED)
    if q:
        like = f"%{q}%"
        conditions = [
            BankLine.variable_symbol.like(like), BankLine.counter_name.ilike(like), BankLine.message.ilike(like),
            BankLine.counter_account.like(like), BankLine.specific_symbol.like(like),
        ]  # fmt: skip
        digits = q.replace(" ", "").replace(",", ".")
        try:
            amount = round(float(digits) * 100)
        except ValueError:
            amount = None
        if amount is not None and abs(amount) < 10**13:
            conditions.append(BankLine.amount == amount)
        stmt = stmt.where(or_(*conditions))
    lines = db_session.scalars(stmt.order_by(BankLine.booking_date.desc(), BankLine.id.desc()).limit(PAGE)).all()
    return render_template("admin/bank_unmatched.html", lines=lines, q=q, **_labels())


@bp.get("/banka/pohyby/<int:line_id>")
@staff_required()
def bank_line(line_id: int):  # type: ignore[no-untyped-def]
    line = _scoped_by_id(BankLine, line_id)
    matches = db_session.execute(
        select(BankLineMatch, Payment).join(Payment, Payment.id == BankLineMatch.payment_id)
        .where(BankLineMatch.line_id == line.id).order_by(BankLineMatch.id)
    ).all()  # fmt: skip
    return render_template("admin/bank_line.html", line=line, matches=matches, **_labels())


def _line_action(line_id: int, action) -> Response:  # type: ignore[no-untyped-def]
    line = _scoped_by_id(BankLine, line_id)
    try:
        action(line)
    except BankingError as exc:
        flash(exc.describe(), "error")
    except LookupError:
        abort(404)
    return redirect(url_for("admin.bank_line", line_id=line.id), code=303)


@bp.post("/banka/pohyby/<int:line_id>/sparovat")
@staff_required(role=StaffRole.CLERK)
def bank_line_match(line_id: int):  # type: ignore[no-untyped-def]
    def act(line: BankLine) -> None:
        target = find_target(line.municipality_id, request.form.get("target", ""))
        match_manually(line.id, target, staff_email=current_staff.email, municipality_id=line.municipality_id)
        flash(_("Pohyb byl spárován a platba zaznamenána."), "success")

    return _line_action(line_id, act)


@bp.post("/banka/pohyby/<int:line_id>/zrusit")
@staff_required(role=StaffRole.CLERK)
def bank_line_undo(line_id: int):  # type: ignore[no-untyped-def]
    def act(line: BankLine) -> None:
        undo_match(line.id, staff_email=current_staff.email, municipality_id=line.municipality_id)
        flash(_("Spárování bylo zrušeno; platba je vedena jako vrácená a pohyb je zpět mezi nespárovanými."),
              "success")  # fmt: skip

    return _line_action(line_id, act)


@bp.post("/banka/pohyby/<int:line_id>/vratit")
@staff_required(role=StaffRole.CLERK)
def bank_line_return(line_id: int):  # type: ignore[no-untyped-def]
    def act(line: BankLine) -> None:
        return_to_sender(line.id, staff_email=current_staff.email, municipality_id=line.municipality_id)
        flash(_("Pohyb je na seznamu plateb k vrácení odesílateli."), "success")

    return _line_action(line_id, act)


@bp.get("/banka/vratky")
@staff_required()
def bank_returns():  # type: ignore[no-untyped-def]
    lines = db_session.scalars(returns_query(*_scope()).limit(1000)).all()
    return render_template("admin/bank_returns.html", lines=lines, **_labels())


@bp.get("/banka/vratky.csv")
@staff_required()
def bank_returns_csv():  # type: ignore[no-untyped-def]
    mid, rid = _scope()
    body = returns_csv(mid, region_id=rid)
    return Response(
        "\ufeff" + body, mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=vratky-k-odeslani.csv"},
    )  # fmt: skip
