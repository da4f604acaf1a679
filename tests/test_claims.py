"""scripts/check_claims.py: every protection its table names, removed in a scratch copy, fails
the tests SECURITY.md cites for it; and the script itself tells a proof from a test that stays
green, and a stale table from a current one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts import check_claims as cc

ROOT = Path(__file__).resolve().parent.parent


def test_every_claimed_protection_removed_fails_its_cited_tests():
    run = subprocess.run(
        [sys.executable, "scripts/check_claims.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{len(cc.CLAIMS)} of {len(cc.CLAIMS)} claims proven" in run.stdout
    assert "NOT PROVEN" not in run.stdout


def test_the_table_covers_what_the_review_named():
    names = {claim.name for claim in cc.CLAIMS}
    assert {
        "csrf_suggestion_link",
        "csrf_suggestion_dismiss",
        "csrf_suggestion_restore",
        "merge_self_sub",
        "merge_self_auth_time",
        "proof_auth_time",
        "proof_email_verified",
        "per_user_entry_names_its_user",
    } <= names


GUARD = """def allowed(user):
    if user != "me":
        return False
    return True
"""
GUARD_TESTS = """from guard import allowed


def test_only_me_is_allowed():
    assert allowed("me")
    assert not allowed("eve")


def test_me_is_allowed():
    assert allowed("me")
"""
PROVEN = cc.Claim(
    "check_removed",
    "only me",
    (cc.Edit("guard.py", 'if user != "me":', "if False:"),),
    ("tests/test_guard.py::test_only_me_is_allowed",),
)
STAYS_GREEN = cc.Claim(
    "cited_test_misses_it",
    "only me",
    (cc.Edit("guard.py", 'if user != "me":', "if False:"),),
    ("tests/test_guard.py::test_me_is_allowed",),  # never asks for anyone else
)


@pytest.fixture
def repo(tmp_path) -> Path:
    """A repository of one protection and its tests, and what a run must not copy."""
    root = tmp_path / "repo"
    (root / "tests").mkdir(parents=True)
    (root / "guard.py").write_text(GUARD)
    (root / "tests" / "test_guard.py").write_text(GUARD_TESTS)
    (root / ".venv").mkdir()
    (root / ".venv" / "big").write_text("x")
    return root


def test_a_claim_whose_tests_stay_green_without_its_protection_is_reported(repo):
    ok, outcomes = cc.check(repo, [PROVEN, STAYS_GREEN], jobs=2)
    assert not ok
    assert [(o.claim.name, o.proven) for o in outcomes] == [
        ("check_removed", True),
        ("cited_test_misses_it", False),
    ]
    assert "test_only_me_is_allowed" in outcomes[0].detail
    assert "stayed green" in outcomes[1].detail
    assert (repo / "guard.py").read_text() == GUARD  # only the scratch copy was changed


def test_tests_that_fail_with_nothing_removed_prove_nothing(repo):
    (repo / "guard.py").write_text(GUARD.replace("return True", "return None"))
    ok, outcomes = cc.check(repo, [PROVEN], jobs=1)
    assert not ok and outcomes == []


def test_the_copy_leaves_out_the_environment_and_history(repo, tmp_path):
    copy = cc.copy_repository(repo, tmp_path / "copy")
    assert (copy / "guard.py").is_file()
    assert not (copy / ".venv").exists()


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (cc.Edit("guard.py", "if user == 'me':", "if True:"), "found 0 times"),
        (cc.Edit("guard.py", "return", "pass"), "found 2 times"),
        (cc.Edit("gone.py", "x", "y"), "no such file"),
    ],
)
def test_a_snippet_not_found_exactly_once_stops_the_check(repo, edit, problem):
    stale = cc.Claim("stale", "only me", (edit,), PROVEN.tests)
    with pytest.raises(cc.StaleTable, match=problem):
        cc.check_table(repo, [stale], None)


def test_a_claim_security_md_does_not_back_stops_the_check(repo):
    cc.check_table(
        repo, [PROVEN], "| only me | `guard.py` | `test_guard.py::test_only_me_is_allowed` |"
    )
    with pytest.raises(cc.StaleTable, match="no row"):
        cc.check_table(repo, [PROVEN], "| someone else | `test_only_me_is_allowed` |")
    with pytest.raises(cc.StaleTable, match="does not cite test_only_me_is_allowed"):
        cc.check_table(repo, [PROVEN], "| only me | `test_me_is_allowed` |")


def test_the_real_table_follows_the_code_and_security_md():
    cc.check_table(ROOT, cc.CLAIMS, (ROOT / "SECURITY.md").read_text())
