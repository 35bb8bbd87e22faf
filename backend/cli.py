"""The `branchfinder` command line: database set-up, demo data, and (later) registry jobs.

Every command reads the database from `--database-url` or `DATABASE_URL`, so
the same commands work against the local cluster of ./run.sh and against a
production server.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import OperationalError

from backend.cli_common import DB_OPTION, one_line_error
from core.config import Config


class _Commands(click.Group):
    """A database that cannot be reached is one line saying what to run, whichever
    command met it (most also catch it themselves, to say what was rolled back)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            raise click.ClickException(one_line_error(exc)) from exc


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
def main() -> None:
    """branchfinder (金融网点通): finder of financial outlets over the PBoC registry."""


# --- db --------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Create and migrate the database."""


@db.command("create")
@DB_OPTION
def db_create(database_url: str) -> None:
    """Create the database (UTF-8, C.UTF-8) with PostGIS and pg_trgm, if it is missing."""
    from backend.dbadmin import DatabaseSetupError, create_database

    try:
        created = create_database(database_url)
    except (DatabaseSetupError, OperationalError) as exc:
        raise click.ClickException(one_line_error(exc)) from exc
    click.echo("database created" if created else "database exists", err=True)


@db.command("upgrade")
@click.argument("revision", default="head")
@DB_OPTION
def db_upgrade(revision: str, database_url: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from backend.migrate import upgrade

    upgrade(database_url, revision)  # an unreachable database: _Commands' one line


@db.command("downgrade")
@click.argument("revision")
@DB_OPTION
def db_downgrade(revision: str, database_url: str) -> None:
    """Revert migrations down to REVISION ('base' for an empty schema)."""
    from backend.migrate import downgrade

    downgrade(database_url, revision)


@db.command("current")
@DB_OPTION
def db_current(database_url: str) -> None:
    """Print the migration the database is at, and the newest one in the code."""
    from backend.migrate import current_revision, head_revision
    from core.database import make_engine

    engine = make_engine(database_url)
    with engine.connect() as conn:
        click.echo(f"current: {current_revision(conn)}\nhead:    {head_revision()}")


# --- demo ------------------------------------------------------------------------------------


@main.group()
def demo() -> None:
    """Generate and load a realistic Jiangsu data set for demos and benchmarks."""


@demo.command("generate")
@click.option(
    "--outlets",
    type=click.IntRange(1, 5_000_000),
    default=5000,
    show_default=True,
    help="Number of outlets (plus the head offices and branches above them).",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="Same seed, same files, byte for byte."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for institutions.csv and profiles.csv.",
)
@click.option(
    "--atms/--no-atms",
    default=True,
    show_default=True,
    help="With the banks' self-service points (two to three per branch) beyond the outlets.",
)
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
def demo_generate(outlets: int, seed: int, out_dir: Path, progress: bool, atms: bool) -> None:
    """Write institutions.csv (registry import format) and profiles.csv to OUT."""
    from backend.demo.generate import generate

    result = generate(out_dir, outlets=outlets, seed=seed, progress=progress, atms=atms)
    click.echo(
        f"wrote {result.institutions} institutions and {result.profiles} profiles to {out_dir}",
        err=True,
    )


@demo.command("load")
@click.option(
    "--dir",
    "data_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Directory written by 'demo generate'; without it, data is generated first.",
)
@click.option(
    "--outlets",
    type=click.IntRange(1, 5_000_000),
    default=5000,
    show_default=True,
    help="Outlets to generate when --dir is not given.",
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing when institutions are already loaded.")
@click.option(
    "--atms/--no-atms",
    default=True,
    show_default=True,
    help="With the banks' self-service points (two to three per branch) beyond the outlets.",
)
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
@DB_OPTION
def demo_load(
    data_dir: Path | None,
    outlets: int,
    seed: int,
    if_empty: bool,
    atms: bool,
    progress: bool,
    database_url: str,
) -> None:
    """Load generated demo data into the database."""
    import tempfile

    from backend.demo.generate import generate
    from backend.demo.load import DemoLoadError, database_is_empty, load_demo
    from core.database import make_engine, make_sessionmaker

    engine = make_engine(database_url, statement_timeout_ms=0)
    sessions = make_sessionmaker(engine)
    if if_empty and not database_is_empty(sessions):
        click.echo("demo data: institutions already loaded, nothing to do", err=True)
        return
    with tempfile.TemporaryDirectory(prefix="branchfinder-demo-") as tmp:
        if data_dir is None:
            data_dir = Path(tmp)
            generate(data_dir, outlets=outlets, seed=seed, progress=progress, atms=atms)
        try:
            counts = load_demo(sessions, data_dir, progress=progress)
        except DemoLoadError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(
        f"demo data loaded: {counts.institutions} institutions, {counts.profiles} profiles",
        err=True,
    )


# --- registry --------------------------------------------------------------------------------


@main.group()
def registry() -> None:
    """Validate and import PBoC registry files; rules; change history."""


@registry.command("rules")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "markdown", "json"]),
    default="table",
    show_default=True,
)
def registry_rules(fmt: str) -> None:
    """List every validation rule: id, level, severity and message."""
    from registry.rules_doc import render_rules

    rendered = render_rules(fmt)
    # The markdown already ends in a newline: `... --format markdown > docs/rules.md` must
    # write exactly what the docs test compares with.
    click.echo(rendered, nl=not rendered.endswith("\n"))


