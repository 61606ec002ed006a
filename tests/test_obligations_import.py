"""Importing payer lists (předpisy): encodings, delimiters, XLSX, every bad input with
its line number, nothing half-imported, re-import updates, the job and the CLI."""

from __future__ import annotations

import io
import re
import uuid
from datetime import date, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.db import db_session
from app.models import ImportStatus, Obligation, ObligationImport
from app.obligations.importing import import_obligations
from app.obligations.jobs import create_import, run_import, start_import
from tests.factories import make_municipality, make_service

HEADER = ["Zákaznické číslo", "Jméno", "Částka", "Splatnost", "Variabilní symbol", "Období", "Poznámka"]
ROWS = [
    ["1001", "Jana Nováková", "1 250,50", "31. 3. 2026", "20260001", "2026", "Žluťoučký kůň"],
    ["1002", "Petr Šťastný", "800", "2026-06-30", "20260002", "2026", ""],
    ["1003", "Řehoř Čermák", "99,5", "1.1.2027", "", "1. pololetí", "Úřad"],
]


def _csv(rows: list[list[str]], delimiter: str = ";", header: list[str] = HEADER) -> str:
    return "\r\n".join(delimiter.join(r) for r in [header, *rows]) + "\r\n"


def _count() -> int:
    return db_session.scalar(select(func.count(Obligation.id))) or 0


def _by_customer(service) -> dict[str, Obligation]:  # type: ignore[no-untyped-def]
    db_session.expire_all()
    return {o.customer_id: o for o in db_session.scalars(select(Obligation).where(Obligation.service_id == service.id))}


