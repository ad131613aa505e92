"""One transaction per request, ended at one place.

A view changes the session and answers. When the answer is a success or a redirect, the
request's writes are committed here, once; when it is an error (a refusal answered by
``core.errors``, a 4xx the view chose, an exception) they are rolled back, so nothing is left
half-written. A page that catches a refusal and redirects (to show the message on the next
page) rolls back itself, since a redirect commits. An API view's writes are flushed before its
answer is serialised (``core.apispec``), so the answer shows ids and versions as stored.
Commands and jobs, which have no request, commit their own unit of work."""
from flask import Flask
from flask import session as flask_session
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class App(Flask):
    """Flask, ending each request's transaction once its view has answered."""

    def dispatch_request(self):
        from flask import request

        response = self.make_response(super().dispatch_request())
        end(response.status_code, request.method)
        return response


def end(status: int, method: str):
    """Commit when the answer is a success or a redirect and the request wrote something (a
    read-only request leaves its session as it is); roll back an error answer's writes."""
    session = db.session()
    flushed = session.info.pop("tabel.flushed", False)
    if status >= 400:
        session.rollback()
    elif flushed or (method not in SAFE_METHODS and (session.new or session.dirty or session.deleted)):
        try:
            session.commit()
        except Exception:
            # The page said "Saved." to a change that was not: take its messages back.
            flask_session.pop("_flashes", None)
            raise


def wrote():
    """The request wrote with a statement of its own (``session.execute(insert(...))``), which
    no flush reports: commit it with the answer, even on a GET."""
    db.session().info["tabel.flushed"] = True


@event.listens_for(Session, "after_flush")
def _remember_flush(session, _context):
    session.info["tabel.flushed"] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_flush(session, *_args):
    session.info.pop("tabel.flushed", None)
