"""`branchfinder accounts`: the professional app's accounts from the server's command line.

Accounts are handed out downwards through the API, so someone must create the
first one: `create-admin` makes a PBoC administrator (normally the provincial
branch, `--region 32`), and `reset-password` rescues a top-level account that
nobody above can reset. Whoever runs these has the database URL, which is
already more power than any account; each run is still audited
(actor `cli:<os user>`).
"""

from __future__ import annotations

import getpass
import sys

import click
from sqlalchemy import select

from backend.cli_common import DB_OPTION, cli_session
from core.config import Config


def _cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"


def _print_password(password: str) -> None:
    """The password on stdout alone (scripts capture it); the warning on stderr."""
    click.echo("temporary password, shown once; it must be changed at the first sign-in:", err=True)
    click.echo(password)


@click.group()
def accounts() -> None:
    """Professional app accounts: bootstrap the first administrator, rescue one, list."""


@accounts.command("create-admin")
@click.option("--username", required=True, help="3-64 lower-case letters, digits, . _ @ -")
@click.option("--display-name", required=True, help="The person's name, e.g. 张三.")
@click.option(
    "--region",
    required=True,
    help="Jurisdiction: region-code prefix, 32 province, 3201 city, 320102 county.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the temporary password from the first line of stdin instead of generating one.",
)
@DB_OPTION
def create_admin(
    username: str, display_name: str, region: str, password_stdin: bool, database_url: str
) -> None:
    """Create a PBoC administrator and print its one-time temporary password."""
    from accounts.accounts import (
        AccountInvalid,
        NewAccount,
        PasswordRejected,
        create_account,
        make_login_policy,
    )
    from accounts.audit import Actor, Filed, record

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    new = NewAccount(username, display_name, "pboc_admin", region)
    with cli_session(database_url) as session:
        try:
            created = create_account(session, None, new, make_login_policy(Config()), password)
        except AccountInvalid as exc:
            option = {"region_prefix": "--region", "display_name": "--display-name"}.get(
                exc.field, f"--{exc.field}"
            )
            raise click.BadParameter(exc.message, param_hint=option) from exc
        except PasswordRejected as exc:
            raise click.BadParameter("; ".join(exc.problems), param_hint="password") from exc
        account = created.account
        record(
            session,
            "account.create",
            "ok",
            actor=Actor(_cli_actor()),
            filed=Filed(account.region_prefix),
            target_kind="account",
            target_id=account.id,
            detail={"username": account.username, "role": account.role, "via": "cli"},
        )
    click.echo(
        f"account {account.id} {account.username} created ({account.region_prefix})", err=True
    )
    if not password_stdin:
        _print_password(created.password)


@accounts.command("reset-password")
@click.option("--username", required=True)
@DB_OPTION
def reset_password(username: str, database_url: str) -> None:
    """Give an account a new temporary password (and lift a lock); print it once."""
    from accounts.accounts import find_by_username, make_login_policy
    from accounts.accounts import reset_password as reset
    from accounts.audit import Actor, Filed, record

    with cli_session(database_url) as session:
        account = find_by_username(session, username)
        if account is None:
            raise click.BadParameter("no such account", param_hint="--username")
        password = reset(session, account, make_login_policy(Config()))
        record(
            session,
            "account.reset_password",
            "ok",
            actor=Actor(_cli_actor()),
            filed=Filed(account.region_prefix, account.legal_entity_code),
            target_kind="account",
            target_id=account.id,
            detail={"via": "cli"},
        )
    _print_password(password)


@accounts.command("list")
@DB_OPTION
def list_accounts(database_url: str) -> None:
    """Every account: id, username, role, jurisdiction, state."""
    from accounts.accounts import Account

    with cli_session(database_url) as session:
        for a in session.scalars(select(Account).order_by(Account.id)):
            state = "disabled" if a.is_disabled else "active"
            click.echo(
                f"{a.id}\t{a.username}\t{a.role}\t{a.region_prefix}\t"
                f"{a.legal_entity_code or '-'}\t{state}\t{a.display_name}"
            )
