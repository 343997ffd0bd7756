"""Run every benchmark in one go (`make bench`)."""

from __future__ import annotations

import sys

from bench import (
    letters_lookup,
    page_weight,
    server_load,
    sign_in_memory,
    upload_http,
    upload_memory,
)


def main() -> int:
    failures = 0
    for name, module in (
        ("page weight", page_weight),
        ("upload memory (storage)", upload_memory),
        ("upload through the portal", upload_http),
        ("letter lookup", letters_lookup),
        ("sign-in memory (argon2id)", sign_in_memory),
        ("the issue 12 table, real server and wrk", server_load),
    ):
        print(f"== {name} ==")
        failures += module.main()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
