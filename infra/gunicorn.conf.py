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
