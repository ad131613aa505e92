"""Change stamps (core.changes): a committed write to a tenant's data advances that tenant's
stamp, and only that one; a rolled-back write advances nothing. Pages kept per worker (the
journal's grid) are served again only while the stamps they were built under hold."""
import datetime as dt

import pytest
from sqlalchemy import select, update


@pytest.fixture
def stamps(raw_sql):
    def read():
        return {row.tenant_id: row.stamp for row in raw_sql("SELECT tenant_id, stamp FROM change_stamp")}

    return read


def _pupil(tenant, n=0):
    from blueprints.roster.models import Pupil

    return Pupil(last_name=f"Проверка{n}", first_name="Иван", birth_date=dt.date(2015, 1, 1),
                 file_number=f"S-{tenant['id']}-{n}", tenant_id=tenant["id"], region_id=int(tenant["path"].split("/")[1]))


def test_a_committed_write_advances_its_own_tenant_only(app, region_tree, stamps):
    from core.tenancy import unscoped
    from core.extensions import db

    a, b = region_tree["a"], region_tree["b"]
    before = stamps()
    with app.app_context(), unscoped("test: a write", platform=True):
        db.session.add(_pupil(a["school"]))
        db.session.commit()
        db.session.remove()
    after = stamps()
    assert after[a["school"]["id"]] == before.get(a["school"]["id"], 0) + 1
    assert after.get(b["school"]["id"], 0) == before.get(b["school"]["id"], 0)
    assert after.get(0, 0) == before.get(0, 0)


def test_a_rolled_back_write_advances_nothing(app, region_tree, stamps):
    from core.tenancy import unscoped
    from core.extensions import db

    a = region_tree["a"]
    before = stamps()
    with app.app_context(), unscoped("test: a write undone", platform=True):
        db.session.add(_pupil(a["school"], 1))
        db.session.flush()
        db.session.rollback()
        db.session.remove()
    assert stamps() == before


def test_a_bulk_statement_advances_the_tenants_it_names_or_the_scope(app, region_tree, stamps):
    from blueprints.roster.models import Pupil
    from core.tenancy import unscoped
    from core.extensions import db
    from core.tenancy import Scope, scoped

    a = region_tree["a"]
    with app.app_context(), unscoped("test: a pupil", platform=True):
        db.session.add(_pupil(a["school"], 2))
        db.session.commit()
        db.session.remove()
    before = stamps()
    # Inserted rows name their tenant.
    with app.app_context(), unscoped("test: bulk insert", platform=True):
        db.session.execute(Pupil.__table__.insert(), [
            {"last_name": "Пакет", "first_name": "Иван", "birth_date": dt.date(2015, 1, 1), "file_number": "B-1",
             "tenant_id": a["school"]["id"], "region_id": a["region"]["id"]}])
        db.session.commit()
        db.session.remove()
    middle = stamps()
    assert middle[a["school"]["id"]] == before[a["school"]["id"]] + 1
    # An UPDATE names none: the scope it ran in (the school admin's) is advanced.
    with app.test_request_context(), scoped(Scope(home_path=a["school"]["path"])):
        db.session.execute(update(Pupil).where(Pupil.file_number == "B-1").values(first_name="Пётр"))
        db.session.commit()
        assert db.session.execute(select(Pupil.first_name).where(Pupil.file_number == "B-1")).scalar_one() == "Пётр"
        db.session.remove()
    after = stamps()
    assert after[a["school"]["id"]] == middle[a["school"]["id"]] + 1
    assert after.get(0, 0) == before.get(0, 0)
    # Run as the platform, a bulk UPDATE could touch any tenant: the global stamp moves.
    with app.app_context(), unscoped("test: bulk update everywhere", platform=True):
        db.session.execute(update(Pupil).where(Pupil.file_number == "B-1").values(first_name="Иван"))
        db.session.commit()
        db.session.remove()
    assert stamps()[0] == after.get(0, 0) + 1


def test_stamps_reads_the_chain_and_the_global_counter(app, region_tree):
    from core import changes
    from core.tenancy import unscoped
    from core.extensions import db

    a = region_tree["a"]
    with app.app_context(), unscoped("test: stamps", platform=True):
        chain = [a["region"]["id"], a["municipality"]["id"], a["school"]["id"]]
        first = changes.stamps(chain)
        db.session.add(_pupil(a["school"], 3))
        db.session.commit()
        second = changes.stamps(chain)
        changes.bump(db.session, [changes.GLOBAL])
        db.session.commit()
        third = changes.stamps(chain)
        db.session.remove()
    assert len(first) == 4 + 3 and first != second != third  # four stamps, three audit chains
    assert second[0] == first[0] and third[0] == first[0] + 1  # index 0 is the global counter


