"""The one write path (crm_impl.core.writes) on SQLite and PostgreSQL: a stale version is refused
up front, a lost race is refused at flush, before/after are audited, unknown fields are refused,
and a failed check leaves the row as it was."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from crm_impl.core import writes
from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import ConflictError, ValidationError
from crm_impl.core.models import AuditEntry
from crm_impl.pipeline.models import Account, AccountUpdate


@pytest.fixture
def admin(make_user):
    return make_user("root", "admin")


@pytest.fixture
def account_id(engine, admin) -> int:
    with UnitOfWork(engine) as uow:
        row = writes.create(
            session=uow.session, actor=admin, row=Account(name="Budmax", city="Opole"), entity="account"
        )
        uow.commit()
        return int(row.id or 0)


def _update(session: Session, actor, account_id: int, expected: int | None, **kwargs):  # type: ignore[no-untyped-def]
    row = writes.get(session, Account, account_id, "account")
    return writes.update_versioned(
        session=session, actor=actor, row=row, expected_version=expected, entity="account", **kwargs
    )


def _state(engine, account_id: int) -> tuple[str, str, int]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        row = s.get(Account, account_id)
        assert row is not None
        return row.name, row.city, row.version


def _audits(engine) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.exec(select(AuditEntry).order_by(AuditEntry.id)).all())


def test_create_audits_the_full_row(engine, account_id):
    (entry,) = _audits(engine)
    assert (entry.entity, entry.action, entry.entity_id) == ("account", "create", str(account_id))
    assert entry.after is not None and entry.after["name"] == "Budmax" and entry.before is None


def test_update_audits_before_and_after_of_the_changed_fields(engine, admin, account_id):
    with UnitOfWork(engine) as uow:
        _update(uow.session, admin, account_id, 1, changes=AccountUpdate(city="Wrocław"))
        uow.commit()
    assert _state(engine, account_id) == ("Budmax", "Wrocław", 2)
    entry = _audits(engine)[-1]
    assert entry.action == "update"
    assert entry.before == {"city": "Opole", "version": 1}
    assert entry.after == {"city": "Wrocław", "version": 2}


def test_only_the_fields_the_caller_set_are_applied(engine, admin, account_id):
    data = AccountUpdate(name="Budmax SA")
    assert data.changes() == {"name": "Budmax SA"}  # city left unset stays as it is
    with UnitOfWork(engine) as uow:
        _update(uow.session, admin, account_id, 1, changes=data)
        uow.commit()
    assert _state(engine, account_id) == ("Budmax SA", "Opole", 2)


def test_a_stale_version_is_refused_and_nothing_written(engine, admin, account_id):
    with UnitOfWork(engine) as uow:
        _update(uow.session, admin, account_id, 1, changes={"city": "Kraków"})
        uow.commit()
    with UnitOfWork(engine) as uow, pytest.raises(ConflictError) as err:
        _update(uow.session, admin, account_id, 1, changes={"city": "Gdańsk"})  # the form was at 1
    assert "changed by someone else" in err.value.message()
    assert _state(engine, account_id) == ("Budmax", "Kraków", 2)


def test_a_lost_race_is_refused_at_flush(engine, admin, account_id):
    """Both read version 1; A commits first; B's UPDATE finds no row at version 1."""
    with UnitOfWork(engine) as b:
        loaded = writes.get(b.session, Account, account_id, "account")
        assert loaded.version == 1
        with UnitOfWork(engine) as a:
            _update(a.session, admin, account_id, 1, changes={"city": "From A"})
            a.commit()
        with pytest.raises(ConflictError):
            writes.update_versioned(
                session=b.session,
                actor=admin,
                row=loaded,
                expected_version=1,  # still what B saw: the check passes, the flush is refused
                changes={"city": "From B"},
                entity="account",
            )
    assert _state(engine, account_id) == ("Budmax", "From A", 2)
    assert [e.action for e in _audits(engine)] == ["create", "update"]


def test_an_unknown_field_is_refused(engine, admin, account_id):
    with UnitOfWork(engine) as uow, pytest.raises(ValidationError) as err:
        _update(uow.session, admin, account_id, 1, changes={"citty": "Łódź"})
    assert "citty" in err.value.message()
    assert _state(engine, account_id) == ("Budmax", "Opole", 1)


def test_a_failed_check_leaves_the_row_unchanged(engine, admin, account_id):
    seen: list[dict] = []

    def no_warsaw(values: dict) -> None:
        seen.append(values)
        if values["city"] == "Warszawa":
            raise ValidationError("error.required", field="pipeline.field.city")

    with UnitOfWork(engine) as uow:
        row = writes.get(uow.session, Account, account_id, "account")
        with pytest.raises(ValidationError):
            writes.update_versioned(
                session=uow.session,
                actor=admin,
                row=row,
                expected_version=1,
                changes=AccountUpdate(city="Warszawa"),
                entity="account",
                check=no_warsaw,
            )
        assert (row.city, row.version) == ("Opole", 1)  # nothing was set on the row itself
        assert not uow.session.dirty
        uow.commit()  # even a commit of the same session writes nothing
    assert seen[0]["name"] == "Budmax" and seen[0]["city"] == "Warszawa"  # merged values
    assert _state(engine, account_id) == ("Budmax", "Opole", 1)
    assert [e.action for e in _audits(engine)] == ["create"]
