"""Whose diary a user may read (IN-3): a guardian their linked children, a pupil themself.

A child is found through the user's own roles: every school where the user holds a
``guardian`` or ``pupil`` membership is read in the scope that membership gives (the scope
the user would have acting under it), never through the door across tenants, and within it
the pupil rows linked to the account (``Pupil.user_id``, or ``GuardianLink`` to a
``Guardian`` whose ``user_id`` is the account). So a guardian of children in two schools
holds a guardian role in each; the acting role does not matter, and nothing needs switching.
The links are kept with the signed-in identity (``core.accounts.kept``), which every request
checks against the school's shared change key, moved by any change to a link, a guardian or
a pupil: a guardian unlinked loses access at once. A pupil not
among them is 404, whether it exists or not."""
from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import abort, g
from flask_login import current_user
from sqlalchemy import or_, select

from core import clock
from core.accounts import kept
from core.extensions import db
from core.orm import valid_id
from core.tenancy import Scope, scoped
from blueprints.roster.models import Guardian, GuardianLink, Pupil
from tenants import service as tenants

DIARY_ROLES = ("guardian", "pupil")


@dataclass(eq=False)
class Child:
    """A pupil whose diary the signed-in user reads, with the school the data lives in."""

    pupil: Pupil
    school: object
    chain: list
    scope: Scope
    relation: str  # "self" for a pupil's own diary, else the guardian's relation (мать, отец)

    @property
    def id(self):
        return self.pupil.id

    @property
    def zone(self) -> ZoneInfo:
        """The school's own time zone (DL-5): dates and times in the diary are the school's."""
        return ZoneInfo(tenants.inherited(self.school, self.chain)["timezone"])

    def today(self) -> dt.date:
        return clock.today(self.zone)


def diary_memberships(memberships) -> list:
    """The user's roles that give a diary: guardian and pupil roles in schools, one per school."""
    seen, out = set(), []
    for membership in memberships or []:
        if membership.role in DIARY_ROLES and membership.tenant_id and membership.is_active \
                and membership.tenant_id not in seen:
            seen.add(membership.tenant_id)
            out.append(membership)
    return out


@contextlib.contextmanager
def reading(child: Child):
    """Read the child's school in the scope of the user's own role there."""
    with scoped(child.scope):
        yield


def children(user_id: int | None = None, memberships=None) -> list[Child]:
    """The pupils the user may read, ordered by school role then name: one statement per
    school the user holds a diary role in, plus that school's chain once per request."""
    if user_id is None:
        if not current_user.is_authenticated:
            return []
        user_id = current_user.id
    cached = g.get("diary_children")
    if memberships is None and cached is not None and cached[0] == user_id:
        return cached[1]
    out = []
    for membership in diary_memberships(memberships if memberships is not None else g.get("memberships")):
        scope = Scope(user_id=user_id, home_path=membership.tenant_path)
        with scoped(scope):
            chain = tenants.chain_for_path(membership.tenant_path)
            if not chain or chain[-1].id != membership.tenant_id or not all(t.is_active for t in chain):
                continue  # a role in a deactivated tenant gives no access
            rows = kept.instances(("diary children", user_id, membership.tenant_path), [t.id for t in chain],
                                  lambda: _linked_pupils(user_id, membership.tenant_id))
        for pupil, relation in rows:
            if any(c.pupil.id == pupil.id for c in out):
                continue  # linked twice (two guardian records of one person)
            out.append(Child(pupil, chain[-1], chain, scope, "self" if pupil.user_id == user_id else (relation or "")))
    if memberships is None:
        g.diary_children = (user_id, out)
    return out


def _linked_pupils(user_id: int, school_id: int) -> list[tuple]:
    """``(pupil, relation)`` of the school's active pupils who are the user or linked to them."""
    own = Pupil.user_id == user_id
    linked = select(GuardianLink.pupil_id).join(Guardian, Guardian.id == GuardianLink.guardian_id).where(
        Guardian.user_id == user_id)
    return [tuple(row) for row in db.session.execute(
        select(Pupil, GuardianLink.relation)
        .outerjoin(GuardianLink, (GuardianLink.pupil_id == Pupil.id) & GuardianLink.guardian_id.in_(
            select(Guardian.id).where(Guardian.user_id == user_id)))
        .where(Pupil.tenant_id == school_id, Pupil.is_active.is_(True), or_(own, Pupil.id.in_(linked)))
        .order_by(Pupil.last_name, Pupil.first_name, Pupil.id)).all()]


def load_child(child_id) -> Child:
    """The URL's ``child_id``: one of the user's children, else 404 (IN-3)."""
    if not valid_id(child_id):
        abort(404)
    child = next((c for c in children() if c.id == int(child_id)), None)
    if child is None:
        abort(404)
    return child


def has_diary(membership) -> bool:
    return membership is not None and membership.role in DIARY_ROLES and membership.tenant_id is not None
