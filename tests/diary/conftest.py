"""A family for the diary's tests: a guardian of two children in two schools, a pupil with
an account, another guardian, and a teacher who enters grades."""
import pytest

WEEK = "2026-W47"  # the week of SCHOOL_DAY (Wednesday 18 November 2026)


@pytest.fixture
def family(region_tree, make_roster, make_tenant, make_user, add_role, raw_sql):
    a = region_tree["a"]
    first = make_roster(a["school"], pupils=3, lessons=True, teacher_user=a["teacher"])
    other_school = make_tenant("Школа А № 2", parent=a["municipality"])
    second = make_roster(other_school, pupils=2, lessons=True, grade=7)
    guardian = make_user("parent-a", "guardian", a["school"], full_name="Новиков Дмитрий")
    add_role(guardian, "guardian", other_school)
    pupil = make_user("pupil-a", "pupil", a["school"], full_name="Ученик Один")
    other_guardian = make_user("parent-b", "guardian", a["school"], full_name="Чужой Родитель")
    link_guardian(raw_sql, guardian, first["pupil_ids"][0])
    link_guardian(raw_sql, guardian, second["pupil_ids"][0])
    link_guardian(raw_sql, other_guardian, first["pupil_ids"][2])
    raw_sql("UPDATE pupil SET user_id = :u WHERE id = :p", u=pupil["id"], p=first["pupil_ids"][1])
    return {"a": a, "first": first, "second": second, "other_school": other_school, "guardian": guardian,
            "pupil": pupil, "other_guardian": other_guardian, "teacher": a["teacher"],
            "child": first["pupil_ids"][0], "child2": second["pupil_ids"][0], "own": first["pupil_ids"][1],
            "stranger": first["pupil_ids"][2]}


def link_guardian(raw_sql, user, pupil_id):
    """The guardian record the school keeps for ``pupil_id`` is the account ``user``."""
    raw_sql("UPDATE guardian SET user_id = :u WHERE id IN (SELECT guardian_id FROM guardian_link WHERE pupil_id = :p)",
            u=user["id"], p=pupil_id)


@pytest.fixture
def week_lessons(raw_sql):
    """The lessons of a class in WEEK that are held by the day of SCHOOL_DAY."""

    def lessons(roster, teacher_id=None):
        rows = raw_sql("SELECT id, held_on, teacher_id FROM lesson WHERE class_id = :c AND held_on BETWEEN '2026-11-16' "
                       "AND '2026-11-18' ORDER BY held_on, period", c=roster["class_id"])
        return [r.id for r in rows if teacher_id is None or r.teacher_id == teacher_id]

    return lessons
