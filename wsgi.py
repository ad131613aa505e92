"""The entry point for gunicorn (``wsgi:app``) and the ``flask`` command."""
from core import create_app

app = create_app()
