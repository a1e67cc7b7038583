"""gunicorn settings shared by `scripts/start`, deployments and `posfleet bench` (decision 0002).

    gunicorn -c python:posfleet.gunicorn_conf posfleet.wsgi:application

Environment: `POSFLEET_BIND` (default 127.0.0.1:8000), `WEB_CONCURRENCY` (worker processes, default 2:
one per core of the reference machine), `POSFLEET_THREADS` (threads per worker, default 4). The bench
overrides only the address and the worker count on the command line, so it measures these settings.
"""

import os

bind = os.environ.get("POSFLEET_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("POSFLEET_THREADS", "4"))
# Keep-alive connections wait in the worker's poller, not in a thread, so a switch or load balancer
# can keep a few open without pinning threads; answers then skip a TCP handshake each.
keepalive = 30
worker_connections = 1000
timeout = 30
# The longest request line (method, path and query string) gunicorn reads: its maximum. A longer one is
# answered 414 by gunicorn itself, before the application (the OpenAPI document says so).
limit_request_line = 8190
graceful_timeout = 20
accesslog = None  # structlog writes the application's own request logs
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