ENCODINGS = {
    "utf-8": lambda t: t.encode("utf-8"),
    "utf-8 with BOM": lambda t: t.encode("utf-8-sig"),
    "windows-1250": lambda t: t.encode("cp1250"),
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_csv_in_every_encoding_and_delimiter(any_db_app, encoding, delimiter):  # type: ignore[no-untyped-def]
    service = make_service(make_municipality())
    # With a comma delimiter, a Czech decimal comma must be quoted.
    text = _csv(ROWS if delimiter != "," else [[f'"{c}"' for c in r] for r in ROWS], delimiter)
    report = import_obligations(service, ENCODINGS[encoding](text), "predpisy.csv")
    assert report.ok and report.imported, report.lines()
    assert (report.inserted, report.updated, report.unchanged, report.total_rows) == (3, 0, 0, 3)
    got = _by_customer(service)
    assert got["1001"].payer_name == "Jana Nováková"
    assert got["1001"].amount == 125050
    assert got["1001"].due_date == date(2026, 3, 31)
    assert got["1001"].variable_symbol == "20260001"
    assert got["1001"].note == "Žluťoučký kůň"
    assert got["1002"].payer_name == "Petr Šťastný" and got["1002"].amount == 80000
    assert got["1002"].due_date == date(2026, 6, 30)
    assert got["1003"].payer_name == "Řehoř Čermák" and got["1003"].amount == 9950
    assert got["1003"].due_date == date(2027, 1, 1)
    assert got["1003"].variable_symbol is None and got["1003"].period == "1. pololetí"
    assert got["1003"].municipality_id == service.municipality_id


def test_xlsx_with_synonym_headers_numbers_and_dates(any_db_app):  # type: ignore[no-untyped-def]
    service = make_service(make_municipality())
    wb = Workbook()
    ws = wb.active
    ws.append(["Číslo plátce", "PLÁTCE", "částka (Kč)", "Datum splatnosti", "VS", "období"])
    ws.append([5001, "Jan Novák", 1250.5, datetime(2026, 4, 30), 777001, "2026"])
    ws.append(["A-5002", "Eva Malá", "2 000", "15. 5. 2026", None, None])
    ws.append([None, None, None, None, None, None])  # empty rows are skipped
    ws.append([5003, "Ota Veselý", 300, date(2026, 1, 31), "777003", 2026])
    buf = io.BytesIO()
    wb.save(buf)
    report = import_obligations(service, buf.getvalue(), "predpisy.xlsx")
    assert report.imported, report.lines()
    got = _by_customer(service)
    assert set(got) == {"5001", "A-5002", "5003"}
    assert got["5001"].amount == 125050 and got["5001"].due_date == date(2026, 4, 30)
    assert got["5001"].variable_symbol == "777001"
    assert got["A-5002"].amount == 200000 and got["A-5002"].due_date == date(2026, 5, 15)
    assert got["5003"].amount == 30000 and got["5003"].period == "2026"


def test_xlsx_bad_rows_are_reported_with_sheet_row_numbers(app):  # type: ignore[no-untyped-def]
    service = make_service(make_municipality())
    wb = Workbook()
    ws = wb.active
    ws.append(["Zákaznické číslo", "Jméno", "Částka"])
    ws.append(["1", "Jan Novák", -100])
    ws.append(["2", "Eva Malá", 10.555])
    buf = io.BytesIO()
    wb.save(buf)
    report = import_obligations(service, buf.getvalue(), "predpisy.xlsx")
    assert not report.imported
    assert [(e.line, e.column) for e in report.errors] == [(2, "amount"), (3, "amount")]
    assert "záporná" in report.errors[0].message and "desetinná" in report.errors[1].message
    assert _count() == 0


def test_headers_ignore_case_diacritics_and_amount_date_formats(app):  # type: ignore[no-untyped-def]
    service = make_service(make_municipality())
    text = (
        "ZAKAZNICKE CISLO;jmeno;Castka;splatnost\n"
        "1;A B;1 250,50;5. 3. 2026\n"
        "2;C D;1.250,50;5.3.2026\n"
        "3;E F;1250.5;2026-03-05\n"
        "4;G H;1250,50 Kč;\n"
        "5;I J;\u00a01\u00a0250,5;\n"
    )
    report = import_obligations(service, text.encode(), "a.csv")
    assert report.imported, report.lines()
    got = _by_customer(service)
    assert {o.amount for o in got.values()} == {125050}
    assert {got[k].due_date for k in "123"} == {date(2026, 3, 5)}
    assert got["4"].due_date is None


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_imported(any_db_app):  # type: ignore[no-untyped-def]
    service = make_service(make_municipality())
    lines = [
        "Zákaznické číslo;Jméno;Částka;Splatnost;Variabilní symbol",  # 1
        "1;Jana Nováková;100;1. 1. 2026;11",  # 2 good
        "2;Petr Novák;-50;1. 1. 2026;12",  # 3 negative
        "3;Eva Malá;sto korun;1. 1. 2026;13",  # 4 not a number
        "4;Ota Veselý;100;31. 2. 2026;14",  # 5 no such date
        "5;Ivo Dvořák;100;2026/03/01;15",  # 6 bad date format
        "6;Jan Černý;100;1. 1. 2026;12AB",  # 7 VS not digits
        "7;Jiří Horák;100;1. 1. 2026;12345678901",  # 8 VS too long
        "1;Jana Dvojnice;100;1. 1. 2026;16",  # 9 duplicate customer ID
        ";Bez Čísla;100;1. 1. 2026;17",  # 10 missing customer ID
        "10;;100;1. 1. 2026;18",  # 11 missing name
        "11;Petra Nová;;1. 1. 2026;19",  # 12 missing amount
        "12;Karel Mlynář;100;1. 1. 2026;11",  # 13 duplicate VS
        "13;Marie Kos;0;1. 1. 2026;20",  # 14 zero
        "14;Lída Svobodová;100;1. 1. 2026;21;navíc",  # 15 a value beyond the header
        "",  # 16 blank line: skipped
        "15;Dana Bílá;100;1. 1. 2026;22",  # 17 good
    ]
    report = import_obligations(service, "\n".join(lines).encode(), "spatne.csv")
    assert not report.imported and not report.ok
    assert report.bad_lines == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    assert report.total_rows == 15
    by_line = {e.line: e for e in report.errors}
    assert by_line[3].column == "amount" and "záporná" in by_line[3].message
    assert by_line[4].column == "amount" and "není číslo" in by_line[4].message
    assert by_line[5].column == "due_date" and "neexistuje" in by_line[5].message
    assert by_line[6].column == "due_date" and "31. 3. 2026" in by_line[6].message
    assert by_line[7].column == "variable_symbol" and "číslice" in by_line[7].message
    assert by_line[8].column == "variable_symbol" and "10 číslic" in by_line[8].message
    assert by_line[9].column == "customer_id" and "na řádku 2" in by_line[9].message
    assert "Chybí zákaznické číslo" in by_line[10].message
    assert "Chybí jméno" in by_line[11].message
    assert "Chybí částka" in by_line[12].message
    assert by_line[13].column == "variable_symbol" and "na řádku 2" in by_line[13].message
    assert "větší než nula" in by_line[14].message
    assert "bez názvu" in by_line[15].message
    assert str(by_line[3]).startswith("Řádek 3, sloupec Částka:")
    assert "Soubor nebyl importován" in report.summary()
    assert _count() == 0


def test_allow_partial_imports_the_good_rows(any_db_app):  # type: ignore[no-untyped-def]
    service = make_service(make_municipality())
    text = "Zákaznické číslo;Jméno;Částka\n1;A B;100\n2;C D;-1\n3;E F;300\n"
    report = import_obligations(service, text.encode(), "a.csv", allow_partial=True)
    assert report.imported and report.bad_lines == [3]
    assert report.inserted == 2
    assert set(_by_customer(service)) == {"1", "3"}
    assert "Vynecháno chybných řádků: 1" in report.summary()


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Zákaznické číslo;Jméno", "Chybí povinný sloupec: „Částka“"),
        ("Jméno;Částka", "Chybí povinný sloupec: „Zákaznické číslo“"),
        ("Zákaznické číslo;Jméno;Částka;Barva očí", "Neznámý sloupec: „Barva očí“"),
        ("Zákaznické číslo;Jméno;Částka;Částka", "je v záhlaví dvakrát"),
    ],
)
def test_missing_extra_or_repeated_columns_refuse_the_file(app, header, message):  # type: ignore[no-untyped-def]
    service = make_service(make_municipality())
    report = import_obligations(service, f"{header}\n1;A B;100;x\n".encode(), "a.csv")
    assert not report.imported
    assert len(report.file_errors) == 1 and message in str(report.file_errors[0]), report.file_errors
    assert str(report.file_errors[0]).startswith("Řádek 1")
    assert _count() == 0


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "a.csv", "prázdný"),
        (b"  \r\n\r\n", "a.csv", "prázdný"),
        ("Zákaznické číslo;Jméno;Částka\n".encode(), "a.csv", "jen záhlaví"),
        ("Zákaznické číslo;Jméno;Částka\n1;Jana;100\n".encode("utf-16"), "a.csv", "UTF-16"),
        (bytes(range(256)) * 8, "a.csv", "kódování"),
        (b"\xef\xbb\xbfZ\xe1kaznick\xe9 \xe8\xedslo;Jm\xe9no\n", "a.csv", "neplatné znaky"),
        (b"Zakaznicke cislo;Jmeno;Castka\n1;A\x01B;100\n", "a.csv", "řídicí znaky (řádek 2)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "a.xls", ".xls"),
        (b"not a workbook", "a.xlsx", "není platný soubor Excelu"),
        (b"PK\x03\x04broken zip", "a.xlsx", "XLSX nelze přečíst"),
    ],
    ids=[
        "empty",
        "blank",
        "header-only",
        "utf16",
        "binary",
        "bad-utf8-with-bom",
        "control-chars",
        "xls",
        "fake-xlsx",
        "broken-zip",
    ],
)
def test_unreadable_files_are_refused_with_a_reason(app, data, filename, message):  # type: ignore[no-untyped-def]
    service = make_service(make_municipality())
    report = import_obligations(service, data, filename)
    assert not report.imported
    assert report.file_errors and message in str(report.file_errors[0]), report.file_errors
    assert _count() == 0


