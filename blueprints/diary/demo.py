"""The demo's diary: the demo guardian (``parent12``) has a second child, in another class
of school No. 12, and the journal of both children's classes holds two weeks of lessons
(topics, homework, attendance, grades, a remark and a praise), entered through the
journal's own rules, so that signing in as the guardian shows two filled weeks."""
from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core import clock
from core.accounts.models import Membership, User
from core.extensions import db
from blueprints.journal import entries
from blueprints.journal.context import Actor
from blueprints.roster.models import Enrolment, Guardian, GuardianLink, Lesson, Pupil, SchoolClass, Staff, Subject
from tenants import service as tenants
from tenants.models import Tenant

SCHOOL = "МАОУ СОШ № 12"
SECOND_CHILD = ("Новиков", "Артём", "Дмитриевич", 8)  # surname, name, patronymic, grade
TOPICS = {"Математика": "Сложение и вычитание дробей", "Русский язык": "Правописание приставок",
          "Алгебра": "Квадратные уравнения", "История": "Смутное время", "Физика": "Закон Архимеда",
          "Литература": "А. С. Пушкин. «Капитанская дочка»", "Английский язык": "Present Perfect",
          "Геометрия": "Подобные треугольники", "Химия": "Строение атома", "Биология": "Клетка"}
HOMEWORK = ["§ 12, № 3–5", "Упр. 145", "Выучить правило на с. 48", "Прочитать главу 3", "№ 210, 212", "Стр. 56, вопросы 1–4"]
COMMENTS = [None] * 6 + ["Хороший ответ у доски", "Задание выполнено не полностью", "Аккуратно оформлена работа"]
DAYS = 14  # the journal's last two weeks


def load() -> str | None:
    school = db.session.execute(select(Tenant).where(Tenant.short_name == SCHOOL)).scalar_one_or_none()
    users = {u.login: u for u in db.session.execute(select(User).where(
        User.login.in_(["parent12", "pupil12", "teacher12", "school12"]))).scalars()}
    if school is None or len(users) < 4:
        return None
    guardian = db.session.execute(select(Guardian).where(Guardian.user_id == users["parent12"].id)).scalars().first()
    first = db.session.execute(select(Pupil).where(Pupil.user_id == users["pupil12"].id)).scalar_one_or_none()
    if guardian is None or first is None:
        return None
    first.middle_name = "Дмитриевна"  # the daughter of the demo's Дмитрий Новиков
    second = _second_child(school, guardian)
    zone = ZoneInfo(tenants.inherited(school)["timezone"])
    today = clock.today(zone)
    teacher12 = db.session.execute(select(Membership).where(Membership.user_id == users["teacher12"].id)).scalars().first()
    made = 0
    rng = random.Random(12)
    for pupil, remark in ((first, ("praise", "Активно работала на уроке, помогала одноклассникам")),
                          (second, ("remark", "Забыл тетрадь с домашней работой"))):
        made += _fill_class(school, pupil, today, zone, rng, users, teacher12, remark)
    _informing(guardian, first, today)
    # teacher12 is the class teacher of the first child's class (5а): the activity report and
    # the paper printouts of that class are theirs.
    enrolment = db.session.execute(select(Enrolment).where(Enrolment.pupil_id == first.id)).scalars().first()
    own_staff = db.session.execute(select(Staff).where(Staff.tenant_id == school.id,
                                                       Staff.user_id == users["teacher12"].id)).scalar_one_or_none()
    if enrolment is not None and own_staff is not None:
        db.session.get(SchoolClass, enrolment.class_id).class_teacher_id = own_staff.id
    return (f"the guardian parent12 reads two children, in grades 5 and {SECOND_CHILD[3]}; "
            f"{made} of their lessons recorded in the journal; parent12 is informed by e-mail and the web")


