"""The records of processing (GDPR Art. 30) and the retention of each kind of personal
data: ONE source. ``docs/PRIVACY.md`` is generated from it (``flask privacy doc``) and the
retention job (``app.privacy.retention``) reads its periods, so the document and the
behaviour cannot drift.

A period is set per kind with ``RETENTION_DAYS_<KIND>`` or ``RETENTION_YEARS_<KIND>``
(the kind's unit), in the app's config or the environment. "Years" count from the end of
the accounting period (the calendar year, Prague time) the record belongs to, as Act
563/1991 Sb. § 31 counts them. A setting below a statutory minimum stops the app.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

ACCOUNTING_MINIMUM_BASIS = (
    "zákon č. 563/1991 Sb., o účetnictví, § 31 odst. 2 písm. b): účetní doklady se uchovávají "
    "5 let počínaje koncem účetního období, kterého se týkají"
)

CONTROLLER = (
    "Správcem je obec, jejíž poplatek se platí (každá obec pro své platby, předpisy a služby); "
    "provozovatel portálu, Agentura regionálního rozvoje Libereckého kraje, je zpracovatelem "
    "podle čl. 28 GDPR. Pro účty občanů a pro účty pracovníků je správcem provozovatel."
)


class RetentionSettingError(ValueError):
    """A retention setting that is not a whole number, or below the statutory minimum."""


@dataclass(frozen=True)
class Retention:
    default: int
    unit: Literal["days", "years"]
    # From what moment the period runs.
    starts: str
    justification: str
    # What the job does at the end: "delete" the rows, "anonymise" them (personal fields
    # cleared, the rest kept), or "erase" (a citizen's account, as the citizen's own request).
    action: Literal["delete", "anonymise", "erase"]
    # What stays after the action, and for how long.
    kept: str
    minimum: int = 0
    minimum_basis: str = ""


@dataclass(frozen=True)
class Processing:
    key: str
    title: str
    data: str
    subjects: str
    purpose: str
    legal_basis: str
    recipients: str
    # None: not removed by the job (the document says who removes it and when).
    retention: Retention | None
    manual: str = ""

    @property
    def setting(self) -> str | None:
        if self.retention is None:
            return None
        return f"RETENTION_{self.retention.unit.upper()}_{self.key.upper()}"


_GATEWAY_RECIPIENTS = (
    "provozovatel platební brány, kterou plátce zvolí (e-mail plátce, částka, variabilní symbol); "
    "poskytovatel hostingu portálu (zpracovatel)"
)

PROCESSINGS: tuple[Processing, ...] = (
    Processing(
        key="abandoned_payments",
        title="Nedokončené platby",
        data="jméno a e-mail plátce, údaje platební brány (reference, odkaz), historie stavů",
        subjects="plátci, kteří platbu založili a nezaplatili",
        purpose="provedení platby, kterou plátce zahájil; dohledání neúspěšné platby na dotaz plátce",
        legal_basis="čl. 6 odst. 1 písm. e) GDPR (správa místních poplatků, zákon č. 565/1990 Sb.)",
        recipients=_GATEWAY_RECIPIENTS,
        retention=Retention(
            default=90,
            unit="days",
            starts="od založení platby (stav založená, neúspěšná, zrušená, vypršelá)",
            justification=(
                "brána může platbu potvrdit ještě po vypršení (přednost má stav brány) a plátce se může "
                "ptát, proč platba neprošla; po 90 dnech už nic z toho nenastane"
            ),
            action="anonymise",
            kept="částka, datum, služba, obec a stav zůstávají bez osobních údajů pro statistiku, bez omezení",
        ),
    ),
    Processing(
        key="paid_payments",
        title="Zaplacené platby a potvrzení o zaplacení",
        data="jméno a e-mail plátce, variabilní symbol, částka, datum, číslo potvrzení, historie stavů",
        subjects="plátci místních poplatků",
        purpose="přijetí platby, vydání potvrzení o zaplacení, vrácení platby, účetnictví obce",
        legal_basis=(
            "čl. 6 odst. 1 písm. c) a e) GDPR: zákon č. 565/1990 Sb., o místních poplatcích, "
            "zákon č. 280/2009 Sb., daňový řád, zákon č. 563/1991 Sb., o účetnictví"
        ),
        recipients=_GATEWAY_RECIPIENTS + "; obec (správce poplatku); poskytovatel e-mailu (potvrzení)",
        retention=Retention(
            default=10,
            unit="years",
            starts="od konce účetního období (kalendářního roku), ve kterém byla platba zaplacena",
            justification=(
                "potvrzení je účetní doklad (minimum 5 let od konce účetního období podle zákona o účetnictví); "
                "10 let odpovídá nejzazší lhůtě pro stanovení poplatku podle § 148 daňového řádu"
            ),
            action="anonymise",
            kept=(
                "účetní záznam bez osobních údajů (částka, datum, služba, číslo potvrzení, obec, variabilní "
                "symbol) zůstává bez omezení pro výkazy a ukazatele portálu"
            ),
            minimum=5,
            minimum_basis=ACCOUNTING_MINIMUM_BASIS,
        ),
    ),
    Processing(
        key="obligations",
        title="Předpisy plateb (seznamy plátců)",
        data="číslo plátce, jméno plátce, dlužná a zaplacená částka, splatnost, variabilní symbol, poznámka",
        subjects="poplatníci obce",
        purpose="vyhledání dlužné částky plátcem a její zaplacení, přehled úhrad pro obec",
        legal_basis="čl. 6 odst. 1 písm. e) GDPR (správa místních poplatků, zákon č. 565/1990 Sb.)",
        recipients="obec (správce poplatku); plátce, který zná číslo plátce, vidí zkrácené jméno",
        retention=Retention(
            default=5,
            unit="years",
            starts="od konce kalendářního roku splatnosti (bez splatnosti: roku nahrání)",
            justification=(
                "předpis je podkladem pohledávky obce v jejím účetnictví; po uzavření období jej obec vede "
                "ve svém systému, portál drží jen kopii pro placení"
            ),
            action="anonymise",
            kept="číslo plátce, částky, splatnost, variabilní symbol a služba zůstávají; jméno a poznámka se mažou",
            minimum=5,
            minimum_basis=ACCOUNTING_MINIMUM_BASIS,
        ),
    ),
    Processing(
        key="consent_records",
        title="Záznamy o souhlasu s podmínkami",
        data="verze a otisk odsouhlaseného textu, odkaz na platbu a účet občana, čas",
        subjects="plátci",
        purpose="prokázání, s jakým zněním podmínek plátce souhlasil",
        legal_basis="čl. 6 odst. 1 písm. c) a f) GDPR (prokázání souhlasu a plnění informační povinnosti)",
        recipients="nikdo mimo správce a zpracovatele",
        retention=Retention(
            default=1095,
            unit="days",
            starts="od udělení souhlasu",
            justification="obecná tříletá promlčecí lhůta (§ 629 zákona č. 89/2012 Sb.) pro nároky z platby",
            action="delete",
            kept="nic",
        ),
    ),
    Processing(
        key="citizen_accounts",
        title="Účty občanů (Bankovní identita, NIA)",
        data=(
            "identifikátor u poskytovatele identity, jméno, e-mail, otisk (HMAC) rodného čísla se souhlasem, "
            "čísla plátce, která si občan přidal"
        ),
        subjects="přihlášení občané",
        purpose="přehled plateb a předpisů občana, vyhledání předpisů podle rodného čísla se souhlasem",
        legal_basis="čl. 6 odst. 1 písm. e) GDPR; otisk rodného čísla čl. 6 odst. 1 písm. a) (souhlas)",
        recipients="poskytovatel identity (Bankovní identita, Národní bod pro identifikaci) při přihlášení",
        retention=Retention(
            default=730,
            unit="days",
            starts="od posledního přihlášení (bez přihlášení: od založení účtu)",
            justification="účet, do kterého se občan dva roky nepřihlásil, už neslouží svému účelu",
            action="erase",
            kept="platby zůstávají bez vazby na účet (řídí se lhůtami plateb)",
        ),
    ),
    Processing(
        key="obligation_imports",
        title="Nahrané soubory seznamů plátců",
        data="celý nahraný soubor (čísla plátců, jména, částky) a zpráva o chybných řádcích",
        subjects="poplatníci obce",
        purpose="import předpisů a zpráva úředníkovi o chybách v souboru",
        legal_basis="čl. 6 odst. 1 písm. e) GDPR",
        recipients="úředníci obce",
        retention=Retention(
            default=30,
            unit="days",
            starts="od nahrání souboru",
            justification="soubor je potřeba jen k importu a k opravě chyb; předpisy samy jsou v databázi",
            action="anonymise",
            kept="záznam o importu (název souboru, počty řádků, stav) bez obsahu a bez zprávy o řádcích",
        ),
    ),
    Processing(
        key="export_files",
        title="Exporty plateb uložené na disku",
        data="jména a e-maily plátců, částky, stavy plateb ve vybraném rozsahu",
        subjects="plátci",
        purpose="stažení velkého exportu úředníkem",
        legal_basis="čl. 6 odst. 1 písm. e) GDPR",
        recipients="úředník, který export vyžádal",
        retention=Retention(
            default=7,
            unit="days",
            starts="od vytvoření exportu",
            justification="soubor slouží jen ke stažení; úředník si jej může kdykoli vytvořit znovu",
            action="delete",
            kept="záznam o exportu (kdo, kdy, filtry, počet řádků) bez souboru",
        ),
    ),
    Processing(
        key="audit_log",
        title="Auditní záznam činností pracovníků",
        data="e-mail a IP adresa pracovníka, stav objektu před a po změně (u plateb i jméno a e-mail plátce)",
        subjects="pracovníci obcí a provozovatele, plátci",
        purpose="kontrola oprávněnosti zásahů (vrácení plateb, změny služeb, správa účtů)",
        legal_basis="čl. 6 odst. 1 písm. c) a f) GDPR; čl. 32 GDPR (zabezpečení zpracování)",
        recipients="provozovatel a správce obce; kontrolní orgány na vyžádání",
        retention=Retention(
            default=1825,
            unit="days",
            starts="od záznamu",
            justification="zásahy do plateb musí být dohledatelné po dobu uchování účetních dokladů (5 let)",
            action="delete",
            kept="nic; údaje plátců se ze záznamů mažou už při anonymizaci nebo výmazu platby",
        ),
    ),
    Processing(
        key="gateway_logs",
        title="Záznamy oznámení platebních bran a aplikační log",
        data=(
            "identifikátor a typ události brány, reference platby, čas přijetí; aplikační log "
            "(chyby, bez obsahu formulářů)"
        ),
        subjects="plátci (nepřímo přes referenci platby)",
        purpose="ochrana proti opakovanému oznámení, řešení provozních chyb",
        legal_basis="čl. 6 odst. 1 písm. f) GDPR; čl. 32 GDPR",
        recipients="poskytovatel hostingu (zpracovatel)",
        retention=Retention(
            default=90,
            unit="days",
            starts="od přijetí oznámení",
            justification=(
                "brány oznámení opakují jen několik dní; starší oznámení portál odmítá jako zastaralá. "
                "Aplikační log zapisuje portál na standardní výstup; jeho lhůtu nastavuje hosting "
                "(journald MaxRetentionSec=90day)"
            ),
            action="delete",
            kept="historie stavů u platby (řídí se lhůtou platby)",
        ),
    ),
    Processing(
        key="staff_accounts",
        title="Účty pracovníků obcí a provozovatele",
        data="jméno, e-mail, role, obec, otisk hesla, tajemství TOTP, čas posledního přihlášení",
        subjects="pracovníci obcí a provozovatele",
        purpose="přihlášení do administrace a řízení oprávnění",
        legal_basis="čl. 6 odst. 1 písm. b) a f) GDPR; čl. 32 GDPR",
        recipients="nikdo mimo provozovatele",
        retention=None,
        manual=(
            "po dobu trvání přístupu; provozovatel účet deaktivuje při odchodu pracovníka a smaže jej "
            "po uplynutí lhůty auditního záznamu, který na něj odkazuje"
        ),
    ),
)

BY_KEY: dict[str, Processing] = {p.key: p for p in PROCESSINGS}


def _value(config: Mapping[str, Any], key: str) -> Any:
    if key in config and config[key] not in (None, ""):
        return config[key]
    return os.environ.get(key) or None


def load_settings(config: Mapping[str, Any]) -> dict[str, int]:
    """The retention period of every kind that has one, from config or the environment,
    else the default. Raises RetentionSettingError with a message naming the setting and,
    for a period below a statutory minimum, the law."""
    settings: dict[str, int] = {}
    for p in PROCESSINGS:
        r = p.retention
        if r is None:
            continue
        raw = _value(config, p.setting)  # type: ignore[arg-type]
        if raw is None:
            settings[p.key] = r.default
            continue
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise RetentionSettingError(
                f"{p.setting}={raw!r}: the retention of “{p.title}” must be a whole number of {r.unit}."
            ) from None
        if value < 1:
            raise RetentionSettingError(
                f"{p.setting}={value}: the retention of “{p.title}” must be at least 1 {r.unit[:-1]}."
            )
        if value < r.minimum:
            raise RetentionSettingError(
                f"{p.setting}={value} is below the statutory minimum of {r.minimum} {r.unit} for “{p.title}” "
                f"({r.minimum_basis}). Set at least {r.minimum}."
            )
        settings[p.key] = value
    return settings