def test_a_50_mb_file_is_refused_before_parsing(app):  # type: ignore[no-untyped-def]
    service = make_service(make_municipality())
    good = "Zákaznické číslo;Jméno;Částka\n".encode() + b"1;A B;100\n" * (50 * 1024 * 1024 // 10)
    assert len(good) > 50 * 1024 * 1024
    report = import_obligations(service, good, "velky.csv")
    assert not report.imported and report.total_rows == 0  # never parsed
    assert "příliš velký" in str(report.file_errors[0]) and "20 MB" in str(report.file_errors[0])
    assert _count() == 0


def test_reimport_updates_rows_and_never_duplicates(any_db_app):  # type: ignore[no-untyped-def]
    service = make_service(make_municipality())
    first = import_obligations(service, _csv(ROWS).encode(), "a.csv")
    assert (first.inserted, first.updated) == (3, 0)
    db_session.execute(Obligation.__table__.update().where(Obligation.customer_id == "1001").values(amount_paid=5000))
    db_session.commit()
    changed = [
        ["1001", "Jana Nováková-Malá", "1 500", "30. 4. 2026", "20260001", "2026", ""],
        ["1002", "Petr Šťastný", "800", "2026-06-30", "20260002", "2026", ""],
        ["1004", "Nový Plátce", "10", "", "", "", ""],
    ]
    second = import_obligations(service, _csv(changed).encode(), "a.csv")
    assert (second.inserted, second.updated, second.unchanged) == (1, 1, 1), second.lines()
    got = _by_customer(service)
    assert _count() == 4  # 1003 stays: a list only adds and updates
    assert got["1001"].payer_name == "Jana Nováková-Malá" and got["1001"].amount == 150000
    assert got["1001"].due_date == date(2026, 4, 30)
    assert got["1001"].amount_paid == 5000  # what was paid is kept
    assert got["1001"].note is None
    again = import_obligations(service, _csv(changed).encode(), "a.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert "beze změny 3" in again.summary()
    assert _count() == 4


def test_variable_symbols_are_unique_in_the_municipality(any_db_app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    waste = make_service(m, slug="odpad")
    dogs = make_service(m, slug="psi")
    other_town = make_service(make_municipality(), slug="odpad")
    assert import_obligations(
        waste, "Zákaznické číslo;Jméno;Částka;VS\n1;A B;100;555\n2;C D;100;556\n".encode(), "a.csv"
    ).imported
    # Another municipality may use the same symbol.
    assert import_obligations(
        other_town, "Zákaznické číslo;Jméno;Částka;VS\n1;A B;100;555\n".encode(), "a.csv"
    ).imported
    clash = import_obligations(dogs, "Zákaznické číslo;Jméno;Částka;VS\n9;X Y;100;555\n".encode(), "a.csv")
    assert not clash.imported
    assert [(e.line, e.column) for e in clash.errors] == [(2, "variable_symbol")]
    assert "jiný předpis" in clash.errors[0].message
    # Two payers of one service swap their symbols: fine.
    swap = import_obligations(
        waste, "Zákaznické číslo;Jméno;Částka;VS\n1;A B;100;556\n2;C D;100;555\n".encode(), "a.csv"
    )
    assert swap.imported, swap.lines()
    got = _by_customer(waste)
    assert (got["1"].variable_symbol, got["2"].variable_symbol) == ("556", "555")


def test_import_job_records_progress_and_report(any_db_app):  # type: ignore[no-untyped-def]
    service = make_service(make_municipality())
    rows = [[f"C{i}", f"Plátce {i}", f"{i + 1},50", "1. 1. 2026", str(100000 + i), "", ""] for i in range(12_000)]
    record = start_import(service, _csv(rows).encode(), "velky.csv", created_by="admin@example.cz")
    db_session.expire_all()
    record = db_session.get(ObligationImport, record.id)
    assert record.status == ImportStatus.DONE, record.report
    assert (record.total_rows, record.processed_rows, record.inserted, record.error_count) == (
        12_000,
        12_000,
        12_000,
        0,
    )
    assert record.report["imported"] is True and record.finished_at is not None
    assert _count() == 12_000

    bad = create_import(service, "Zákaznické číslo;Jméno;Částka\n1;A;x\n".encode(), "spatny.csv")
    assert run_import(bad.id).status == ImportStatus.REJECTED
    db_session.expire_all()
    bad = db_session.get(ObligationImport, bad.id)
    assert bad.error_count == 1 and bad.report["errors"][0]["line"] == 2
    assert _count() == 12_000
    # A job that already ran does nothing the second time.
    assert run_import(bad.id).status == ImportStatus.REJECTED


def test_progress_is_reported_per_batch(app):  # type: ignore[no-untyped-def]
    service = make_service(make_municipality())
    rows = [[f"C{i}", "A B", "1", "", "", "", ""] for i in range(12_000)]
    seen: list[tuple[int, int]] = []
    report = import_obligations(service, _csv(rows).encode(), "a.csv", progress=lambda d, t: seen.append((d, t)))
    assert report.imported
    assert seen == [(0, 12_000), (10_000, 12_000), (12_000, 12_000)]


def test_job_progress_is_visible_while_the_import_transaction_is_open(postgres_url):  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    from app.obligations.jobs import progress_writer as _progress_writer
    from tests.conftest import make_test_app

    app = make_test_app(postgres_url)
    with app.app_context():
        service = make_service(make_municipality())
        record = create_import(service, b"x", "a.csv")
        # The import's own transaction is open (and holds a row lock on its service) …
        from app.models import Service

        db_session.execute(select(Service.id).where(Service.id == service.id).with_for_update())
        db_session.add(
            Obligation(
                municipality_id=service.municipality_id,
                service_id=service.id,
                customer_id="X",
                payer_name="A",
                amount=1,
            )
        )
        db_session.flush()
        _progress_writer(record.id)(5_000, 12_000)
        # … yet another connection (the admin page) already sees the progress.
        other = create_engine(postgres_url)
        with other.connect() as conn:
            seen = conn.execute(
                select(ObligationImport.processed_rows, ObligationImport.total_rows).where(
                    ObligationImport.id == record.id
                )
            ).one()
        other.dispose()
        assert tuple(seen) == (5_000, 12_000)
        db_session.rollback()
        db_session.remove()
    app.extensions["db_engine"].dispose()


def test_import_job_through_rq(postgres_url, redis_url):  # type: ignore[no-untyped-def]
    from rq import SimpleWorker

    from tests.conftest import make_test_app

    app = make_test_app(postgres_url, REDIS_URL=redis_url, RQ_QUEUE=f"test-obligations-{uuid.uuid4().hex[:8]}")
    with app.app_context():
        service = make_service(make_municipality())
        record = start_import(service, _csv(ROWS).encode(), "a.csv")
        queue = app.extensions["rq_queue"]
        assert queue.count == 1
        assert db_session.get(ObligationImport, record.id).status == ImportStatus.PENDING
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        db_session.expire_all()
        record = db_session.get(ObligationImport, record.id)
        assert record.status == ImportStatus.DONE and record.inserted == 3
        queue.delete(delete_jobs=True)
        db_session.remove()
    app.extensions["db_engine"].dispose()


def test_cli_import(app, tmp_path):  # type: ignore[no-untyped-def]
    m = make_municipality(slug="hradek-nad-nisou")
    make_service(m, slug="odpad")
    runner = app.test_cli_runner()
    good = tmp_path / "predpisy.csv"
    good.write_bytes(_csv(ROWS).encode("cp1250"))
    result = runner.invoke(args=["obligations", "import", str(good), "--service", "hradek-nad-nisou/odpad"])
    assert result.exit_code == 0, result.output
    assert "Importováno předpisů: 3 (nových 3, změněných 0, beze změny 0)." in result.output
    assert _count() == 3

    bad = tmp_path / "spatne.csv"
    bad.write_text("Zákaznické číslo;Jméno;Částka\n9;A B;-1\n8;C D;7\n", encoding="utf-8")
    result = runner.invoke(args=["obligations", "import", str(bad), "--service", "hradek-nad-nisou/odpad"])
    assert result.exit_code == 1
    assert "Řádek 2, sloupec Částka: Částka „-1“ je záporná." in result.output
    assert _count() == 3
    result = runner.invoke(
        args=["obligations", "import", str(bad), "--service", "hradek-nad-nisou/odpad", "--allow-partial"]
    )
    assert result.exit_code == 0 and "nových 1" in result.output
    assert _count() == 4

    huge = tmp_path / "velky.csv"
    with huge.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: the command must not read it
    result = runner.invoke(args=["obligations", "import", str(huge), "--service", "hradek-nad-nisou/odpad"])
    assert result.exit_code == 1 and "příliš velký" in result.output

    result = runner.invoke(args=["obligations", "import", str(good), "--service", "nikde/nic"])
    assert result.exit_code != 0 and "neexistuje" in result.output


def test_excel_sep_hint_line_and_quoted_multiline_cells_keep_line_numbers(app):  # type: ignore[no-untyped-def]
    service = make_service(make_municipality())
    text = 'sep=,\r\nZákaznické číslo,Jméno,Částka,Poznámka\r\n1,A B,"1 250,50","dva\r\nřádky"\r\n2,C D,-3,\r\n'
    report = import_obligations(service, text.encode("cp1250"), "excel.csv")
    assert [(e.line, e.column) for e in report.errors] == [(5, "amount")]
    report = import_obligations(service, text.replace("-3", "3").encode("cp1250"), "excel.csv")
    assert report.imported, report.lines()
    got = _by_customer(service)
    assert got["1"].amount == 125050 and got["1"].note == "dva\r\nřádky"


def test_an_oversized_upload_is_not_stored_and_the_job_rejects_it(app):  # type: ignore[no-untyped-def]
    app.config["OBLIGATION_IMPORT_MAX_BYTES"] = 1024
    service = make_service(make_municipality())
    data = _csv([[str(i), "A B", "1", "", "", "", ""] for i in range(200)]).encode()
    assert len(data) > 1024
    record = start_import(service, data, "velky.csv")
    db_session.expire_all()
    record = db_session.get(ObligationImport, record.id)
    assert record.status == ImportStatus.REJECTED and record.size == len(data)
    assert record.content == b""  # never stored
    assert "příliš velký" in record.report["file_errors"][0]
    assert _count() == 0


def test_a_partial_import_whose_symbols_cross_is_refused_whole(any_db_app):  # type: ignore[no-untyped-def]
    m = make_municipality()
    waste = make_service(m, slug="odpad")
    dogs = make_service(m, slug="psi")
    head = "Zákaznické číslo;Jméno;Částka;VS\n"
    assert import_obligations(waste, (head + "1;A B;100;555\n").encode(), "a.csv").imported
    assert import_obligations(dogs, (head + "9;X Y;100;557\n").encode(), "a.csv").imported
    # Customer 1 would move to 557 (taken by the dog fee: rejected), customer 2 wants 555.
    report = import_obligations(waste, (head + "1;A B;100;557\n2;C D;100;555\n").encode(), "a.csv", allow_partial=True)
    assert not report.imported
    assert "kříží" in str(report.file_errors[0])
    got = _by_customer(waste)
    assert set(got) == {"1"} and got["1"].variable_symbol == "555"  # nothing changed


def test_the_database_refuses_an_obligation_whose_municipality_is_not_its_services(any_db_app):  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import IntegrityError

    service = make_service(make_municipality())
    other = make_municipality()
    db_session.add(
        Obligation(municipality_id=other.id, service_id=service.id, customer_id="1", payer_name="A B", amount=100)
    )
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()
    assert _count() == 0


def test_import_messages_come_from_the_catalogue(app) -> None:  # type: ignore[no-untyped-def]
    from flask_babel import refresh

    service = make_service(make_municipality())
    bad = _csv([["1001", "", "-5", "31. 2. 2026", "12a", "", ""]])
    with app.test_request_context("/?lang=en"):
        report = import_obligations(service, bad.encode(), "a.csv")
        lines = report.lines()
        assert (
            lines[0] == "The file was not imported: 1 of 1 rows are in error. Correct them and upload the file again."
        )
        assert "Line 2, column Name: The payer's name is missing." in lines
        assert 'Line 2, column Due date: The date "31. 2. 2026" does not exist.' in lines
        assert not any(re.search("[áčďéěíňóřšťúůýž]", line, re.I) for line in lines), lines
    with app.test_request_context("/"):  # Czech, the source language, by default
        refresh()  # the locale is cached for the app context the fixture keeps open
        assert (
            "Řádek 2, sloupec Jméno: Chybí jméno plátce." in import_obligations(service, bad.encode(), "a.csv").lines()
        )


def test_a_specific_symbol_column_is_read_checked_and_updated(any_db_app):  # type: ignore[no-untyped-def]
    service = make_service(make_municipality())
    header = [*HEADER, "Specifický symbol"]
    rows = [[*ROWS[0], "0042"], [*ROWS[1], ""], [*ROWS[2], "12 34"]]
    report = import_obligations(service, _csv(rows, header=header).encode(), "predpisy.csv")
    assert report.ok, report.lines()
    got = _by_customer(service)
    assert [got[c].specific_symbol for c in ("1001", "1002", "1003")] == ["0042", None, "1234"]
    report = import_obligations(service, _csv([[*ROWS[0], "42x"]], header=header).encode(), "predpisy.csv")
    assert not report.ok and report.errors[0].column == "specific_symbol" and "42x" in report.errors[0].message
    renamed = ["Číslo plátce", *HEADER[1:], "SS"]
    report = import_obligations(service, _csv([[*ROWS[0], "99"]], header=renamed).encode(), "predpisy.csv")
    assert report.ok and report.updated == 1, report.lines()
    assert _by_customer(service)["1001"].specific_symbol == "99"