def _informing(guardian, daughter, today):
    """IN-1: parent12 applied for the web diary and e-mail, so a grade teacher12 types from now
    on arrives in the development mailbox (instance/mailbox/) at once. Set after the journal is
    filled, so that the demo's own two weeks send nothing."""
    guardian.middle_name = "Андреевич"  # the roster's generator gave the renamed father a random one
    guardian.by_web, guardian.by_email = True, True
    guardian.email = guardian.email or "novikov.d@example.ru"
    year = today.year if today.month >= 9 else today.year - 1
    guardian.application_number, guardian.application_date = "12-1", dt.date(year, 9, 1)
    guardian.notify_mode, guardian.language = "instant", "ru"
    # A few families of the daughter's class chose paper printouts instead (IN-2): the school's list.
    class_id = db.session.execute(select(Enrolment.class_id).where(Enrolment.pupil_id == daughter.id)).scalars().first()
    # distinct: a guardian of two children of the class (or a pupil enrolled twice) comes once
    others = db.session.execute(select(Guardian).distinct().join(GuardianLink, GuardianLink.guardian_id == Guardian.id)
                                .join(Enrolment, Enrolment.pupil_id == GuardianLink.pupil_id)
                                .where(Enrolment.class_id == class_id, Guardian.id != guardian.id)
                                .order_by(Guardian.id).limit(3)).scalars().all()
    for n, other in enumerate(others, start=2):
        other.by_web, other.by_paper = False, True
        other.application_number, other.application_date = f"12-{n}", dt.date(year, 9, n)
    db.session.flush()


def _second_child(school, guardian) -> Pupil:
    surname, name, patronymic, grade = SECOND_CHILD
    pupil = db.session.execute(
        select(Pupil).join(Enrolment, Enrolment.pupil_id == Pupil.id).join(SchoolClass, SchoolClass.id == Enrolment.class_id)
        .where(Pupil.tenant_id == school.id, SchoolClass.grade == grade).order_by(Pupil.id)).scalars().first()
    pupil.last_name, pupil.first_name, pupil.middle_name = surname, name, patronymic
    db.session.add(GuardianLink(pupil_id=pupil.id, guardian_id=guardian.id, relation="отец", tenant_id=school.id,
                                region_id=pupil.region_id))
    db.session.flush()
    return pupil


def _fill_class(school, pupil, today, zone, rng, users, teacher12, remark) -> int:
    enrolment = db.session.execute(select(Enrolment).where(Enrolment.pupil_id == pupil.id)).scalars().first()
    lessons = db.session.execute(
        select(Lesson, Subject.name).join(Subject, Subject.id == Lesson.subject_id)
        .where(Lesson.class_id == enrolment.class_id, Lesson.held_on < today,
               Lesson.held_on >= today - dt.timedelta(days=DAYS), Lesson.is_cancelled.is_(False))
        .order_by(Lesson.held_on, Lesson.period)).all()
    staff = {s.id: s for s in db.session.execute(select(Staff).where(Staff.tenant_id == school.id)).scalars()}
    classmates = [p for (p,) in db.session.execute(select(Enrolment.pupil_id).where(
        Enrolment.class_id == enrolment.class_id, Enrolment.pupil_id != pupil.id))]
    remarked = False
    for lesson, subject in lessons:
        teacher = staff[lesson.teacher_id]
        if teacher.user_id == users["teacher12"].id:
            actor = Actor(users["teacher12"].id, teacher12)
        else:  # the generated teachers have no accounts: the school's admin account types for them
            actor = Actor(users["school12"].id, SimpleNamespace(role="teacher"), staff={school.id: teacher})
        ends = dt.datetime.combine(lesson.held_on, lesson.ends_at, zone).astimezone(dt.timezone.utc)
        with clock.fixed(ends + dt.timedelta(minutes=10)):
            record = entries.set_topic(lesson, TOPICS.get(subject, f"{subject}: повторение"), by=actor, version=0)
            record = entries.set_homework(lesson, rng.choice(HOMEWORK), by=actor, version=record.version)
            absent = [{"pupil_id": rng.choice(classmates), "status": "ill"}] if rng.random() < 0.3 else []
            if rng.random() < 0.08:
                absent.append({"pupil_id": pupil.id, "status": "late"})
            record = entries.take_attendance(lesson, absent, by=actor, version=record.version)
            graded = rng.sample(classmates, k=min(3, len(classmates)))
            if rng.random() < 0.55:
                graded.append(pupil.id)
            work_type = "КР" if rng.random() < 0.15 else "У"
            entries.set_grades(lesson, [{"pupil_id": p, "work_type": work_type, "value": rng.choice("34455"),
                                         "comment": rng.choice(COMMENTS) if p == pupil.id else None, "version": None}
                                        for p in graded if p not in {a["pupil_id"] for a in absent if a["status"] == "ill"}],
                               by=actor)
            if not remarked and rng.random() < 0.15:
                entries.add_remark(lesson, pupil.id, remark[0], remark[1], by=actor)
                remarked = True
    db.session.flush()
    return len(lessons)
