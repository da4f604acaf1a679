"""`make run`: serve the app on http://127.0.0.1:5000, on the development tenant unless
AUTH0_DOMAIN names a real one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

TENANT_PORT = int(os.environ.get("DEV_TENANT_PORT", "5001"))
APP_PORT = int(os.environ.get("PORT", "5000"))
# The at-login door's post-login Action, which the tenant runs on every login as Auth0 would.
SHIPPED_ACTION = (
    Path(__file__).resolve().parent.parent / "linked_accounts" / "atlogin" / "action"
) / "link-accounts.js"
# The HS256 secret the Action and the app's linking page share: for this machine only.
DEV_LINKING_SECRET = "dev-only-linking-secret-never-use-in-production"  # noqa: S105
# The ID token claim the Action puts the person's identities in and the app reads them from
# (its IDENTITIES_CLAIM): the first view after a sign-in reads no Management API.
DEV_IDENTITIES_CLAIM = "https://linked-accounts/identities"


def wait_for(url: str, seconds: float = 20) -> None:
    """Wait until `url` answers, so the app's first login finds the tenant up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    sys.exit(f"the development tenant did not start at {url}")


def tenant_command(
    tenant_url: str, linking_secret: str | None, identities_claim: str | None = None
) -> list[str]:
    """`python -m devtenant` for `make run`: with the shipped Action when there is a linking
    secret (AT_LOGIN_SECRET) to share with the app, an identities claim to give it, or both;
    with the secrets of each."""
    command = [sys.executable, "-m", "devtenant", "--host", "127.0.0.1", "--port", str(TENANT_PORT)]
    if not linking_secret and not identities_claim:
        return command
    secrets = {}
    if linking_secret:
        secrets.update(
            {
                "LINKING_SECRET": linking_secret,
                "LINKING_URL": f"http://127.0.0.1:{APP_PORT}/account/at-login",
                "AUTH0_DOMAIN": tenant_url,
                "M2M_CLIENT_ID": "dev-m2m",
                "M2M_CLIENT_SECRET": "dev-m2m-secret",
            }
        )
    if identities_claim:
        secrets["IDENTITIES_CLAIM"] = identities_claim
    command += ["--action", str(SHIPPED_ACTION)]
    for name, value in secrets.items():
        command += ["--action-secret", f"{name}={value}"]
    return command


def main() -> None:
    env = dict(os.environ)
    tenant = None
    if not env.get("AUTH0_DOMAIN"):
        tenant_url = f"http://127.0.0.1:{TENANT_PORT}"
        linking_secret = identities_claim = None
        if SHIPPED_ACTION.exists():
            # The door at login: the tenant runs the Action, the app answers it with this secret.
            # An empty AT_LOGIN_SECRET keeps the door closed.
            linking_secret = env.setdefault("AT_LOGIN_SECRET", DEV_LINKING_SECRET) or None
            # The identities in the ID token, under the name the app reads them by. An empty
            # IDENTITIES_CLAIM leaves them out: the first view reads the Management API.
            identities_claim = env.setdefault("IDENTITIES_CLAIM", DEV_IDENTITIES_CLAIM) or None
        tenant = subprocess.Popen(tenant_command(tenant_url, linking_secret, identities_claim))
        wait_for(f"{tenant_url}/.well-known/openid-configuration")
        env["DEV_AUTH0_DOMAIN"] = tenant_url
        env["DEV_TENANT"] = "1"  # the app refuses to fall back to the tenant without it
        # Link suggestions out of the box: the tenant's published M2M client (read:users) finds
        # Maya Patel's two accounts; sign in as either to see the other suggested.
        env.setdefault("SUGGEST_LINKS", "1")
        if env["SUGGEST_LINKS"] not in ("", "0"):
            env.setdefault("AUTH0_M2M_CLIENT_ID", "dev-m2m")
            env.setdefault("AUTH0_M2M_CLIENT_SECRET", "dev-m2m-secret")
    print(
        f"Open http://127.0.0.1:{APP_PORT}/  (use 127.0.0.1, not localhost: cookies are per host)"
    )
    try:
        subprocess.call(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "app",
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(APP_PORT),
            ],
            env=env,
        )
    except KeyboardInterrupt:
        pass
    finally:
        if tenant:
            tenant.terminate()
            tenant.wait(timeout=10)


if __name__ == "__main__":
    main()
