"""The routes' side of who acts: the journal's rules read no request, so the pages and the
API make the request's :class:`~blueprints.journal.context.Actor` here and pass it in."""
from flask import g
from flask_login import current_user

from blueprints.journal.context import Actor


def request_actor():
    """Who acts in this request, for the journal's rules (which read no request): the
    signed-in user and the membership they act under. Kept for the request (made again
    only if either changes), so that the rules it calls look the user's staff record up once."""
    user_id = current_user.id if current_user.is_authenticated else None
    membership = g.get("membership")
    actor = g.get("journal_actor")
    if actor is None or actor.user_id != user_id or actor.membership is not membership:
        actor = g.journal_actor = Actor(user_id, membership)
    return actor


def may_read_lesson(lesson) -> bool:
    """Whether the request's user reads ``lesson``'s entries (a route's declared permission)."""
    from blueprints.journal.context import context
    from blueprints.journal.permissions import can_read

    return can_read(context(lesson, request_actor()))
