"""Production settings for gunicorn: `gunicorn -c gunicorn.conf.py wsgi:app` (README, "Commands").

Threaded workers (gthread). A sync worker must answer gunicorn's heartbeat within `timeout`
while it serves one request, so a recording sent to a slow client was cut off after 30 s
(40 MB at 512 KB/s ended at about 21 MB). A gthread worker's main thread keeps the heartbeat
while request threads write, so `timeout` only catches a hung process, never a long download;
gunicorn's own words: "For the non sync workers it just means that the worker process is still
communicating and is not tied to the length of time required to handle a single request."

Each download occupies one thread for as long as the client reads: workers × threads is how
many people can download (or otherwise wait on the portal) at the same moment.
Environment: PORTAL_BIND (0.0.0.0:8000), PORTAL_WORKERS (2), PORTAL_THREADS (8: below the 15
database connections SQLAlchemy pools per process, so no thread ever waits for a connection).

Metrics (GET /metrics, portal/observability/metrics.py) from several workers: prometheus_client's
multiprocess mode keeps each worker's counters in files under PROMETHEUS_MULTIPROC_DIR (default
<tmp>/mcx-portal-metrics-<master pid>; or a directory of the instance's own, e.g.
/run/mcx-portal/metrics), emptied when gunicorn starts; a worker that exits is marked dead. Must be set before the app is imported: this file runs first.
"""
import os
import shutil
import tempfile

bind = os.environ.get("PORTAL_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("PORTAL_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("PORTAL_THREADS", "8"))
timeout = 30
graceful_timeout = 30
keepalive = 5
# gunicorn's defaults, written down because the portal's header check (portal/web/boundaries.py)
# relies on them: a request line and each header field stay within these sizes
limit_request_line = 4094
limit_request_field_size = 8190

# prometheus_client reads the variable when it is first imported, in each worker
# (this file is read by the master: its pid keeps two instances on one host apart)
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), f"mcx-portal-metrics-{os.getpid()}"))


def on_starting(server):
    """Counters of a previous run would be added to this one's: start from an empty directory."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
