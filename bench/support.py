"""What the benchmarks share with the tests: signing a demo user in on an in-process client
(`tests/support/web.py`, one helper for both)."""

from __future__ import annotations

from functools import partial

from tests.support.web import sign_in as _sign_in

sign_in = partial(_sign_in, expect=303)
