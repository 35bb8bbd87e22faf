"""`branchfinder screenshots`: the pages as a person sees them, saved as PNG files."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from backend.cli_common import DB_OPTION, cli_session

H5_VIEWS = ("list", "detail", "map")
CONSOLE_VIEWS = (
    "login",
    "password",
    "dashboard",
    "dashboard-tablet",
    "registry",
    "institution",
)
THROWAWAY_PREFIX = "screenshots-"


def _h5(browser: Any, base_url: str, out_dir: Path) -> list[Path]:
    from backend.browser import phone_context

    page = phone_context(browser).new_page()
    page.goto(f"{base_url}/m/")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    page.screenshot(path=out_dir / "h5-list.png")
    page.click("#list li a")
    page.wait_for_selector("#d-name:not(:empty)")
    page.screenshot(path=out_dir / "h5-detail.png", full_page=True)
    page.click("#tab-map")
    page.wait_for_selector("#map[data-total]", timeout=20_000)
    page.wait_for_timeout(300)  # the markers' last frame
    page.screenshot(path=out_dir / "h5-map.png")
    return [out_dir / f"h5-{view}.png" for view in H5_VIEWS]


@contextmanager
def _throwaway_account(database_url: str) -> Iterator[tuple[str, str]]:
    """A provincial PBoC administrator made for the screenshots, disabled afterwards.

    Accounts are never deleted (the audit log names them), so it stays, disabled and with
    its tokens revoked; both steps are in the audit log as the command line's."""
    from accounts.accounts import NewAccount, create_account, disable, make_login_policy
    from accounts.audit import Actor, Filed, record
    from core.config import Config

    username = THROWAWAY_PREFIX + secrets.token_hex(4)
    with cli_session(database_url) as session:
        created = create_account(
            session,
            None,
            NewAccount(username, "截图演示（省分行）", "pboc_admin", "32"),
            make_login_policy(Config()),
        )
        record(
            session,
            "account.create",
            "ok",
            actor=Actor("cli:screenshots"),
            filed=Filed("32"),
            target_kind="account",
            target_id=created.account.id,
            detail={"username": username, "role": "pboc_admin", "via": "screenshots"},
        )
        account_id = created.account.id
    try:
        yield username, created.password
    finally:
        with cli_session(database_url) as session:
            from accounts.accounts import Account

            account = session.get(Account, account_id)
            assert account is not None
            disable(session, account)
            record(
                session,
                "account.disable",
                "ok",
                actor=Actor("cli:screenshots"),
                filed=Filed("32"),
                target_kind="account",
                target_id=account_id,
                detail={"via": "screenshots"},
            )


def _console(
    browser: Any, base_url: str, out_dir: Path, username: str, password: str, temporary: bool
) -> list[Path]:
    from backend.browser import desktop_context

    def shot(page: Any, view: str, *, full_page: bool = False) -> None:
        page.wait_for_selector("body[data-ready='1']", timeout=20_000)
        page.screenshot(path=out_dir / f"console-{view}.png", full_page=full_page)

    context = desktop_context(browser)
    page = context.new_page()
    page.goto(f"{base_url}/console/login")
    shot(page, "login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_load_state()
    if temporary:
        page.wait_for_selector("#forced", timeout=20_000)
        page.fill("#current_password", password)
        shot(page, "password")
        new = secrets.token_urlsafe(18)
        page.fill("#new_password", new)
        page.fill("#new_password_again", new)
        page.click("#password-submit")
    elif page.locator("#forced").count():
        raise click.ClickException(f"{username} must first change its temporary password")
    if page.locator("#login-error").count():
        raise click.ClickException(f"cannot sign in as {username}: wrong password, or locked")
    page.wait_for_selector("#outlet-map[data-points]", timeout=20_000)
    page.wait_for_timeout(300)  # the markers' last frame
    shot(page, "dashboard", full_page=True)
    page.goto(f"{base_url}/console/registry?q=工行 新街口")
    shot(page, "registry")
    page.click("#results tbody tr[data-fi-code] td.code a")
    shot(page, "institution", full_page=True)
    tablet = desktop_context(browser, tablet=True, storage_state=context.storage_state())
    tablet_page = tablet.new_page()
    tablet_page.goto(f"{base_url}/console/")
    tablet_page.wait_for_selector("#outlet-map[data-points]", timeout=20_000)
    shot(tablet_page, "dashboard-tablet")
    tablet.close()
    page.goto(f"{base_url}/console/")
    page.click("#logout")
    context.close()
    views = CONSOLE_VIEWS if temporary else tuple(v for v in CONSOLE_VIEWS if v != "password")
    return [out_dir / f"console-{view}.png" for view in views]


@click.command("screenshots")
@click.option(
    "--base-url",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="a running server (./run.sh) with data loaded",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("docs/screenshots"),
    show_default=True,
    help="where the PNG files go",
)
@click.option(
    "--only",
    type=click.Choice(["all", "h5", "console"]),
    default="all",
    show_default=True,
    help="which pages",
)
@click.option(
    "--console-user",
    envvar="BRANCHFINDER_CONSOLE_USER",
    help="an active professional account to show the console as; without it a throw-away "
    "provincial PBoC account is made in --database-url (the server's) and disabled afterwards",
)
@click.option(
    "--console-password",
    envvar="BRANCHFINDER_CONSOLE_PASSWORD",
    help="its password ($BRANCHFINDER_CONSOLE_PASSWORD)",
)
@DB_OPTION
def screenshots(
    base_url: str,
    out_dir: Path,
    only: str,
    console_user: str | None,
    console_password: str | None,
    database_url: str,
) -> None:
    """Save the H5 finder's list, detail and map at 375×812, located at 新街口 (h5-*.png),
    and the professional console's sign-in, password change, dashboard (also at 1024×768),
    registry search and institution page at 1366×768 (console-*.png), with Debian's
    chromium."""
    from playwright.sync_api import Error, sync_playwright

    from backend.browser import launch

    if console_user and not console_password:
        raise click.BadParameter("give its password too", param_hint="--console-password")
    base_url = base_url.rstrip("/")
    out_dir.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            if only in ("all", "h5"):
                saved += _h5(browser, base_url, out_dir)
            if only in ("all", "console"):
                if console_user and console_password:
                    saved += _console(
                        browser, base_url, out_dir, console_user, console_password, False
                    )
                else:
                    with _throwaway_account(database_url) as (username, password):
                        saved += _console(browser, base_url, out_dir, username, password, True)
            browser.close()
    except Error as error:
        raise click.ClickException(f"{error.message.splitlines()[0]} (is {base_url} up?)") from None
    for path in saved:
        click.echo(path)