# Exit codes of a run that produced no outcome, so that a script never mistakes a crash
# or a Ctrl-C for "some rows rejected" (1) or "file rejected" (2).
EXIT_FAILED = 3  # the database failed; the transaction was rolled back
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT; rolled back


class ImportFailedError(click.ClickException):
    exit_code = EXIT_FAILED


IMPORT_FILE = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
RECEIPT_OPTION = click.option(
    "--receipt",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the error receipt to PATH.json and PATH.csv (or only one, if PATH ends so).",
)


def _run_import(
    file: Path,
    options: Any,
    receipt: Path | None,
    database_url: str,
    progress: bool,
    importer: Callable[..., Any] | None = None,
) -> None:
    """Run an import (registry by default) in one transaction; print; exit with its code."""
    from tqdm import tqdm

    from backend.imports import import_registry
    from core.database import make_engine, make_sessionmaker
    from registry.receipts import write_receipt

    if receipt is not None and not receipt.parent.is_dir():
        # Checked first: failing to write the receipt after the commit would look like a crash.
        raise click.BadParameter(f"no directory {receipt.parent}", param_hint="--receipt")
    run = importer or import_registry
    engine = make_engine(database_url, statement_timeout_ms=0)
    sessions = make_sessionmaker(engine)
    try:
        with (
            sessions() as session,
            tqdm(
                unit=" rows",
                desc="validating" if options.dry_run else "importing",
                disable=not progress,
                leave=False,
                file=sys.stderr,
            ) as bar,
        ):
            result = run(session, file, options, on_rows=bar.update)
            if options.dry_run:
                session.rollback()
            else:
                session.commit()
    except KeyboardInterrupt:
        click.echo("interrupted: rolled back, nothing was written", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except OperationalError as exc:
        raise ImportFailedError(
            f"{one_line_error(exc)} (rolled back, nothing was written)"
        ) from exc
    finally:
        engine.dispose()
    document = result.receipt()
    _print_summary(result.summary, result.issues, result.batch_id)
    if receipt is not None:
        for written in write_receipt(receipt, document):
            click.echo(f"receipt: {written}", err=True)
    sys.exit(result.exit_code)


def _print_summary(summary: dict[str, Any], issues: list[Any], batch_id: int | None) -> None:
    outcome = {
        "accepted": "all rows accepted",
        "partial": "some rows rejected",
        "rejected": "file rejected",
    }[str(summary["outcome"])]
    lines = [f"{outcome}" + (f" (batch {batch_id})" if batch_id else " (nothing written)")]
    lines.append(
        f"rows read {summary['rows_read']}, accepted {summary['accepted']}, "
        f"rejected {summary['rejected']}, errors {summary['errors']}, "
        f"warnings {summary['warnings']}"
    )
    changed = {k[len("changed_") :]: v for k, v in summary.items() if k.startswith("changed_")}
    if changed and batch_id:
        lines.append("changed: " + ", ".join(f"{k} {v}" for k, v in changed.items()))
    if "inserted" in summary and batch_id:
        lines.append(
            f"inserted {summary['inserted']}, updated {summary['updated']}, "
            f"unchanged {summary['unchanged']}, revoked as missing {summary['revoked_missing']}"
        )
    by_rule = summary.get("by_rule") or {}
    if by_rule:
        assert isinstance(by_rule, dict)
        lines.append("by rule: " + ", ".join(f"{k} {v}" for k, v in by_rule.items()))
    for item in issues[:10]:
        where = f"row {item.row}" if item.row else "file"
        lines.append(f"  {where} {item.rule_id} [{item.severity}] {item.message_zh}")
    if len(issues) > 10:
        lines.append(f"  ... {len(issues) - 10} more in the receipt (--receipt PATH)")
    click.echo("\n".join(lines), err=True)


def _region_prefix(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from registry.importer import valid_jurisdiction

    if value is not None and not valid_jurisdiction(value):
        raise click.BadParameter("a region-code prefix of 2 to 6 digits, e.g. 32 or 3201")
    return value


@registry.command("validate")
@IMPORT_FILE
@RECEIPT_OPTION
@click.option(
    "--jurisdiction",
    metavar="REGION_PREFIX",
    callback=_region_prefix,
    help="Treat FILE as a full snapshot of this region-code prefix (e.g. 32 or 3201) "
    "and report stored records missing from it.",
)
@click.option("--progress/--no-progress", default=True)
@DB_OPTION
def registry_validate(
    file: Path, receipt: Path | None, jurisdiction: str | None, progress: bool, database_url: str
) -> None:
    """Check FILE against every rule without writing anything.

    Exit codes: 0 all rows valid, 1 some rows would be rejected, 2 the file is rejected
    (3 the database failed, 130 interrupted).
    """
    from registry.importer import ImportOptions

    _run_import(
        file,
        ImportOptions(dry_run=True, jurisdiction=jurisdiction),
        receipt,
        database_url,
        progress,
    )


@registry.command("import")
@IMPORT_FILE
@RECEIPT_OPTION
@click.option("--strict", is_flag=True, help="Any error rejects the whole file.")
@click.option(
    "--jurisdiction",
    metavar="REGION_PREFIX",
    callback=_region_prefix,
    help="FILE is a full snapshot of this region-code prefix: report stored records "
    "missing from it.",
)
@click.option(
    "--revoke-missing",
    is_flag=True,
    help="Revoke stored active records of --jurisdiction that FILE lacks.",
)
@click.option(
    "--allow-reactivation",
    is_flag=True,
    help="Let active rows re-activate records that are revoked in the registry.",
)
@click.option(
    "--actor",
    default="registry-sync",
    show_default=True,
    help="Who is importing, for the change history.",
)
@click.option("--progress/--no-progress", default=True)
@DB_OPTION
def registry_import(
    file: Path,
    receipt: Path | None,
    strict: bool,
    jurisdiction: str | None,
    revoke_missing: bool,
    allow_reactivation: bool,
    actor: str,
    progress: bool,
    database_url: str,
) -> None:
    """Validate FILE and load its valid rows in one transaction.

    Exit codes: 0 all rows accepted, 1 some rows rejected, 2 the file is rejected
    (3 the database failed, 130 interrupted: nothing is written).
    """
    from registry.importer import ImportOptions

    if revoke_missing and not jurisdiction:
        raise click.UsageError("--revoke-missing needs --jurisdiction (the snapshot's region)")
    options = ImportOptions(
        strict=strict,
        revoke_missing=revoke_missing,
        jurisdiction=jurisdiction,
        allow_reactivation=allow_reactivation,
        actor=actor,
    )
    _run_import(file, options, receipt, database_url, progress)


@registry.command("history")
@click.argument("fi_code")
@click.option("--limit", type=click.IntRange(1, 10_000), default=200, show_default=True)
@DB_OPTION
def registry_history(fi_code: str, limit: int, database_url: str) -> None:
    """Print the change history of FI_CODE, oldest first."""
    import json

    from core.database import make_engine, make_sessionmaker
    from registry.history import history_query

    sessions = make_sessionmaker(make_engine(database_url))
    with sessions() as session:
        events = session.scalars(history_query(fi_code).limit(limit)).all()
    if not events:
        raise click.ClickException(f"no history for {fi_code}")
    for ev in events:
        change = {"before": ev.before, "after": ev.after}
        click.echo(
            f"{ev.at.isoformat(timespec='seconds')}  {ev.channel:<13} {ev.actor:<16} "
            f"{ev.entity}{'/' + ev.field_group if ev.field_group else ''} batch={ev.batch_id}  "
            + json.dumps(change, ensure_ascii=False)
        )


# --- profiles -------------------------------------------------------------------------------


@main.group()
def profiles() -> None:
    """Bulk import of outlet profiles (position, business types, hours, phone)."""


@profiles.command("import")
@IMPORT_FILE
@RECEIPT_OPTION
@click.option("--dry-run", is_flag=True, help="Validate only; write nothing.")
@click.option(
    "--actor",
    default="profile-import",
    show_default=True,
    help="Who is importing, for the change history.",
)
@click.option("--progress/--no-progress", default=True)
@DB_OPTION
def profiles_import(
    file: Path, receipt: Path | None, dry_run: bool, actor: str, progress: bool, database_url: str
) -> None:
    """Validate FILE and load the outlet profiles in it, one change event per changed group.

    Columns: fi_code, latitude, longitude, coord_system (wgs84/gcj02/bd09), accuracy_m,
    business_types (keys or Chinese labels, ;-separated), opening_hours (e.g.
    "Mo-Fr 09:00-17:00; Sa 09:00-12:00"), phone. An empty cell leaves that field as it is.
    Exit codes: 0 all rows accepted, 1 some rows rejected, 2 the file is rejected
    (3 the database failed, 130 interrupted: nothing is written).
    """
    from backend.imports import import_profiles
    from profiles.profile_import import ProfileImportOptions

    _run_import(
        file,
        ProfileImportOptions(actor=actor, dry_run=dry_run),
        receipt,
        database_url,
        progress,
        importer=import_profiles,
    )


# --- chat -----------------------------------------------------------------------------------


@main.command("chat")
@click.option("--user", default="terminal", show_default=True, help="Who is chatting (memory).")
@click.option(
    "--coord",
    type=click.Choice(["wgs84", "gcj02", "bd09"]),
    default="gcj02",
    show_default=True,
    help="Coordinate system of positions given with /loc.",
)
@DB_OPTION
def chat(user: str, coord: str, database_url: str) -> None:
    """Talk to the chat bot in the terminal, with the engine WeChat uses.

    \b
    Type a question ("最近的工行", "新街口哪里能换外币", "第二个的电话"), or
      /loc LAT,LNG [LABEL]   share a position (in --coord)
      /quit                  leave (or Ctrl-D)
    Reads lines from standard input, so it also answers a piped script.
    """
    from datetime import UTC, datetime

    from bot.engine import BotEngine
    from bot.messages import BotInput, SharedLocation
    from core.coords import CoordinateError, convert
    from core.database import make_engine, make_sessionmaker, session_scope

    sessions = make_sessionmaker(make_engine(database_url))
    engine = BotEngine(Config().secret_key)
    interactive = sys.stdin.isatty()
    if interactive:
        click.echo("branchfinder 聊天机器人。/loc 纬度,经度 发送位置，/quit 退出。")
    while True:
        try:
            line = input("你：" if interactive else "").strip()
        except EOFError:
            break
        if not line:
            continue
        if line in ("/quit", "/exit"):
            break
        message = BotInput(user=user, text=line)
        if line.startswith("/loc"):
            parts = line[4:].strip().split(maxsplit=1)
            try:
                lat, lng = (float(v) for v in parts[0].split(","))
                wlat, wlng = convert(lat, lng, coord, "wgs84")  # type: ignore[arg-type]
            except (IndexError, ValueError, CoordinateError) as exc:
                click.echo(f"用法：/loc 纬度,经度 [地名]（{exc}）", err=True)
                continue
            label = parts[1] if len(parts) > 1 else None
            message = BotInput(user=user, location=SharedLocation(wlat, wlng, label))
        with session_scope(sessions) as session:
            answer = engine.reply(session, message, datetime.now(UTC))
        click.echo(("机器人：" if interactive else "") + answer.text + "\n")


def _register_staff_commands() -> None:
    from backend.cli_staff import profiles_revert, reviews, tasks

    main.add_command(tasks)
    main.add_command(reviews)
    profiles.add_command(profiles_revert)


_register_staff_commands()


def _register_account_commands() -> None:
    from backend.cli_accounts import accounts

    main.add_command(accounts)


_register_account_commands()


def _register_open_data_commands() -> None:
    from backend.cli_open import open_group

    main.add_command(open_group)


_register_open_data_commands()


def _register_screenshot_command() -> None:
    from backend.cli_screenshots import screenshots

    main.add_command(screenshots)


_register_screenshot_command()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
