"""What goes wrong with bank statements and bank accounts, in words a clerk understands.

``BankingError.code`` is stable (tests, the CLI's exit); ``message`` is Czech, translated
when shown (``describe``)."""

from __future__ import annotations

from flask_babel import gettext

from app.banking.statements import StatementError
from app.i18n import N_

STATEMENT_MESSAGES = {
    "wrong_format": N_("Soubor není bankovní výpis: očekává se camt.053 (XML), GPC/ABO, MT940 nebo JSON z Fio."),
    "wrong_encoding": N_("Soubor má nesprávné kódování znaků: výpis musí být v UTF-8 nebo Windows-1250."),
    "truncated": N_("Soubor je neúplný (useknutý): stáhněte výpis z banky znovu."),
    "balance_mismatch": N_("Počáteční zůstatek a pohyby nedávají konečný zůstatek výpisu: výpis nebyl načten."),
    "too_large": N_("Soubor je větší než 50 MB: nahrajte kratší období."),
    "bad_line": N_("Výpis obsahuje nečitelný řádek."),
    "wrong_currency": N_("Výpis je v jiné měně, než vede tento účet."),
    "empty": N_("Soubor je prázdný."),
    "mixed_accounts": N_("Soubor obsahuje výpisy více účtů: nahrajte je jednotlivě."),
}
BANKING_MESSAGES = {
    "unknown_account": N_("Výpis je z účtu %(account)s, který není účtem vaší obce v portálu."),
    "no_account": N_("Výpis neuvádí číslo účtu."),
    "not_unmatched": N_("Tento pohyb už není mezi nespárovanými."),
    "not_matched": N_("Tento pohyb není spárovaný."),
    "nothing_to_pay": N_("Předpis je už zaplacený."),
    "refund_to_send": N_("U platby čeká vrácení k odeslání z banky: potvrďte jeho odeslání, než spárování zrušíte."),
    "payment_not_waiting": N_("Platba nečeká na převod (je zaplacená, zrušená nebo u platební brány)."),
    "amount_short": N_("Převedená částka je menší než částka platby."),
    "no_target": N_("Předpis nebo platba s tímto variabilním symbolem v obci neexistuje."),
    "no_token": N_("Účet nemá nastavený token Fio API."),
    "bad_account": N_("Neplatné číslo účtu: zadejte ho ve tvaru 123456789/0100 nebo 19-2000145399/0800."),
    "account_exists": N_("Tento účet už je v portálu evidován."),
    "no_keys": N_("Token nelze uložit: server nemá nastavené šifrovací klíče (SECRET_ENCRYPTION_KEYS)."),
}


class BankingError(Exception):
    def __init__(self, code: str, detail: str = "", **params: str) -> None:
        assert code in BANKING_MESSAGES or code in STATEMENT_MESSAGES, code
        self.code = code
        self.detail = detail
        self.params = params
        super().__init__(f"{code}: {detail or BANKING_MESSAGES.get(code) or STATEMENT_MESSAGES.get(code)}")

    @classmethod
    def from_statement(cls, exc: StatementError) -> BankingError:
        where = f" (line {exc.line})" if exc.line is not None else ""
        return cls(exc.code, exc.message + where)

    def describe(self) -> str:
        """The clerk's message (translated), with the technical detail after it."""
        text = gettext(BANKING_MESSAGES.get(self.code) or STATEMENT_MESSAGES[self.code], **self.params)
        return f"{text} ({self.detail})" if self.detail else text
