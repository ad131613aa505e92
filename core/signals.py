"""Named signals between layers (ARCHITECTURE.md: a lower layer tells an upper one
something without importing it)."""
from blinker import Namespace

signals = Namespace()

#: Sent by ``flask demo load`` after the demo tenants and accounts exist, with
#: ``logins`` = [(login, role, tenant name)]; feature packages add their demo data.
demo_loaded = signals.signal("demo-loaded")
