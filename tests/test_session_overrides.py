"""The session stores (linked_accounts/storage/) go beyond Flask-Session's and cachelib's public
interfaces in a few named places, written for Flask-Session 0.8 (pyproject pins the series) and
cachelib 0.17. Each place is listed here: an upgrade that removes or reshapes one fails here by
its name, rather than bypassing the store's rules in silence (an override never called: sessions
read with pickle, logouts written back, floods evicting signed-in sessions)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import flask
import pytest
from cachelib.file import FileSystemCache
from flask_session.base import MsgSpecSerializer, ServerSideSessionInterface
from flask_session.cachelib import CacheLibSessionInterface
from flask_session.redis import RedisSessionInterface

import linked_accounts.storage
from linked_accounts.storage import init_sessions
from linked_accounts.storage.files import FileSessions, PendingFiles
from linked_accounts.storage.redis_store import RedisSessions
from linked_accounts.storage.rules import SessionRules

STORAGE = Path(linked_accounts.storage.__file__).parent
MODULES = ("files.py", "redis_store.py", "rules.py")
# The hooks Flask-Session's base class leaves to each store (reading, deleting and writing one
# session), overridden here: no public API or setting keeps sessions in two folders, reads ahead,
# writes a session only while it still exists, or refuses pickle.
HOOKS = ("_retrieve_session_data", "_delete_session", "_upsert_session")
# Flask-Session's private helpers called here as its own code calls them.
HELPERS = ("_generate_sid", "_get_store_id")
# cachelib's FileSystemCache: the cheap prune (an override) and what it and the sweep call.
CACHELIB = ("_prune", "_over_threshold", "_is_mgmt", "_update_count", "_remove_expired")
CACHELIB_ATTRIBUTES = ("_path",)  # set in its __init__
OURS = (SessionRules, FileSessions, RedisSessions, PendingFiles)
UPSTREAM = (ServerSideSessionInterface, CacheLibSessionInterface, RedisSessionInterface)


@pytest.mark.parametrize("name", HOOKS + HELPERS)
def test_every_private_part_of_flask_session_used_here_still_exists(name):
    assert callable(getattr(ServerSideSessionInterface, name, None)), (
        f"Flask-Session {version('flask-session')} has no {name}, which the session stores "
        "(linked_accounts/storage/) override or call: theirs would never be called, or fail; "
        "check what replaced it before moving the pin in pyproject.toml"
    )


@pytest.mark.parametrize(
    ("ours", "upstream", "name"),
    [
        (ours, upstream, name)
        for ours, upstream in [
            (FileSessions, CacheLibSessionInterface),
            (RedisSessions, RedisSessionInterface),
        ]
        for name in HOOKS
        if name in vars(ours)
    ],
)
def test_each_overridden_hook_keeps_the_shape_it_was_written_for(ours, upstream, name):
    theirs = list(inspect.signature(getattr(upstream, name)).parameters)
    assert list(inspect.signature(getattr(ours, name)).parameters) == theirs, (
        f"{ours.__name__}.{name} overrides Flask-Session's {upstream.__name__}.{name}, whose "
        f"parameters are now {theirs}"
    )


def test_the_private_parts_of_cachelib_used_here_still_exist(tmp_path):
    cache = FileSystemCache(str(tmp_path), threshold=1)
    for name in CACHELIB:
        assert callable(getattr(FileSystemCache, name, None)), (
            f"cachelib {version('cachelib')} has no FileSystemCache.{name}: PendingFiles._prune "
            "and FileSessions._sweep (linked_accounts/storage/files.py) rely on it"
        )
    for name in CACHELIB_ATTRIBUTES:
        assert hasattr(cache, name), f"cachelib's FileSystemCache has no {name} any more"


def test_the_redis_store_still_finds_flask_sessions_own_decoder():
    """RedisSessions reads with the serializer's decoder alone, not its JSON and pickle
    fallbacks: the decoder must still be there."""
    decoder = MsgSpecSerializer(flask.Flask(__name__), "msgpack").decoder
    assert callable(getattr(decoder, "decode", None)), "MsgSpecSerializer.decoder is gone"


def test_no_helper_of_ours_overrides_flask_session_by_accident():
    """A private name defined here that Flask-Session (or cachelib) has too is an override: it
    must be one of the listed ones, or a later release adding it would be overridden unseen."""
    listed = set(HOOKS) | {"_prune"}
    for cls in OURS:
        for name, value in vars(cls).items():
            if not _private(name) or not inspect.isfunction(value):
                continue
            upstream = [u.__name__ for u in (*UPSTREAM, FileSystemCache) if hasattr(u, name)]
            assert not upstream or name in listed, (
                f"{cls.__name__}.{name} overrides {upstream[0]}.{name}, a private method: "
                "list it in tests/test_session_overrides.py and check the pin"
            )


def test_every_private_name_the_stores_use_of_a_library_is_listed():
    defined, used = set(), set()
    for module in MODULES:
        tree = ast.parse((STORAGE / module).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                defined.add(node.name)
            elif isinstance(node, ast.Attribute) and _private(node.attr):
                if isinstance(node.ctx, ast.Store):
                    defined.add(node.attr)
                else:
                    used.add(node.attr)
    known = set(HOOKS) | set(HELPERS) | set(CACHELIB) | set(CACHELIB_ATTRIBUTES)
    unlisted = sorted(used - defined - known)
    assert not unlisted, (
        f"storage uses the library privates {unlisted}: list them in "
        "tests/test_session_overrides.py and pin the library to the versions they exist in"
    )


@pytest.mark.parametrize("store", ["files", "redis"])
def test_a_request_goes_through_each_hook_of_the_store(store, tmp_path, request, monkeypatch):
    """The overrides are what Flask-Session calls: an upgrade that read, wrote or deleted a
    session by another path would leave them out."""
    app = flask.Flask(__name__, instance_path=str(tmp_path))
    app.secret_key = "test"
    redis_url = request.getfixturevalue("redis_url") if store == "redis" else None
    init_sessions(app, redis_url)
    interface = app.session_interface
    called: list[str] = []
    for name in HOOKS:
        if name in vars(type(interface)):
            original = getattr(interface, name)
            monkeypatch.setattr(interface, name, _recording(name, original, called))

    @app.get("/set")
    def set_():
        flask.session["signed_in"] = "ada"
        return "set"

    @app.get("/get")
    def get():
        return flask.session.get("signed_in", "")

    @app.get("/clear")
    def clear():
        flask.session.clear()
        return "cleared"

    client = app.test_client()
    client.get("/set")
    assert client.get("/get").text == "ada"
    client.get("/clear")
    assert client.get("/get").text == ""
    expected = [name for name in HOOKS if name in vars(type(interface))]
    assert expected and sorted(set(called)) == sorted(expected), called


def _recording(name, original, called):
    def recorded(*args, **kwargs):
        called.append(name)
        return original(*args, **kwargs)

    return recorded


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def version(distribution: str) -> str:
    from importlib.metadata import version as installed

    return installed(distribution)
