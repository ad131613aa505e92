"""gunicorn settings; every value can be overridden with GUNICORN_* or on the command line."""
import multiprocessing
import os

workers = int(os.environ.get("GUNICORN_WORKERS", min(multiprocessing.cpu_count(), 4)))
threads = int(os.environ.get("GUNICORN_THREADS", 2))
timeout = 60
graceful_timeout = 20
accesslog = "-"
errorlog = "-"
# Request ids are logged by the app; the access log carries them too.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss rid=%({x-request-id}o)s'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# No Server banner: which software and version answer is of use only to an attacker.
from gunicorn.http import wsgi as _wsgi  # noqa: E402

_default_headers = _wsgi.Response.default_headers


def _without_server_banner(self):
    return [line for line in _default_headers(self) if not line.startswith("Server:")]


_wsgi.Response.default_headers = _without_server_banner
