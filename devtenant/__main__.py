"""CLI: serve the development tenant over HTTP with werkzeug's threaded server."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from werkzeug.serving import make_server

from devtenant import create_app
from devtenant.scopes import WITHHELD_BY_DEFAULT


def parse(argv: list[str] | None) -> tuple[argparse.Namespace, dict[str, Any]]:
    """The command line's options, and the tenant's DEVTENANT_* config they make."""
    parser = argparse.ArgumentParser(prog="python -m devtenant", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per Management call")
    parser.add_argument(
        "--rate-burst", type=int, default=50, help="Management API bucket size (calls)"
    )
    parser.add_argument(
        "--rate-per-second",
        type=float,
        default=16.0,
        help="Management API bucket refill (calls/second); e.g. --rate-burst 10 "
        "--rate-per-second 2.5 for Auth0's Essentials and Professional plans",
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=0,
        help="an extra per-user limit for current-user tokens, calls/minute (0: none, as in "
        "Auth0's current docs; their 2019 figure was 10)",
    )
    parser.add_argument(
        "--withhold-scope",
        action="append",
        default=[],
        help="a scope user logins are not granted (repeatable; default: delete:current_user)",
    )
    parser.add_argument(
        "--grant-scope",
        action="append",
        default=[],
        help="grant a scope withheld by default (repeatable), e.g. delete:current_user",
    )
    parser.add_argument(
        "--loopback-confirmation",
        action="store_true",
        help="confirm logins that return to a loopback callback, as Auth0 does by default "
        "since 28 April 2026 (prompt=none then fails)",
    )
    parser.add_argument("--issuer", default=None, help="fixed issuer URL (default: request root)")
    parser.add_argument(
        "--action",
        default=None,
        metavar="FILE",
        help="a post-login Action (CommonJS) run with Node on every login, unless Actions are "
        "bound through the Actions Management API",
    )
    parser.add_argument(
        "--action-secret",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a secret of the --action Action, its event.secrets.NAME (repeatable)",
    )
    parser.add_argument(
        "--action-timeout",
        type=float,
        default=20.0,
        help="seconds an Action may run before the login fails (Auth0: 20)",
    )
    args = parser.parse_args(argv)
    action_secrets = {}
    for item in args.action_secret:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error(f"--action-secret takes NAME=VALUE, not {item!r}")
        action_secrets[name] = value
    withheld = set(args.withhold_scope or WITHHELD_BY_DEFAULT) - set(args.grant_scope)
    config = {
        "DEVTENANT_LATENCY": args.latency,
        "DEVTENANT_RATE_BURST": args.rate_burst,
        "DEVTENANT_RATE_PER_SECOND": args.rate_per_second,
        "DEVTENANT_RATE_LIMIT": args.rate_limit,
        "DEVTENANT_WITHHELD_SCOPES": sorted(withheld),
        "DEVTENANT_LOOPBACK_CONFIRMATION": int(args.loopback_confirmation),
        "DEVTENANT_ACTION": args.action,
        "DEVTENANT_ACTION_SECRETS": action_secrets,
        "DEVTENANT_ACTION_TIMEOUT": args.action_timeout,
    }
    if args.issuer:
        config["DEVTENANT_ISSUER"] = args.issuer
    return args, config


def main(argv: list[str] | None = None) -> None:
    """Parse options and serve until interrupted."""
    args, config = parse(argv)
    # The tenant's own log (Node missing, what Actions print) goes to stderr.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("devtenant: %(message)s"))
    logging.getLogger("devtenant").addHandler(handler)
    logging.getLogger("devtenant").setLevel(logging.INFO)
    app = create_app(config)
    server = make_server(args.host, args.port, app, threaded=True)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"Development tenant (NOT Auth0; for local development and tests only) "
        f"serving at http://{host}:{server.server_port}/",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
