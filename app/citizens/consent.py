"""Consent to the terms and acknowledgement of the privacy notice before a payment.

The texts are versioned (``ConsentText``); the first versions below are seeded by the
demo seed and created on first use when missing. The operator publishes a new version
with ``publish_consent_text``; past versions stay readable on the public pages.
"""

from __future__ import annotations

import hashlib
import re

from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import db_session, utcnow
from app.errors import DomainError
from app.models import ConsentKind, ConsentRecord, ConsentText, Payment

OPERATOR = "ARR – Agentura regionálního rozvoje, spol. s r.o."

TERMS_TITLE = "Obchodní podmínky Platebního portálu"
TERMS_BODY = f"""## 1. Úvodní ustanovení
Tyto obchodní podmínky upravují placení místních poplatků a dalších plateb obcím prostřednictvím Platebního portálu obcí Libereckého kraje (dále jen „portál“). Portál provozuje {OPERATOR} (dále jen „provozovatel“) na základě pověření Libereckého kraje.

Příjemcem každé platby je obec, jejíž službu plátce na portálu zvolil. Provozovatel není stranou právního vztahu mezi plátcem a obcí a za obec nepřijímá žádné peníze: platba jde přes platební bránu nebo převodem přímo na účet obce.

## 2. Platba
Plátce si vybere obec a službu, vyplní jméno a e-mail, zkontroluje údaje a zaplatí platební kartou přes platební bránu, nebo převodem z účtu podle zobrazených platebních údajů (QR Platba).

Platba kartou je uhrazena okamžikem, kdy ji platební brána potvrdí. Platba převodem je uhrazena připsáním na účet obce s uvedeným variabilním symbolem; bez správného variabilního symbolu nemusí obec platbu přiřadit.

Plátce odpovídá za správnost zadaných údajů. Výši poplatku a jeho splatnost stanoví obecně závazná vyhláška obce, nikoli portál.

## 3. Potvrzení o zaplacení
Po uhrazení platby kartou portál vystaví potvrzení o zaplacení a pošle je na zadaný e-mail; lze je také stáhnout ze stránky platby. Potvrzení není daňovým dokladem: místní poplatky nejsou předmětem daně z přidané hodnoty.

## 4. Vrácení platby a reklamace
O vrácení přeplatku nebo chybné platby rozhoduje obec podle zákona č. 280/2009 Sb., daňový řád. Žádost podejte obecnímu úřadu obce, které jste platili. Vrácení platby kartou proběhne na kartu, ze které byla platba provedena.

Technické potíže s portálem hlaste provozovateli; nejsou důvodem k prodloužení splatnosti poplatku.

## 5. Dostupnost
Provozovatel usiluje o nepřetržitý provoz portálu, nezaručuje jej však. Při výpadku portálu lze poplatek zaplatit převodem nebo na pokladně obecního úřadu.

## 6. Závěrečná ustanovení
Tyto podmínky se řídí právem České republiky. Provozovatel je může změnit; změněné znění platí pro platby zahájené po jeho zveřejnění. Předchozí znění zůstávají na portálu k nahlédnutí.
"""

PRIVACY_TITLE = "Zásady zpracování osobních údajů"
PRIVACY_BODY = f"""## 1. Správce a zpracovatel
Správcem vašich osobních údajů je obec, které platíte (její název a IČO vidíte na stránce platby i na potvrzení o zaplacení). Zpracovatelem, který pro obce portál provozuje, je {OPERATOR}. Zpracovatel zpracovává údaje jen podle pokynů obce a na základě smlouvy o zpracování osobních údajů podle čl. 28 obecného nařízení o ochraně osobních údajů (EU) 2016/679 (dále jen „GDPR“).

## 2. Jaké údaje zpracováváme
- jméno a příjmení plátce a e-mailovou adresu,
- zvolenou službu, částku, variabilní symbol a případně zákaznické číslo (číslo předpisu),
- datum a čas platby, její stav a identifikátor platby u platební brány,
- záznam o souhlasu s obchodními podmínkami (verze textu a čas).

Údaje o platební kartě portál nezpracovává; zadáváte je přímo platební bráně. IP adresu k platbě neukládáme.

## 3. Účel a právní základ
- Evidence a přiřazení plateb místních poplatků a dalších příjmů obce: plnění právní povinnosti a výkon veřejné moci podle čl. 6 odst. 1 písm. c) a e) GDPR, ve spojení se zákonem č. 565/1990 Sb., o místních poplatcích, a zákonem č. 280/2009 Sb., daňový řád.
- Vystavení a zaslání potvrzení o zaplacení: čl. 6 odst. 1 písm. e) GDPR.
- Vedení účetnictví obce: čl. 6 odst. 1 písm. c) GDPR ve spojení se zákonem č. 563/1991 Sb., o účetnictví.

## 4. Doba uchování
Údaje o platbách jsou účetními záznamy a uchováváme je 10 let od konce účetního období, ve kterém platba proběhla. Nedokončené platby (zrušené, zamítnuté, neuhrazené) mažeme nebo anonymizujeme nejpozději po 3 letech.

## 5. Příjemci
Údaje předáváme jen platební bráně (v rozsahu nutném pro provedení platby), obci, které platíte, a orgánům veřejné moci, pokud to ukládá zákon. Údaje nepředáváme do zemí mimo Evropský hospodářský prostor.

## 6. Vaše práva
Máte právo na přístup ke svým údajům, na jejich opravu, na omezení zpracování a právo vznést námitku proti zpracování prováděnému podle čl. 6 odst. 1 písm. e) GDPR. Výmaz údajů, které obec musí uchovávat podle zákona, nelze provést před uplynutím doby uchování.

Svá práva uplatněte u obce, které jste platili, nebo u jejího pověřence pro ochranu osobních údajů. Máte také právo podat stížnost u Úřadu pro ochranu osobních údajů, Pplk. Sochora 27, 170 00 Praha 7, www.uoou.gov.cz.
"""

