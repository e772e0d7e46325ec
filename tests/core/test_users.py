"""User administration: validation, optimistic locking, audit entries, never deleting history."""

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from crm_impl.core import users
from crm_impl.core.db import UnitOfWork
from crm_impl.core.errors import ConflictError, ValidationError
from crm_impl.core.models import AuditEntry, ProjectCreate, UserAccount, UserCreate, UserUpdate


def _count(engine, model):
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"username": "", "password": "long-enough-1", "roles": ["sales_rep"]}, "A username has"),
        ({"username": "Bad Name!", "password": "long-enough-1", "roles": ["sales_rep"]}, "A username has"),
        ({"username": "ok", "password": "short", "roles": ["sales_rep"]}, "at least 8 characters"),
        ({"username": "ok", "password": "long-enough-1", "roles": []}, "Roles is required"),
        ({"username": "ok", "password": "long-enough-1", "roles": ["king"]}, "“king” is not one of"),
        (
            {"username": "ok", "password": "long-enough-1", "roles": ["sales_rep"], "email": "x@"},
            "not a valid e-mail",
        ),
        ({"username": "root", "password": "long-enough-1", "roles": ["sales_rep"]}, "already exists"),
    ],
)
def test_bad_input_names_the_problem_and_writes_nothing(engine, make_user, kwargs, message):
    admin = make_user("root", "admin")
    users_before, audit_before = _count(engine, UserAccount), _count(engine, AuditEntry)
    with UnitOfWork(engine) as uow, pytest.raises(ValidationError) as err:
        users.create_user(session=uow.session, actor=admin, data=UserCreate(**kwargs))
        uow.commit()
    assert message in err.value.message()
    assert (_count(engine, UserAccount), _count(engine, AuditEntry)) == (users_before, audit_before)


def test_messages_are_translated(engine, make_user):
    from crm_impl.core.i18n import set_locale

    admin = make_user("root", "admin")
    with UnitOfWork(engine) as uow, pytest.raises(ValidationError) as err:
        users.create_user(
            session=uow.session,
            actor=admin,
            data=UserCreate(username="ok", password="long-enough-1", roles=[]),
        )
    set_locale("pl")
    assert err.value.message() == "Pole „Role” jest wymagane."


def test_two_admins_edit_the_same_user_second_gets_conflict(engine, make_user):
    admin = make_user("root", "admin")
    anna = make_user("anna", "sales_rep")
    # both loaded the form at version 1
    with UnitOfWork(engine) as first:
        users.update_user(
            session=first.session,
            actor=admin,
            user_id=anna.id,
            expected_version=1,
            data=UserUpdate(display_name="Anna Nowak"),
        )
        first.commit()
    with UnitOfWork(engine) as second, pytest.raises(ConflictError) as err:
        users.update_user(
            session=second.session,
            actor=admin,
            user_id=anna.id,
            expected_version=1,
            data=UserUpdate(display_name="Anna Kowalska"),
        )
    assert "changed by someone else" in err.value.message()
    with Session(engine) as s:
        assert s.get(UserAccount, anna.id).display_name == "Anna Nowak"


def test_concurrent_transactions_are_detected_by_the_version_column(engine, make_user):
    admin = make_user("root", "admin")
    anna = make_user("anna", "sales_rep")
    with pytest.raises(ConflictError), UnitOfWork(engine) as b:
        loaded = b.session.get(UserAccount, anna.id)  # B has read the row (version 1) ...
        assert loaded.version == 1
        with UnitOfWork(engine) as a:  # ... when A saves it
            users.update_user(
                session=a.session,
                actor=admin,
                user_id=anna.id,
                expected_version=1,
                data=UserUpdate(display_name="From A"),
            )
            a.commit()
        users.update_user(
            session=b.session,
            actor=admin,
            user_id=anna.id,
            expected_version=None,
            data=UserUpdate(display_name="From B"),
        )
        b.commit()
    with Session(engine) as s:
        user = s.get(UserAccount, anna.id)
    assert (user.display_name, user.version) == ("From A", 2)


def test_update_audits_only_changed_fields(engine, make_user):
    admin = make_user("root", "admin")
    anna = make_user("anna", "sales_rep")
    with UnitOfWork(engine) as uow:
        users.update_user(
            session=uow.session,
            actor=admin,
            user_id=anna.id,
            expected_version=1,
            data=UserUpdate(roles=["sales_rep", "sales_manager"]),
        )
        uow.commit()
    with Session(engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "update")).one()
    assert entry.username == "root" and entry.entity == "user" and entry.entity_id == str(anna.id)
    assert entry.before == {"roles": ["sales_rep"], "version": 1}
    assert entry.after == {"roles": ["sales_manager", "sales_rep"], "version": 2}


def test_every_user_write_leaves_an_audit_entry(engine, make_user):
    admin = make_user("root", "admin")
    with UnitOfWork(engine) as uow:
        new = users.create_user(
            session=uow.session,
            actor=admin,
            data=UserCreate(username="eve", password="long-enough-1", roles=["tester"]),
        )
        users.reset_password(session=uow.session, actor=admin, user_id=new.id, new_password="another-long-1")
        users.unlock(session=uow.session, actor=admin, user_id=new.id)
        users.set_active(session=uow.session, actor=admin, user_id=new.id, active=False)
        users.set_active(session=uow.session, actor=admin, user_id=new.id, active=True)
        uow.commit()
    with Session(engine) as s:
        actions = s.exec(
            select(AuditEntry.action).where(AuditEntry.entity_id == str(new.id)).order_by(AuditEntry.id)
        ).all()
    assert actions == ["create", "reset_password", "unlock", "deactivate", "activate"]


def test_admin_cannot_lock_themselves_out(engine, make_user):
    admin = make_user("root", "admin")
    with UnitOfWork(engine) as uow:
        with pytest.raises(ValidationError):
            users.set_active(session=uow.session, actor=admin, user_id=admin.id, active=False)
        with pytest.raises(ValidationError):
            users.update_user(
                session=uow.session,
                actor=admin,
                user_id=admin.id,
                expected_version=1,
                data=UserUpdate(roles=["sales_rep"]),
            )


def test_preferences_language_and_project_are_remembered(engine, make_user):
    from crm_impl.rollout.services import projects

    admin = make_user("root", "admin")
    with UnitOfWork(engine) as uow:
        project = projects.create_project(
            session=uow.session, actor=admin, data=ProjectCreate(name="Rollout")
        )
        users.set_preferences(session=uow.session, actor=admin, locale="pl", active_project_id=project.id)
        uow.commit()
    with Session(engine) as s:
        user = s.get(UserAccount, admin.id)
    assert (user.locale, user.active_project_id) == ("pl", project.id)
    with UnitOfWork(engine) as uow, pytest.raises(ValidationError):
        users.set_preferences(session=uow.session, actor=admin, locale="de")
