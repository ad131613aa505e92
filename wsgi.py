"""Entry points: ``wsgi:app`` for gunicorn and ``flask``, ``wsgi:celery`` for workers
(``celery -A wsgi:celery worker``)."""
from core import create_app

app = create_app()
celery = app.extensions["celery"]
