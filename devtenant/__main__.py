"""CLI: serve the development tenant over HTTP with werkzeug's threaded server."""

from __future__ import annotations

import argparse

from werkzeug.serving import make_server

from devtenant import create_app


def main(argv: list[str] | None = None) -> None:
    """Parse options and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m devtenant", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per Management call")
    parser.add_argument("--rate-limit", type=int, default=10, help="Management calls/user/minute")
    parser.add_argument(
        "--tenant-rate-limit", type=int, default=120, help="tenant-wide calls/minute (M2M)"
    )
    parser.add_argument(
        "--withhold-scope",
        action="append",
        default=[],
        help="a scope user logins are not granted (repeatable), e.g. delete:current_user",
    )
    parser.add_argument("--issuer", default=None, help="fixed issuer URL (default: request root)")
    args = parser.parse_args(argv)
    config = {
        "DEVTENANT_LATENCY": args.latency,
        "DEVTENANT_RATE_LIMIT": args.rate_limit,
        "DEVTENANT_TENANT_RATE_LIMIT": args.tenant_rate_limit,
        "DEVTENANT_WITHHELD_SCOPES": args.withhold_scope,
    }
    if args.issuer:
        config["DEVTENANT_ISSUER"] = args.issuer
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
