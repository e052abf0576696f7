"""``packline user add|list|token``: the daemon's user accounts, kept in its database.

These work on the database file directly (as the daemon's owner does), not over the API: a
person who can write the database already owns the line. The daemon may run meanwhile (WAL).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from packline.daemon.serve import database_path
from packline.errors import Refused
from packline.store import Store
from packline.store.users import Users
from packline.vocabulary import ROLES


def add_user_commands(commands: argparse._SubParsersAction) -> None:
    user = commands.add_parser(
        "user", help="user accounts of the daemon (roles, passwords, tokens)"
    )
    which = user.add_subparsers(dest="user_command", required=True, metavar="COMMAND")
    add = which.add_parser("add", help="add a user (asks for the password)")
    add.add_argument("name", help="user name: lower-case letter first, up to 32 characters")
    add.add_argument("--role", choices=ROLES, required=True, help="what the user may do")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    which.add_parser("list", help="list the users and their roles")
    token = which.add_parser("token", help="make an API token for a user (printed once)")
    token.add_argument("name", help="the user the token stands for")
    token.add_argument("--label", default="cli", help="what the token is for (default cli)")
    for sub in (add, which.choices["list"], token):
        sub.add_argument(
            "--db",
            default=os.environ.get("PACKLINE_DB", "packline.db"),
            help="the daemon's database: a file or postgresql:// URL (default $PACKLINE_DB, "
            "else packline.db); users are plant-wide",
        )


def run_user_command(args: argparse.Namespace) -> int:
    try:
        with Store(str(database_path(args.db))) as store:
            users = Users(store)
            if args.user_command == "add":
                user = users.add(args.name, args.role, _password(args.password_stdin))
                print(f"user {user.name} added ({user.role})")
            elif args.user_command == "list":
                for user in users.list():
                    print(f"{user.name}\t{user.role}")
            else:
                print(users.issue_token(args.name, args.label))
    except Refused as exc:
        print(f"packline: {exc.message}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    return 0


def _password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise Refused("the two passwords differ")
    return first