def test_an_audited_write_advances_the_chain_head_instead_of_the_stamp(app, region_tree, stamps):
    """One statement less for each audited write: its audit entry, committed with it, is what
    readers see move."""
    from core import audit, changes
    from core.tenancy import unscoped
    from core.extensions import db

    a = region_tree["a"]
    school = a["school"]["id"]
    chain = [a["region"]["id"], a["municipality"]["id"], school]
    with app.app_context(), unscoped("test: an audited write", platform=True):
        first = changes.stamps(chain)
        db.session.add(_pupil(a["school"], 6))
        audit.record(tenant_id=school, action="test.pupil", obj_type="pupil")
        db.session.commit()
        second = changes.stamps(chain)
        db.session.remove()
    assert stamps().get(school, 0) == first[3]  # the stamp did not move...
    assert second != first and second[-1] == first[-1] + 1  # ...the school's chain head did


def test_stamps_move_when_the_whole_transaction_commits_not_at_a_savepoint(app, region_tree, stamps):
    """A released savepoint (a lesson's first record is made in one) takes no stamp lock in
    the middle of the transaction: its lock would come before the audit chain's and two
    teachers of one school could deadlock."""
    from sqlalchemy import text

    from core import changes
    from core.tenancy import unscoped
    from core.extensions import db

    a = region_tree["a"]
    school = a["school"]["id"]
    before = stamps().get(school, 0)
    with app.app_context(), unscoped("test: a savepoint", platform=True):
        with db.session.begin_nested():
            db.session.add(_pupil(a["school"], 4))
        inside = db.session.execute(text("SELECT stamp FROM change_stamp WHERE tenant_id = :t"), {"t": school}).scalar()
        assert (inside or 0) == before and changes.pending(db.session)
        db.session.commit()
        db.session.remove()
    assert stamps()[school] == before + 1


def test_a_savepoint_rolled_back_keeps_the_writes_around_it(app, region_tree, stamps):
    from sqlalchemy.exc import IntegrityError

    from core.tenancy import unscoped
    from core.extensions import db

    a = region_tree["a"]
    school = a["school"]["id"]
    before = stamps().get(school, 0)
    with app.app_context(), unscoped("test: a failed savepoint", platform=True):
        db.session.add(_pupil(a["school"], 5))
        db.session.flush()
        try:
            with db.session.begin_nested():
                db.session.add(_pupil(a["school"], 5))  # the same file number: refused
        except IntegrityError:
            pass
        db.session.commit()
        db.session.remove()
    assert stamps()[school] == before + 1  # the first pupil was committed: its school's stamp moved


def test_signing_in_advances_no_stamp(client, login, region_tree, stamps):
    """Accounts are no tenant's data: a sign-in must not throw away every kept page."""
    before = stamps()
    login(client, region_tree["a"]["teacher"])
    assert stamps() == before


@pytest.fixture
def keys(raw_sql):
    def read():
        return {(row.tenant_id, row.key): row.stamp for row in raw_sql("SELECT tenant_id, key, stamp FROM change_key_stamp")}

    return read


def test_a_pupils_own_row_moves_their_key_and_any_other_row_the_shared_key(app, region_tree, make_roster, keys):
    """A grade (a row keyed by ``pupil_id``) moves ``pupil_id:<id>`` of its school and not the
    school's shared key; a pupil row moves the shared key; an audit entry moves no key."""
    from blueprints.journal.models import Grade
    from core import audit
    from core.extensions import db
    from core.tenancy import unscoped

    school = region_tree["a"]["school"]
    roster = make_roster(school, pupils=2, lessons=True)
    pupil, other = roster["pupil_ids"][:2]
    before = keys()
    with app.app_context(), unscoped("test: a grade", platform=True):
        from blueprints.roster.models import Lesson

        lesson = db.session.execute(select(Lesson).where(Lesson.class_id == roster["class_id"])).scalars().first()
        db.session.add(Grade(lesson_id=lesson.id, pupil_id=pupil, value="5", work_type="У", tenant_id=school["id"],
                             region_id=lesson.region_id, entered_at=dt.datetime(2026, 11, 18, 7, 0)))
        audit.record(tenant_id=school["id"], action="test.grade", obj_type="grade", obj_id=pupil, after={"value": "5"})
        db.session.commit()
        db.session.remove()
    after = keys()
    sid = school["id"]
    assert after[(sid, f"pupil_id:{pupil}")] == before.get((sid, f"pupil_id:{pupil}"), 0) + 1
    assert after.get((sid, f"pupil_id:{other}"), 0) == before.get((sid, f"pupil_id:{other}"), 0)
    assert after.get((sid, "")) == before.get((sid, ""))
    with app.app_context(), unscoped("test: a pupil", platform=True):
        db.session.add(_pupil(school, 7))
        db.session.commit()
        db.session.remove()
    assert keys()[(sid, "")] == after.get((sid, ""), 0) + 1


def test_a_bulk_statement_on_a_keyed_table_without_pupils_moves_the_shared_key(app, region_tree, make_roster, keys):
    from blueprints.journal.models import Grade
    from core.extensions import db
    from core.tenancy import Scope, scoped

    school = region_tree["a"]["school"]
    make_roster(school, pupils=1, lessons=True)
    before = keys()
    with app.app_context(), scoped(Scope(home_path=school["path"])):
        db.session.execute(update(Grade).where(Grade.value == "нет такой").values(comment="x"))
        db.session.commit()
        db.session.remove()
    assert keys()[(school["id"], "")] == before.get((school["id"], ""), 0) + 1
