"""Files and mappings from the hostile review (issue 8, item 9) that crashed the importer: each
now gives a translated message naming the option, line or column, a dry run says the same as
the real run, and nothing is written — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from crm_impl.cli import app
from crm_impl.core.errors import ValidationError
from crm_impl.core.i18n import set_locale
from crm_impl.importers import mapping as mapping_mod
from crm_impl.pipeline.models import Account, Deal
from tests.importers.test_files import counts, run


@pytest.fixture
def manager(make_user):  # type: ignore[no-untyped-def]
    return make_user("importer", "sales_manager")


def both(engine, session, actor, entity, data, mapping=None):  # type: ignore[no-untyped-def]
    """The dry run and the real run: the same errors, and the database as it was."""
    before = counts(session)
    dry = run(engine, actor, entity, data, mapping=mapping, dry_run=True)
    real = run(engine, actor, entity, data, mapping=mapping, dry_run=False, strict=True)
    assert [e.message() for e in dry.errors] == [e.message() for e in real.errors]
    assert not real.written and counts(session) == before
    return real


def test_deals_without_a_closed_column(engine, session, manager):
    data = b"external_ref,title,stage,created\nD1,Hall,prospect,2024-03-01\nD2,Shed,prospect,\n"
    dry = run(engine, manager, "deals", data, dry_run=True)
    assert (dry.rejected, dry.created) == (0, 2)
    report = run(engine, manager, "deals", data, dry_run=False)
    assert (report.rejected, report.created) == (0, 2)
    deals = {d.external_ref: d for d in session.exec(select(Deal)).all()}
    assert deals["D1"].created_at.date().isoformat() == "2024-03-01" and deals["D1"].closed_at is None


def test_closed_without_created_keeps_past_close_dates(engine, session, manager):
    run(engine, manager, "accounts", b"name\nAcme\n", dry_run=False)
    data = (
        b"external_ref,title,stage,account,closed\n"
        b"L1,Old,lost,Acme,2019-05-06\nW1,Won,completed,Acme,06.05.2020\n"
    )
    report = run(engine, manager, "deals", data, dry_run=False)
    assert (report.rejected, report.created) == (0, 2), report.errors_frame()
    lost = session.exec(select(Deal).where(Deal.external_ref == "L1")).one()
    # no creation date: the deal was created when it closed, not "now" (after its close)
    assert lost.closed_at is not None and lost.closed_at.date().isoformat() == "2019-05-06"
    assert lost.created_at <= lost.closed_at


def test_close_before_creation_still_refused_with_the_text_as_typed(engine, session, manager):
    data = b"title,stage,created,closed\nX,lost,2024-05-01,2024-04-01\n"
    report = both(engine, session, manager, "deals", data)
    (err,) = report.errors
    assert (err.line, err.column, err.key, err.value) == (
        2,
        "closed",
        "imports.error.date_order",
        "2024-04-01",
    )


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
def test_line_endings(engine, session, manager, ending):
    text = ending.join(["name,city", "Acme,Kraków", "Beta,Gdańsk", "=cmd(),x"]) + ending
    dry = run(engine, manager, "accounts", text.encode(), dry_run=True)
    assert (dry.total_rows, dry.created, dry.rejected) == (3, 2, 1)
    assert [(e.line, e.column) for e in dry.errors] == [(4, "name")]
    run(engine, manager, "accounts", text.encode(), dry_run=False)
    assert sorted(session.exec(select(Account.city)).all()) == ["Gdańsk", "Kraków"]


@pytest.mark.parametrize(
    ("data", "column", "value"),
    [
        (b"title,stage,created\nA,prospect,1500-01-01\n", "created", "1500-01-01"),
        (b"title,stage,created,closed\nA,lost,2020-01-01,9999-12-31\n", "closed", "9999-12-31"),
        (b"title,stage,expected_close\nA,prospect,31.12.2999\n", "expected_close", "31.12.2999"),
        (b"title,stage,stage_entered\nA,prospect,0001-01-01\n", "stage_entered", "0001-01-01"),
    ],
)
def test_dates_outside_the_range_are_row_errors(engine, session, manager, data, column, value):
    report = both(engine, session, manager, "deals", data)
    assert [(e.line, e.column, e.key, e.value) for e in report.errors] == [
        (2, column, "imports.error.date_range", value)
    ]
    assert "1900" in report.errors[0].message() and "2199" in report.errors[0].message()


def test_settlement_date_outside_the_range(engine, session, manager):
    run(engine, manager, "accounts", b"name\nAcme\n", dry_run=False)
    report = both(engine, session, manager, "settlements", b"account,as_of,receivable\nAcme,0001-01-01,5\n")
    assert [(e.column, e.key) for e in report.errors] == [("as_of", "imports.error.date_range")]


@pytest.mark.parametrize(
    ("toml", "option"),
    [
        ('[options]\ndate_format = "%Q"\n', "[options] date_format"),
        ('[options]\ndate_format = "%d-%m"\n', "[options] date_format"),  # no year: every date 1900
        ('[options]\ndate_format = "%Y-%m-%"\n', "[options] date_format"),
        ('[options]\ndelimiter = "ab"\n', "[options] delimiter"),
        ('[options]\ndelimiter = "\\""\n', "[options] delimiter"),
        ('[options]\nencoding = "rot13"\n', "[options] encoding"),
        ('[options]\nencoding = "no-such-codec"\n', "[options] encoding"),
        ("[options]\nencoding = 5\n", "[options] encoding"),
        ('[options]\ndecimal = ";"\n', "[options] decimal"),
        ('[options]\nnull_values = "x"\n', "[options] null_values"),
        ('[deals.options]\ndate_format = "%Q"\n', "[deals.options] date_format"),
        ('[deals.options]\nencoding = "zlib"\n', "[deals.options] encoding"),
    ],
)
def test_bad_mapping_options_are_named(engine, session, manager, toml, option):
    with pytest.raises(ValidationError) as loaded:
        mapping_mod.loads(toml)
    assert loaded.value.key == "imports.error.option" and loaded.value.params["option"] == option
    assert option in loaded.value.message()
    # options set after loading (the import page's fields) are checked by the engine too
    scope, name = option.split()
    if scope == "[options]":
        mapping = mapping_mod.Mapping(options={name: tomlvalue(toml)})
    else:
        em = mapping_mod.EntityMapping(options={name: tomlvalue(toml)})
        mapping = mapping_mod.Mapping(entities={"deals": em})
    before = counts(session)
    data = b"title,stage,created\nA,prospect,01-02-2024\n"
    for dry in (True, False):
        with pytest.raises(ValidationError) as err:
            run(engine, manager, "deals", data, mapping=mapping, dry_run=dry)
        assert err.value.key == "imports.error.option" and name in err.value.message()
    assert counts(session) == before


def tomlvalue(toml: str) -> object:
    import tomllib

    data = tomllib.loads(toml)
    table = data.get("options") or data["deals"]["options"]
    return next(iter(table.values()))


def test_good_mapping_options_still_load():
    for toml in (
        '[options]\ndate_format = "%d.%m.%Y %H:%M"\ndelimiter = "\\\\t"\nencoding = "cp1250"\n',
        '[options]\ndate_format = "%y%m%d"\ndelimiter = "|"\nencoding = "auto"\ndecimal = ","\n',
    ):
        mapping_mod.loads(toml)


def test_polish_message_for_a_bad_option():
    set_locale("pl")
    with pytest.raises(ValidationError) as err:
        mapping_mod.loads('[options]\nencoding = "rot13"\n')
    assert "Opcji mapowania [options] encoding" in err.value.message()


@pytest.mark.parametrize("where", ["start", "after_first_mib"])
def test_nul_bytes_are_refused_on_both_backends(engine, session, manager, where):
    pad = b"x" * 1000  # an unmapped column, so 1,100 rows make more than 1 MiB
    rows = [b"Acc%05d,Krakow,%s" % (i, pad) for i in range(1_100)]
    bad = b"Ev\x00il,Warsaw,"
    body = [bad, *rows] if where == "start" else [*rows, bad]
    data = b"name,city,notes\n" + b"\n".join(body) + b"\n"
    if where == "start":
        assert b"\x00" in data[: 1 << 20]
        with pytest.raises(ValidationError) as err:  # in the sample: the file looks binary
            run(engine, manager, "accounts", data, dry_run=True)
        assert err.value.key == "imports.error.binary"
        return
    assert b"\x00" not in data[: 1 << 20]
    report = both(engine, session, manager, "accounts", data)
    line = 2 + len(rows)
    assert [(e.line, e.column, e.key) for e in report.errors] == [(line, "name", "imports.error.nul")]
    assert "␀" in report.errors[0].message()
    loose = run(engine, manager, "accounts", data, dry_run=False)  # not strict: the others go in
    assert (loose.created, loose.rejected) == (1_100, 1)
    names = session.exec(select(Account.name)).all()
    assert len(names) == 1_100 and not [n for n in names if "\x00" in n]


def test_cli_names_the_option_and_exits_1(db_url, tmp_path):
    data, mapping = tmp_path / "deals.csv", tmp_path / "m.toml"
    data.write_bytes(b"title,stage\rA,prospect\r")
    mapping.write_text('[options]\ndelimiter = "ab"\n')
    runner = CliRunner()
    base = ["--database-url", db_url, "import", "deals", str(data)]
    bad = runner.invoke(app, [*base, "--mapping", str(mapping), "--dry-run"])
    assert bad.exit_code == 1 and "delimiter" in bad.output and "Traceback" not in bad.output
    ok = runner.invoke(app, [*base, "--json"])  # CR-only line endings, no `closed` column
    assert ok.exit_code == 0, ok.output
    assert '"created": 1' in ok.output
