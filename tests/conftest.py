"""Test settings are put in the environment before the app is imported."""

from __future__ import annotations

import os
import tempfile

_DATA_DIR = tempfile.mkdtemp(prefix="egomruk-test-")
os.environ.update(
    {
        "ENV": "development",
        "DATA_DIR": _DATA_DIR,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "RATE_LIMIT_PER_MINUTE": "100000",
        "SIGN_IN_RATE_LIMIT_PER_MINUTE": "100000",
        "LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)
