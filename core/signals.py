"""Named signals between layers (ARCHITECTURE.md: a lower layer tells an upper one
something without importing it)."""
from blinker import Namespace

signals = Namespace()

#: Sent by ``flask demo load`` after the demo tenants and accounts exist, with
#: ``logins`` = [(login, role, tenant name)]; feature packages add their demo data.
demo_loaded = signals.signal("demo-loaded")

#: Sent by the journal after an entry a guardian is told about is written (flushed and
#: audited, not yet committed), with ``kind`` ("grade", "homework", "remark", "final_mark")
#: and ``rows`` (the journal's rows). Receivers write in the same transaction (the diary
#: records its notifications' outbox rows there, IN-1).
journal_written = signals.signal("journal-written")


def journal_entry(kind: str, *rows):
    """The journal's one line per write: tell the app's receivers what was written."""
    from flask import current_app

    if rows:
        journal_written.send(current_app._get_current_object(), kind=kind, rows=list(rows))
