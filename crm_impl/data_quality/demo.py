"""The data-quality part of the demo company (issue 11), written through the ordinary services
as dated steps: a few of the slips real users make (placeholder contacts, a fake phone, a
misspelt sector, a deal moved to Contract with no value or close date, a round-million value,
bank details imported with a typo in an IBAN, a REGON and a postal code),
and a daily snapshot of the scores at the end of each of the last `SNAPSHOT_DAYS` days, taken by
the sales manager as the history replays (so each one sees the data as it was that evening)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

from crm_impl.core.permissions import Actor
from crm_impl.data_quality import services
from crm_impl.pipeline import importing
from crm_impl.pipeline.models import Account, AccountUpdate, ContactCreate, DealCreate
from crm_impl.pipeline.services import deals as pipeline

Event = tuple[datetime, Callable[[], None]]
SNAPSHOT_DAYS = 14  # each is a full scan: two weeks keep the demo quick to build (CI builds it often)


def _account_of(session: Session, actor: Actor, nth: int = 0) -> Account | None:
    rows = session.exec(
        select(Account).where(Account.owner_id == actor.id).order_by(col(Account.id)).offset(nth).limit(1)
    ).all()
    return rows[0] if rows else None


def _typo(number: str) -> str:
    """The last digit one off: a mistyped check digit, which every checksum catches."""
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def events(*, session: Session, actors: dict[str, Actor], today: date) -> list[Event]:
    """The slips and the snapshots as dated steps. `actors` (by demo login) may still be filling
    up when this is called: the steps read it when they run."""
    out: list[Event] = []

    def at(days_ago: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(today - timedelta(days=days_ago), time(hour, minute), UTC)

    def contact(login: str, nth: int, data: ContactCreate) -> Callable[[], None]:
        def run() -> None:
            account = _account_of(session, actors[login], nth)
            if account is not None and account.id is not None:
                data.account_id = int(account.id)
                pipeline.create_contact(session=session, actor=actors[login], data=data)

        return run

    def misspelt_sector() -> None:
        account = _account_of(session, actors["rep1"], 1)
        if account is not None and account.id is not None:
            pipeline.update_account(
                session=session,
                actor=actors["rep1"],
                account_id=int(account.id),
                expected_version=account.version,
                data=AccountUpdate(sector="constrution", city=""),
            )

    def bank_details() -> None:
        """The accountant's list of customers' bank accounts and addresses, imported by the sales
        manager, with two typos the import keeps (a form would refuse them; data quality flags
        them): one digit off in an IBAN and in a REGON, and a postal code missing a digit."""
        a = _account_of(session, actors["rep2"], 2)
        b = _account_of(session, actors["rep3"], 1)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["name", "regon", "iban", "postal_code", "street"])
        if a is not None:
            writer.writerow([a.name, "", _typo(a.iban or "PL61109010140000071219812874"), "", ""])
        if b is not None and b.regon:
            writer.writerow([b.name, _typo(b.regon), "", (b.postal_code or "31-234")[:-1], ""])
        importing.run_import(
            session=session,
            actor=actors["sales_manager"],
            entity="accounts",
            data=out.getvalue().encode(),
            dry_run=False,
            filename="rachunki-klientow.csv",
        )

    def deal(login: str, nth: int, data: DealCreate) -> Callable[[], None]:
        def run() -> None:
            account = _account_of(session, actors[login], nth)
            if account is not None:
                data.account_id = account.id
                pipeline.create_deal(session=session, actor=actors[login], data=data)

        return run

    # Test entries a rep made while learning the system, never cleaned up (slide 11).
    out.append(
        (
            at(52, 9, 12),
            contact(
                "sales_rep",
                0,
                ContactCreate(account_id=0, full_name="Test Test", email="test@test.com", phone="111111111"),
            ),
        )
    )
    out.append(
        (
            at(41, 14, 3),
            contact(
                "rep2",
                0,
                ContactCreate(account_id=0, full_name="asdf", email="asdf@example.com", phone="123456789"),
            ),
        )
    )
    out.append(
        (
            at(23, 11, 40),
            contact(
                "sales_rep",
                1,
                ContactCreate(
                    account_id=0,
                    full_name="Anna Wiśniewska",
                    email="test@example.com",
                    phone="+48 600 000 000",
                ),
            ),
        )
    )
    out.append((at(30, 16, 20), misspelt_sector))
    out.append((at(12, 10, 15), bank_details))
    # Moved straight to Contract to get it off the list, without a value or a close date.
    out.append((at(18, 10, 5), deal("rep3", 0, DealCreate(title="Umowa ramowa 2027", stage_key="contract"))))
    # A value typed with too many zeros.
    out.append(
        (
            at(9, 13, 30),
            deal("rep4", 0, DealCreate(title="Dostawa cementu – hala", stage_key="offer", value="5000000")),
        )
    )

    def snapshot() -> None:
        services.take_snapshot(session=session, actor=actors["sales_manager"])

    for days_ago in range(SNAPSHOT_DAYS, 0, -1):
        out.append((at(days_ago, 23, 50), snapshot))
    return out
