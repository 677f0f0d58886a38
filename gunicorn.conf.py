"""gunicorn settings for formsvc behind a reverse proxy (nginx). See docs/operations.md.

    gunicorn -c gunicorn.conf.py

Settings come from the environment, so one file serves every host:
  FORMSVC_BIND          where to listen (default 127.0.0.1:8000: only the proxy on this host reaches it)
  WEB_CONCURRENCY       worker processes (gunicorn's own name; default 2 x CPU cores + 1)
  FORMSVC_THREADS       threads per worker (default 1: plain sync workers)
  FORMSVC_PROXY_COUNT   read by the app: how many proxies set X-Forwarded-* (1 for one nginx)
  FORMSVC_MAX_REQUESTS  requests after which a worker is replaced (default 5000; 0: never)
The app itself keeps no state between requests; answers, mail and rate-limit counts live in the database
and in Redis, so any worker on any host may take any request.
"""

import gc
import multiprocessing
import os
import sys

from gunicorn import glogging

from formsvc.rehearsal import rehearse

wsgi_app = "formsvc:create_app()"
bind = os.environ.get("FORMSVC_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("FORMSVC_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"

# A request that takes longer than this is stuck: the worker is replaced. The proxy buffers slow clients,
# so sync workers are not tied up by slow phones.
timeout = 30
graceful_timeout = 30
keepalive = 5
# Replace workers now and then so slow leaks cannot build up. Jitter spreads the workers' turns; on top,
# the hooks below let only one worker be replaced at a time (workers that reach their count together
# would otherwise all stop at once, and the service with them).
max_requests = int(os.environ.get("FORMSVC_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 2

# The app decides from FORMSVC_PROXY_COUNT which X-Forwarded-* headers to trust (ProxyFix), so gunicorn
# passes them through; it listens on loopback or a private address that only the proxy reaches.
forwarded_allow_ips = os.environ.get("FORMSVC_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("FORMSVC_LOG_LEVEL", "info")
# No query strings in the access log: prefill links may carry answers. Tokens in link paths (invitation,
# newsletter confirm and unsubscribe) are replaced by the logger class below.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


class Logger(glogging.Logger):
    """gunicorn's logger; every line goes through formsvc's token filter (formsvc/access_log.py)."""

    def setup(self, cfg):
        super().setup(cfg)
        from formsvc.access_log import REDACT_TOKENS

        for log in (self.error_log, self.access_log):
            log.addFilter(REDACT_TOKENS)


logger_class = Logger

# The app and its imports are built once, in the master, before the fork: a new worker is ready in
# milliseconds instead of a second. Database connections are never shared between processes: the master
# closes its own before it forks (when_ready), and a worker drops any it inherited (post_fork).
preload_app = True
# gunicorn 25+ runs a control socket (for gunicornc) in a thread of the master that it stops and restarts
# around every fork: that held each new worker back by one to two seconds. formsvc does not use it.
control_socket_disable = True

# The pid of the worker being replaced (0: none). Shared memory made here, in the master, before the fork.
_replacing = multiprocessing.Value("i", 0)


def _flask_app(process):
    """The Flask app the master preloaded, from the master (arbiter) or a worker; None without preload."""
    app = process.app.wsgi() if process.cfg.preload_app else None
    return app if hasattr(app, "app_context") else None


def _dispose_engines(app, close: bool) -> None:
    from formsvc.extensions import db

    if "sqlalchemy" not in getattr(app, "extensions", {}):
        return
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=close)
    if close and "formsvc_catalog" in app.extensions:
        app.extensions["formsvc_catalog"].dispose()  # a forked worker makes its own (formsvc/catalog.py)


def when_ready(server):
    """In the master, before the first fork."""
    app = _flask_app(server)
    if app is None:
        return
    rehearse(app)  # formsvc/rehearsal.py: templates and statements compiled here, inherited by every worker
    _dispose_engines(app, close=True)
    # What the app built stays out of the workers' garbage collection: fewer shared pages copied.
    gc.freeze()
    config = app.config
    in_memory = str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory")
    if config.get("RATELIMIT_ENABLED") and in_memory and server.cfg.workers > 1:
        server.log.warning(
            "RATE LIMITS ARE PER WORKER: FORMSVC_RATELIMIT_STORAGE_URL is memory://, so each of the %d workers "
            "counts alone and a client may send %d times every limit. Set FORMSVC_RATELIMIT_STORAGE_URL to a "
            "Redis (see docs/operations.md).",
            server.cfg.workers, server.cfg.workers,
        )


def post_fork(server, worker):
    """In the new worker: drop inherited connections; take over the decision to recycle from gunicorn."""
    app = _flask_app(server)
    if app is not None:
        _dispose_engines(app, close=False)  # close=False: the master's connections are not ours to close
    worker.recycle_after = worker.max_requests  # gunicorn's draw: max_requests plus jitter (or sys.maxsize)
    worker.max_requests = sys.maxsize
    worker.served = 0


def post_worker_init(worker):
    """Before its first request the worker rehearses once more, on its own connection and its own copies
    of the master's memory pages; then, if the one being replaced is gone, the next may take its turn."""
    app = _flask_app(worker)
    if app is not None:
        rehearse(app, every_form=False)
    worker.log.info("Worker ready (pid: %s)", worker.pid)
    with _replacing.get_lock():
        if _replacing.value and not _running(_replacing.value):
            _replacing.value = 0


def post_request(worker, req, environ, resp):
    """Count requests; at its count, a worker stops after this request, unless another is being replaced."""
    worker.served += 1
    if worker.served < worker.recycle_after or not worker.alive:
        return
    with _replacing.get_lock():
        if _replacing.value:
            return  # another worker is being replaced: serve on, and ask again after the next request
        _replacing.value = worker.pid
    worker.log.info("Autorestarting worker after current request.")
    worker.alive = False


def worker_exit(server, worker):
    """A worker that was replaced ends at once: tearing down a whole interpreter (every page it inherited
    from the master touched once more) took half a second and more, and the replacement waits for it."""
    if _replacing.value != worker.pid:
        return  # a shutdown or a failure: the usual way out, with its own exit status
    app = _flask_app(server)
    if app is not None:
        _dispose_engines(app, close=True)  # say goodbye to the database server properly
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
