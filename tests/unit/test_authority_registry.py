"""The registry of session stores that `authority.changed` writes to (no Redis, no app)."""

from __future__ import annotations

from web.identity import authority


def test_an_app_is_unregistered_from_the_list_it_joined(monkeypatch) -> None:
    """An app that stops while a test has swapped the list (test_redis does) must still leave
    the list it joined; a store left there, bound to a closed event loop, broke every later
    `changed` (a 500 at the next verified sign-in)."""
    original = authority._stores
    unregister = authority.register(object(), "this test's")  # type: ignore[arg-type]
    monkeypatch.setattr(authority, "_stores", [])
    unregister()
    left = [entry for entry in original if entry[1] == "this test's"]
    original[:] = [entry for entry in original if entry[1] != "this test's"]  # never leak it
    assert left == []
