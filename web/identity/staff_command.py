"""`python -m web staff add|totp`: the operator's side of web/identity/staff_accounts.py.

    python -m web staff add katib2 --name "Günay Quliyeva" --role registry_clerk
    python -m web staff add icraci2 --name "Leyla Rzayeva" --role executor --executor 2
    python -m web staff totp katib2        # a new second factor (lost phone)

The password is asked twice on a terminal, or read as the first line of standard input
(automation: `printf '%s\\n' "$PASSWORD" | python -m web staff add …`), never taken as an
argument (it would stay in the shell's history and in `ps`). What the account's owner needs
is printed: the key in groups of four, the otpauth:// URI and the same as a QR code.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import TextIO

import segno

from web.identity.accounts import PasswordRejected
from web.identity.staff_accounts import (
    STAFF_ROLES,
    Enrolment,
    StaffAccountError,
    add_staff,
    replace_totp,
)


def add_arguments(commands: argparse._SubParsersAction) -> None:
    staff = commands.add_parser("staff", help="staff accounts and their second factor")
    actions = staff.add_subparsers(dest="staff_command", required=True)
    add = actions.add_parser("add", help="a new staff account (password asked, TOTP key shown)")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="the person's full name")
    add.add_argument("--role", required=True, choices=[str(role) for role in STAFF_ROLES])
    add.add_argument(
        "--executor",
        type=_row_id,
        help="with --role executor: link this executor of the registry (its id) to the account",
    )
    totp = actions.add_parser("totp", help="a new TOTP key for a staff account; its sessions end")
    totp.add_argument("username")


def _row_id(text: str) -> int:
    value = int(text)
    if not 0 < value < 2**31:  # a database integer
        raise argparse.ArgumentTypeError(f"{text} is not an id")
    return value


def read_password(stdin: TextIO = sys.stdin) -> str:
    """Twice on a terminal (the same both times), else the first line of standard input."""
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("The same password again: ") != first:
            raise StaffAccountError("the two passwords differ")
        return first
    return stdin.readline().rstrip("\r\n")


def print_enrolment(enrolment: Enrolment, out: TextIO = sys.stdout) -> None:
    print(f"TOTP key for {enrolment.username} (give it to its owner in person):", file=out)
    print(f"  {enrolment.key_in_groups}", file=out)
    print(f"  {enrolment.uri}", file=out)
    print("Scan it with an authenticator app, or type the key in:", file=out)
    segno.make(enrolment.uri, error="m").terminal(out=out, compact=True)


async def _run(args: argparse.Namespace) -> int:
    from web.identity import authority
    from web.identity.sessions import STORE_NAME
    from web.platform import db
    from web.platform.stores import StoreFactory
    from web.settings import get_settings

    settings = get_settings()
    stores = StoreFactory(settings)
    # Like the app: a changed authority (ended sessions) reaches sessions kept in Redis.
    unregister = authority.register(stores(STORE_NAME), settings.secret_key)
    await db.init_db(settings)
    try:
        if args.staff_command == "add":
            password = read_password()
            enrolment = await add_staff(
                args.username, args.name, args.role, password, executor_id=args.executor
            )
            print(f"Staff account {enrolment.username} ({args.role}) made.")
        else:
            enrolment = await replace_totp(args.username)
            if stores.redis is not None:
                ended = "its sessions have ended"
            else:  # they live in the server's memory, out of this command's reach
                minutes = authority.MAX_AGE_SECONDS // 60
                ended = f"its sessions end within {minutes} minutes (kept in the server's memory)"
            print(f"New TOTP key for {enrolment.username}; {ended}.")
        print_enrolment(enrolment)
        return 0
    except PasswordRejected as rejected:
        reasons = ", ".join(
            problem.code + (f" {dict(problem.params)}" if problem.params else "")
            for problem in rejected.problems
        )
        print(f"The password was refused: {reasons}", file=sys.stderr)
        return 2
    except StaffAccountError as error:
        print(f"Not done: {error}", file=sys.stderr)
        return 2
    finally:
        unregister()
        await db.close_db()
        await stores.close()


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
