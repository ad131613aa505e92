"""Entity tags of a child's diary: a phone re-fetching an unchanged week gets 304 (issue
#14, slow links). The tag is made from the change keys (``core.changes``) of the child's
own rows (grades, attendance, remarks, final marks: ``pupil_id:<id>`` of the school) and of
the shared rows of the school and the tenants above it (lessons, topics, homework, the
timetable, regulations: every other committed write to their data moves one), the child,
what was asked, the reader's language and the school's local date (a forecast and "today"
change with it): one statement, read before the data, so a tag is never older than what it
describes. A teacher grading the pupil beside the child leaves the child's tag as it was."""
from __future__ import annotations

import hashlib

from flask import request
from flask_babel import get_locale

from core import changes
from blueprints.diary.service import Child


def etag(child: Child, *parts) -> str:
    stamps = changes.read_keys([(changes.GLOBAL, changes.SHARED), (child.school.id, changes.pupil_key(child.id)),
                                *((t.id, changes.SHARED) for t in child.chain)])
    key = repr((child.id, parts, str(get_locale()), child.today().isoformat(), stamps))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def not_modified(tag: str) -> bool:
    """If-None-Match compares weakly: the tag comes back weak from a gzipped answer."""
    return request.if_none_match.contains_weak(tag)


#: Answers kept per worker by their tag: the same tag is the same data (the stamps and audit
#: heads of the child's chain are in it), so a re-fetch without If-None-Match (another
#: phone, a cleared cache) is sent from here without reading the week again.
KEPT = "tabel.diary.kept"


def kept(tag: str, build):
    """The answer's bytes for ``tag``: kept ones, else ``build()``'s, kept unless this
    request has written something not yet committed."""
    from flask import current_app

    from core import changes
    from core.extensions import db
    from core.lru import Lru

    limit = current_app.config.get("DIARY_KEPT_ANSWERS", 512)
    if not limit:
        return build()
    store = current_app.extensions.setdefault(KEPT, Lru())
    body = store.get(tag)
    if body is None:
        body = build()
        if not changes.pending(db.session):
            store.put(tag, body, limit)
    return body