DEFAULT_TEXTS = {
    ConsentKind.TERMS: (TERMS_TITLE, TERMS_BODY),
    ConsentKind.PRIVACY: (PRIVACY_TITLE, PRIVACY_BODY),
}


class ConsentRequired(DomainError):
    """The payer did not agree to the terms and the privacy notice."""

    domain = "consent"


def require_consent(agreed: bool) -> None:
    """A payment starts only with the payer's consent to the current texts."""
    if not agreed:
        raise ConsentRequired("required")


def text_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def ensure_consent_texts(session: Session | None = None) -> int:
    """Create the first version of each text that has none; returns how many were made.

    Commits only when it created something."""
    session = session or db_session()
    created = 0
    for kind, (title, body) in DEFAULT_TEXTS.items():
        exists = session.scalar(select(ConsentText.id).where(ConsentText.kind == kind).limit(1))
        if exists is None:
            session.add(ConsentText(kind=kind, version=1, title=title, body=body, hash=text_hash(body)))
            created += 1
    if created:
        try:
            session.commit()
        except IntegrityError:
            # Another request seeded them at the same moment.
            session.rollback()
    return created


def current_text(kind: ConsentKind | str, session: Session | None = None) -> ConsentText:
    """The latest published version of a text, seeding the first one when missing."""
    session = session or db_session()
    stmt = (
        select(ConsentText)
        .where(ConsentText.kind == ConsentKind(kind))
        .order_by(ConsentText.version.desc())
        .limit(1)
    )
    text = session.scalar(stmt)
    if text is None:
        ensure_consent_texts(session)
        text = session.scalar(stmt)
    if text is None:  # pragma: no cover - only if the seed itself failed
        raise LookupError(f"no consent text of kind {kind}")
    return text


def text_versions(kind: ConsentKind | str, session: Session | None = None) -> list[ConsentText]:
    session = session or db_session()
    current_text(kind, session)
    return list(
        session.scalars(
            select(ConsentText).where(ConsentText.kind == ConsentKind(kind)).order_by(ConsentText.version.desc())
        )
    )


def text_version(kind: ConsentKind | str, version: int, session: Session | None = None) -> ConsentText | None:
    session = session or db_session()
    return session.scalar(
        select(ConsentText).where(ConsentText.kind == ConsentKind(kind), ConsentText.version == version)
    )


def publish_consent_text(kind: ConsentKind | str, title: str, body: str, session: Session | None = None) -> ConsentText:
    """A new version of a text (the operator's edit). The old ones are kept. Commits."""
    session = session or db_session()
    kind = ConsentKind(kind)
    body = body.strip() + "\n"
    if not title.strip() or len(body.strip()) < 20:
        raise ValueError("empty text")
    current_text(kind, session)
    last = session.scalar(select(func.max(ConsentText.version)).where(ConsentText.kind == kind)) or 0
    text = ConsentText(kind=kind, version=last + 1, title=title.strip()[:200], body=body, hash=text_hash(body))
    session.add(text)
    session.commit()
    return text


_PENDING = "consent_pending"


def give_consent(payment: Payment, *, citizen_id: int | None = None, session: Session | None = None) -> None:
    """The payer ticked the box. The consent is recorded when the payment moves to
    ``started``, inside that transaction: no start, no record; no record, no start."""
    session = session or db_session()
    # Read (or seed) the texts now, before the start transaction writes anything.
    texts = [current_text(kind, session) for kind in (ConsentKind.TERMS, ConsentKind.PRIVACY)]
    session.info.setdefault(_PENDING, {})[payment.id] = ([t.id for t in texts], citizen_id)


def record_on_start(payment: Payment, session: Session) -> None:
    pending = session.info.get(_PENDING, {}).pop(payment.id, None)
    if pending is not None:
        text_ids, citizen_id = pending
        record_consent(payment, [session.get(ConsentText, i) for i in text_ids], citizen_id=citizen_id, session=session)


def record_consent(
    payment: Payment,
    texts: list[ConsentText],
    *,
    citizen_id: int | None = None,
    session: Session | None = None,
) -> list[ConsentRecord]:
    """One record per text: its id, version and hash, the time and the payment. Does
    not commit."""
    session = session or db_session()
    now = utcnow()
    records = [
        ConsentRecord(
            consent_text_id=text.id,
            kind=text.kind,
            version=text.version,
            hash=text.hash,
            payment_id=payment.id,
            citizen_id=citizen_id,
            created_at=now,
        )
        for text in texts
    ]
    session.add_all(records)
    session.flush()
    return records


_HEADING = re.compile(r"^#{1,3}\s+(.*)$")


def render_text(body: str) -> Markup:
    """The small markup of the texts as HTML: ``## heading``, ``- item``, paragraphs.

    Everything is escaped: texts come from the operator, not from trusted templates."""
    out: list[str] = []
    in_list = False
    for raw in body.splitlines():
        line = raw.strip()
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{escape(line[2:])}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if not line:
            continue
        m = _HEADING.match(line)
        if m:
            out.append(f"<h2>{escape(m.group(1))}</h2>")
        else:
            out.append(f"<p>{escape(line)}</p>")
    if in_list:
        out.append("</ul>")
    return Markup("\n".join(out))
