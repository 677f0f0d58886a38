"""gunicorn settings for formsvc behind a reverse proxy (nginx). See docs/operations.md.

    gunicorn -c gunicorn.conf.py

Settings come from the environment, so one file serves every host:
  FORMSVC_BIND          where to listen (default 127.0.0.1:8000: only the proxy on this host reaches it)
  WEB_CONCURRENCY       worker processes (gunicorn's own name; default 2 x CPU cores + 1)
  FORMSVC_THREADS       threads per worker (default 1: plain sync workers)
  FORMSVC_PROXY_COUNT   read by the app: how many proxies set X-Forwarded-* (1 for one nginx)
The app itself keeps no state between requests; answers, mail and rate-limit counts live in the database
and in Redis, so any worker on any host may take any request.
"""

import multiprocessing
import os

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
# Replace workers now and then so slow leaks cannot build up; jitter keeps them from restarting together.
max_requests = 5000
max_requests_jitter = 500

# The app decides from FORMSVC_PROXY_COUNT which X-Forwarded-* headers to trust (ProxyFix), so gunicorn
# passes them through; it listens on loopback or a private address that only the proxy reaches.
forwarded_allow_ips = os.environ.get("FORMSVC_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("FORMSVC_LOG_LEVEL", "info")
# No query strings in the access log: prefill links may carry answers.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'

# The app is built in each worker, after the fork: database connections are never shared between processes.
preload_app = False
