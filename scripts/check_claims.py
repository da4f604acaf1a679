"""Prove SECURITY.md's claims the hard way: remove each protection and watch its tests fail.

A test cited as proof proves nothing if it stays green without the protection (another layer may
catch the attack first, or the test may never reach the check). For each claim in CLAIMS this
copies the repository to a scratch directory, removes or neutralises the protection there (an
exact snippet of the code, replaced), and runs only the tests cited for it. A claim whose tests
all stay green is reported, and the run fails.

    .venv/bin/python scripts/check_claims.py            # every claim (a minute or two)
    .venv/bin/python scripts/check_claims.py --list     # the table
    .venv/bin/python scripts/check_claims.py csrf_suggestion_dismiss merge_self_sub

The table follows the code: a snippet that is not found exactly once stops the run before any test
runs (exit 2), and so does a test SECURITY.md does not cite. First the cited tests run once on the
unchanged copy: they must pass there, or a failure would prove nothing. Exit 0: every claim's tests
failed without its protection; 1: some stayed green (or failed unchanged); 2: the table is stale.
`tests/test_claims.py` runs this, so `make test` and CI do.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Not copied: the environment, history, installed node packages, and what runs leave behind.
SKIP = {
    ".venv",
    ".git",
    "node_modules",
    "test-results",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "_build",
    "instance",
}
TIMEOUT = 300  # seconds for one run of a claim's tests


@dataclass(frozen=True)
class Edit:
    """Replace `old`, which must occur exactly once in `path`, with `new`."""

    path: str
    old: str
    new: str


@dataclass(frozen=True)
class Claim:
    name: str
    row: str  # text of the SECURITY.md row the claim stands for
    edits: tuple[Edit, ...]
    tests: tuple[str, ...]  # pytest node ids, relative to the repository


VIEWS = "linked_accounts/suggestions/views.py"
MERGING = "linked_accounts/suggestions/merging.py"
LOOKUP = "linked_accounts/suggestions/lookup.py"
SUGGESTIONS = "tests/test_suggestions.py::"
REAUTH = "linked_accounts/signin/reauth.py"
KEPT = "tests/test_kept_login.py::"
HOST = "tests/test_host_signin.py::"
DOOR = "linked_accounts/atlogin/views.py"
AT_LOGIN = "tests/test_at_login.py::"
HOST_CSRF = (
    SUGGESTIONS + "test_in_host_sign_in_mode_the_suggestion_forms_refuse_a_post_without_their_token"
)

CLAIMS: tuple[Claim, ...] = (
    # The suggestion forms' own CSRF tokens: in host sign-in mode nothing else guards them.
    Claim(
        "csrf_suggestion_link",
        "CSRF on linking a suggestion, dismissing and restoring",
        (
            Edit(
                VIEWS,
                "form = pages.require_valid(SuggestionForm())",
                'form = pages.require_valid(SuggestionForm(meta={"csrf": False}))',
            ),
        ),
        (
            SUGGESTIONS
            + "test_in_host_sign_in_mode_the_suggestion_forms_refuse_a_post_without_their_token",
        ),
    ),
    Claim(
        "csrf_suggestion_dismiss",
        "CSRF on linking a suggestion, dismissing and restoring",
        (
            Edit(
                VIEWS,
                "form = pages.require_valid(DismissForm())",
                'form = pages.require_valid(DismissForm(meta={"csrf": False}))',
            ),
        ),
        (
            SUGGESTIONS
            + "test_in_host_sign_in_mode_the_suggestion_forms_refuse_a_post_without_their_token",
        ),
    ),
    Claim(
        "csrf_suggestion_restore",
        "CSRF on linking a suggestion, dismissing and restoring",
        (
            Edit(
                VIEWS,
                "pages.require_valid(FlaskForm())",
                'pages.require_valid(FlaskForm(meta={"csrf": False}))',
            ),
        ),
        (
            SUGGESTIONS
            + "test_in_host_sign_in_mode_the_suggestion_forms_refuse_a_post_without_their_token",
        ),
    ),
    Claim(
        "csrf_unlink",
        "4.2.2 / 13.2.3 CSRF on every state change",
        (
            Edit(
                "linked_accounts/web/pages.py",
                "form = require_valid(IdentityForm())",
                'form = require_valid(IdentityForm(meta={"csrf": False}))',
            ),
        ),
        (HOST + "test_in_host_sign_in_mode_an_unlink_without_the_forms_token_is_refused",),
    ),
    # The merge's sign-ins: each is the account it must be, and made during its trip.
    Claim(
        "merge_self_sub",
        "checked for its `sub` and `auth_time`",
        (
            Edit(
                MERGING,
                "problem = reauth.unproven(claims, trip, acct.user_id)",
                "problem = reauth.unproven(claims, trip, None)",
            ),
        ),
        (SUGGESTIONS + "test_the_first_sign_in_of_a_merge_as_another_account_links_nothing",),
    ),
    Claim(
        "merge_self_auth_time",
        "checked for its `sub` and `auth_time`",
        (
            Edit(
                MERGING,
                "method, message)\n    if problem is Unproven.NOT_AGAIN:",
                "method, message)\n    if False:",
            ),
        ),
        (SUGGESTIONS + "test_a_first_sign_in_of_a_merge_from_before_the_trip_links_nothing",),
    ),
    Claim(
        "proof_sub",
        "whose `sub` is exactly the suggested account",
        (
            Edit(
                MERGING,
                "reauth.unproven(claims, trip, other.user_id,",
                "reauth.unproven(claims, trip, None,",
            ),
        ),
        (
            SUGGESTIONS + "test_a_refused_or_cancelled_proof_changes_nothing"
            "[proof-Continue as Ben Carter-different account]",
        ),
    ),
    Claim(
        "proof_auth_time",
        "whose `sub` is exactly the suggested account",
        (
            Edit(
                MERGING,
                "        )\n    if problem is Unproven.NOT_AGAIN:",
                "        )\n    if False:",
            ),
        ),
        (SUGGESTIONS + "test_a_proof_sign_in_from_before_the_trip_links_nothing",),
    ),
    Claim(
        "proof_email_verified",
        "Both emails verified",
        (Edit(MERGING, 'if claims.get("email_verified") is not True:', "if False:"),),
        (SUGGESTIONS + "test_a_proof_sign_in_whose_email_is_no_longer_verified_links_nothing",),
    ),
    # The login's own ID token stands in for a sign-in only as that login's, while usable.
    Claim(
        "kept_login_sub",
        "the login's own ID token, kept in the server-side session only",
        (
            Edit(
                REAUTH,
                "if kept is None or kept.user_id != acct.user_id or",
                "if kept is None or",
            ),
        ),
        (KEPT + "test_a_kept_token_of_another_account_is_never_the_link_with",),
    ),
    Claim(
        "kept_login_auth_time",
        "the login's own ID token, kept in the server-side session only",
        (Edit(REAUTH, " or kept.auth_time != acct.auth_time:", ":"),),
        (KEPT + "test_a_token_kept_by_another_login_of_the_same_account_is_not_used",),
    ),
    Claim(
        "kept_login_expiry",
        "the login's own ID token, kept in the server-side session only",
        (Edit(REAUTH, " or kept.expires_at <= time.time() + trips.LIFETIME:", ":"),),
        (KEPT + "test_an_id_token_that_could_expire_before_the_proof_is_back_is_not_used",),
    ),
    Claim(
        "kept_login_forgotten_with_the_user",
        "the login's own ID token, kept in the server-side session only",
        (
            # LOGIN no longer among the keys the extension drops when its user goes.
            Edit("linked_accounts/storage/keys.py", "\n        LOGIN,\n", "\n"),
        ),
        (KEPT + "test_the_host_switching_user_forgets_the_kept_login",),
    ),
    # What a form names is looked up among the person's own, never taken as it is.
    Claim(
        "per_user_entry_names_its_user",
        "Per-user values (suggestions found, dismissals)",
        (
            Edit(
                "linked_accounts/per_user.py",
                'if not isinstance(entry, dict) or entry.get("user_id") != user_id:',
                "if not isinstance(entry, dict):",
            ),
        ),
        (
            "tests/test_identity_cache.py::"
            "test_an_entry_that_names_another_user_or_tenant_is_never_shown[files]",
        ),
    ),
    Claim(
        "unlink_resolves_the_users_own_identity",
        "`operations.py` `secondary` looks the identity up in the user's own identities",
        (
            Edit(
                "linked_accounts/operations.py",
                "    if found is None:\n        raise AlreadyUnlinked()\n",
                "    if found is None:  # the form's identity, as it is\n"
                "        from .identities import Identity as _Named\n\n"
                '        provider, _, user_id = key.partition("|")\n'
                '        found = _Named(provider, user_id, "", False, False)\n',
            ),
        ),
        ("tests/test_unlink_refusals.py::test_a_forged_identity_is_not_sent_to_auth0",),
    ),
    # Configuration that would protect nothing is refused.
    Claim(
        "readyz_loopback_refused_behind_a_proxy",
        "`READYZ_LOOPBACK_ONLY` is refused at start-up together with `TRUST_PROXY=1`",
        (
            Edit(
                "standalone/health.py",
                "if policy.loopback_only and forwarded_for_trusted(app):",
                "if False:",
            ),
        ),
        ("tests/test_ops.py::test_readyz_loopback_only_behind_a_trusted_proxy_stops_start_up",),
    ),
    Claim(
        "suggestion_resolves_the_users_own_candidate",
        "A suggestion is only ever one of the person's own",
        (
            Edit(
                "linked_accounts/suggestions/lookup.py", "if candidate.user_id == key:", "if True:"
            ),
        ),
        (SUGGESTIONS + "test_a_suggestion_not_offered_cannot_be_linked",),
    ),
    # The at-login door.
    Claim(
        "door_replay",
        "The Action's token opens the door only when it is Auth0's",
        (
            Edit(
                DOOR,
                "if store is not None and not store.add(used, 1, "
                "ttl=found.expires_at - time.time() + 60):",
                "if False:",
            ),
        ),
        (AT_LOGIN + "test_a_replayed_token_is_refused_even_in_another_browser",),
    ),
    Claim(
        "door_proof",
        "Nothing is linked on an email match: the chosen account is one the Action named",
        (
            Edit(
                DOOR,
                "problem = reauth.unproven(claims, trip, chosen.user_id)",
                "problem = None",
            ),
        ),
        (AT_LOGIN + "test_a_proof_with_another_account_asks_again_and_answers_nothing",),
    ),
    Claim(
        "door_csrf_link",
        "CSRF on the door's forms",
        (
            Edit(
                DOOR, "    form = CandidateForm()", '    form = CandidateForm(meta={"csrf": False})'
            ),
        ),
        (AT_LOGIN + "test_the_answer_forms_need_their_csrf_token",),
    ),
    Claim(
        "door_csrf",
        "CSRF on the door's forms",
        (Edit(DOOR, "    form = AnswerForm()", '    form = AnswerForm(meta={"csrf": False})'),),
        (AT_LOGIN + "test_the_answer_forms_need_their_csrf_token",),
    ),
)


class StaleTable(Exception):
    """The table no longer follows the code or SECURITY.md."""


@dataclass(frozen=True)
class Outcome:
    claim: Claim
    proven: bool
    detail: str


def copy_repository(root: Path, target: Path) -> Path:
    """Copy `root` to `target`, leaving out SKIP; return `target`."""
    shutil.copytree(root, target, ignore=lambda _dir, names: [n for n in names if n in SKIP])
    return target


def mutated(root: Path, edits: Iterable[Edit]) -> dict[str, str]:
    """Return the text of each file `edits` change in `root`, changed; raise StaleTable when a
    snippet is not there exactly once."""
    texts: dict[str, str] = {}
    for edit in edits:
        if edit.path not in texts:
            if not (root / edit.path).is_file():
                raise StaleTable(f"{edit.path}: no such file")
            texts[edit.path] = (root / edit.path).read_text()
        found = texts[edit.path].count(edit.old)
        if found != 1:
            raise StaleTable(f"{edit.path}: {edit.old!r} found {found} times, not once")
        texts[edit.path] = texts[edit.path].replace(edit.old, edit.new)
    return texts


def check_table(root: Path, claims: Sequence[Claim], security_md: str | None) -> None:
    """Raise StaleTable unless every snippet is found once, and (given SECURITY.md's text) every
    claim's row and tests are in it. Quick: it runs before any test does."""
    for claim in claims:
        try:
            mutated(root, claim.edits)
        except StaleTable as stale:
            raise StaleTable(f"{claim.name}: {stale}") from None
        if security_md is None:
            continue
        if claim.row not in security_md:
            raise StaleTable(f"{claim.name}: SECURITY.md has no row with {claim.row!r}")
        for test in claim.tests:
            name = test.partition("::")[2].partition("[")[0]
            if not re.search(rf"`[^`]*{re.escape(name)}[^`]*`", security_md):
                raise StaleTable(f"{claim.name}: SECURITY.md does not cite {name}")


def run_tests(copy: Path, tests: Sequence[str]) -> subprocess.CompletedProcess:
    """Run `tests` in `copy` with this Python, importing the copy's code, not the checkout's."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests]
    return subprocess.run(
        command, cwd=copy, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def imports_from(copy: Path, claims: Sequence[Claim]) -> None:
    """Raise unless Python started in `copy` imports every edited module from the copy (an
    editable install of the checkout must not win)."""
    modules = sorted(
        {e.path.removesuffix(".py").replace("/", ".") for c in claims for e in c.edits}
    )
    code = (
        "import importlib, sys\nfor m in sys.argv[1:]: print(importlib.import_module(m).__file__)"
    )
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    where = subprocess.run(
        [sys.executable, "-c", code, *modules],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    outside = [path for path in where if not Path(path).resolve().is_relative_to(copy.resolve())]
    if outside:
        raise RuntimeError(f"the scratch copy's tests would import the checkout's code: {outside}")


def failures(output: str) -> str:
    """What failed in a pytest run: the short summary's FAILED/ERROR lines and the first line of
    the first failure's explanation (so a reader can see it failed for the right reason)."""
    lines = output.splitlines()
    failed = [line.split(" - ")[0] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    why = next((line[1:].strip() for line in lines if line.startswith("E ")), "")
    return "; ".join(failed + [why] if why else failed) or (lines or ["(no output)"])[-1]


def prove(base: Path, scratch: Path, claim: Claim) -> Outcome:
    """Remove `claim`'s protection in a copy of `base`; its tests must fail (pytest exit 1)."""
    copy = copy_repository(base, scratch / claim.name)
    try:
        for path, text in mutated(copy, claim.edits).items():
            if path.endswith(".py"):
                compile(text, path, "exec")  # a mutant that does not parse proves nothing
            (copy / path).write_text(text)
        run = run_tests(copy, claim.tests)
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    if run.returncode == 1:
        return Outcome(claim, True, failures(run.stdout))
    if run.returncode == 0:
        return Outcome(claim, False, "its tests stayed green without the protection")
    return Outcome(
        claim, False, f"pytest exit {run.returncode}: {failures(run.stdout + run.stderr)}"
    )


def check(root: Path, claims: Sequence[Claim], jobs: int = 2) -> tuple[bool, list[Outcome]]:
    """Copy `root` once (files others are editing cannot change under the run), run the cited
    tests on that copy unchanged, then each claim on a copy of it; return (all proven, outcomes)."""
    with tempfile.TemporaryDirectory(prefix="check-claims-") as tmp:
        scratch = Path(tmp)
        base = copy_repository(root, scratch / "_unchanged")
        imports_from(base, claims)
        cited = list(dict.fromkeys(t for c in claims for t in c.tests))
        run = run_tests(base, cited)
        if run.returncode != 0:
            print(f"The cited tests fail with nothing removed: {failures(run.stdout + run.stderr)}")
            return False, []
        with ThreadPoolExecutor(max(1, jobs)) as pool:
            outcomes = list(pool.map(lambda claim: prove(base, scratch, claim), claims))
    return all(o.proven for o in outcomes), outcomes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="only these claims (default: all)")
    parser.add_argument("--list", action="store_true", help="print the table and stop")
    parser.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    known = {claim.name: claim for claim in CLAIMS}
    unknown = [name for name in args.names if name not in known]
    if unknown:
        parser.error(f"unknown claims: {', '.join(unknown)}; known: {', '.join(known)}")
    claims = [known[name] for name in args.names] or list(CLAIMS)
    if args.list:
        for claim in claims:
            print(f"{claim.name}: {claim.row}\n  " + "\n  ".join(claim.tests))
        return 0
    try:
        check_table(ROOT, claims, (ROOT / "SECURITY.md").read_text())
    except StaleTable as stale:
        print(f"The claims table is stale: {stale}")
        return 2
    ok, outcomes = check(ROOT, claims, args.jobs)
    for outcome in outcomes:
        mark = "proven" if outcome.proven else "NOT PROVEN"
        print(f"{mark:10}  {outcome.claim.name}: {outcome.detail}")
    if outcomes:
        green = [o.claim.name for o in outcomes if not o.proven]
        print(
            f"{len(outcomes) - len(green)} of {len(outcomes)} claims proven"
            + (f"; not proven: {', '.join(green)}" if green else "")
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
