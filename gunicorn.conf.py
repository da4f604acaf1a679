"""Production serving: `gunicorn` (run from the repository root) reads this file.

Every value can be changed from the environment; command-line flags override it too.
    PORT=8000 HOST=0.0.0.0 WEB_CONCURRENCY=4 GUNICORN_THREADS=1 gunicorn
"""

from __future__ import annotations

import gc
import glob
import os
import shutil
import tempfile

wsgi_app = "app:create_app()"


def _number(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


# Loopback by default, so a bare `gunicorn` never exposes the app by accident. In a container,
# where the platform's proxy reaches the app over the container network, set HOST=0.0.0.0.
bind = [f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"]

# Load the app (Flask, Authlib, redis-py: most of a worker's memory) once in the master, before
# forking, so every worker shares those pages instead of importing its own copy. A code change
# then needs a restart, not a HUP. GUNICORN_PRELOAD=0 loads the app in each worker instead.
preload_app = _number("GUNICORN_PRELOAD", 1) != 0

# The usual 2 x cores + 1, capped: each worker holds its own keep-alive connection to Auth0 and a
# few MB of its own (the app is shared, see preload_app); a big machine should scale out by
# instances, not by RAM.
workers = int(_number("WEB_CONCURRENCY", min(2 * (os.cpu_count() or 1) + 1, 8)))
# Threads let a worker serve cached pages while another request waits on Auth0, but each
# thread that calls Auth0 at the same time needs its own connection: with 1 (the default)
# every worker keeps exactly one. Raise it for Auth0-bound traffic with few workers.
threads = int(_number("GUNICORN_THREADS", 1))
worker_class = "gthread" if threads > 1 else "sync"

# A page may wait on Auth0 twice (an unlink, then a re-read), each up to connect + read timeout:
# the worker timeout must be longer, or gunicorn kills a worker mid-answer.
_auth0_call = _number("AUTH0_CONNECT_TIMEOUT", 3.05) + _number("AUTH0_READ_TIMEOUT", 10.0)
timeout = int(_number("GUNICORN_TIMEOUT", max(30, 2 * _auth0_call + 5)))
# On SIGTERM, workers finish the requests they hold (up to this long), then exit.
graceful_timeout = int(_number("GUNICORN_GRACEFUL_TIMEOUT", timeout))
# Longer than a proxy's idle timeout is what avoids 502s on reused connections; the sync worker
# ignores keep-alive, the gthread worker honours it.
keepalive = int(_number("GUNICORN_KEEPALIVE", 5))
# Recycle workers now and then (jittered, so not all at once) to bound slow memory growth.
max_requests = int(_number("GUNICORN_MAX_REQUESTS", 10_000))
max_requests_jitter = max_requests // 10

# gunicorn's own access log would print full URLs, whose query strings can carry ids and OAuth
# codes: the app writes its own JSON access line (path, status, duration, request id) instead.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# X-Forwarded-* are trusted by the app only with TRUST_PROXY=1 (werkzeug's ProxyFix, one hop).
# gunicorn trusts them from FORWARDED_ALLOW_IPS (default 127.0.0.1): set it to the proxy's
# address, never "*" unless nothing but the proxy can reach this port.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


# Metrics (METRICS=1): every worker writes its figures to files in PROMETHEUS_MULTIPROC_DIR and a
# scrape of any worker adds them all up (prometheus_client's multiprocess mode). prometheus_client
# reads the variable when it is first imported, so it is set here, in the master, before the app
# is loaded; the workers are forked from the master and inherit it. Without a directory of the
# operator's, one is made per run and removed on exit (remembered in the environment, because a
# HUP runs this file again).
_metrics = os.environ.get("METRICS", "").strip().lower() in ("1", "true", "yes", "on")
_MADE_HERE = "LINKED_ACCOUNTS_METRICS_DIR_MADE"
if _metrics and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="linked-accounts-metrics-")
    os.environ[_MADE_HERE] = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def on_starting(server) -> None:
    """Empty the metrics directory once per start (not on a HUP, which keeps the workers' files):
    figures a previous run left behind would otherwise be added to this run's."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") if _metrics else None
    if directory:
        os.makedirs(directory, exist_ok=True)
        for path in glob.glob(os.path.join(directory, "*.db")):
            os.remove(path)


_unmerged: list[int] = []  # exited workers whose metrics files wait for a scrape to finish


def child_exit(server, worker) -> None:
    """Fold the metrics files of a worker that exited (in the master, however it ended) into the
    directory's files for exited workers: its counts stay, and recycled workers (max_requests)
    leave no file behind each (standalone/metrics_files.py)."""
    global _unmerged
    if _metrics:
        from standalone import metrics_files

        try:
            directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
            _unmerged = metrics_files.retire([*_unmerged, worker.pid], directory)
        except Exception:  # never let bookkeeping stop the master; the files still count
            server.log.exception("Could not fold the metrics files of worker %s", worker.pid)


def on_exit(server) -> None:
    """Remove the metrics directory made for this run."""
    made = os.environ.get(_MADE_HERE)
    if made and made == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(made, ignore_errors=True)


def when_ready(server) -> None:
    """Compile the app's templates in the master, once, load each language's catalog and date
    data, and check a throwaway ID token (which sets up OpenSSL's RSA code), so the workers share
    them instead of each building its own on first use (the app itself is loaded by
    preload_app)."""
    app = getattr(server.app, "callable", None)  # None unless preloaded
    env = getattr(app, "jinja_env", None)
    if env is None:
        return
    for name in env.list_templates(filter_func=lambda name: name.endswith(".html")):
        env.get_template(name)
    if "linked_accounts" in app.extensions:
        from linked_accounts.signin import trips
        from linked_accounts.web import templating

        templating.warm(app)
        trips.warm()


def pre_fork(server, worker) -> None:
    """Freeze the loaded app in the master, just before forking a worker.

    The collector writes into every object it examines, which would copy the shared pages into
    each worker one by one; frozen objects are never examined. (Reference counts still touch
    the objects a worker uses: those pages become its own, the rest stay shared.)
    """
    gc.freeze()


def post_fork(server, worker) -> None:
    """Give the new worker connections of its own: none opened in the master may be shared.

    The master opens none (nothing calls Auth0 or Redis while loading), and both pools would
    notice the new process anyway; dropping them here makes it hold whatever a change brings.
    """
    state, redis = _clients(getattr(worker.app, "callable", None))  # None unless preloaded
    if state is not None:
        state.management.http.close()  # requests reopens its pool on the next call
    if redis is not None:
        redis.connection_pool.reset()  # forget (not close) the master's sockets


def worker_exit(server, worker) -> None:
    """Close the worker's pooled connections to Auth0 and Redis as it shuts down."""
    state, redis = _clients(getattr(worker, "wsgi", None))
    if state is not None:
        state.management.http.close()
    if redis is not None:
        redis.close()


def _clients(app) -> tuple[object, object]:
    """Return the app's extension state and its Redis client, either None when absent."""
    state = getattr(app, "extensions", {}).get("linked_accounts")
    return state, getattr(app, "config", {}).get("SESSION_REDIS")
