"""`branchfinder tasks`, `branchfinder reviews`, `branchfinder profiles revert`: the
institution's side of staff uploads until the professional API offers it."""

from __future__ import annotations

import csv
import sys

import click
from sqlalchemy import select

from backend.cli_common import DB_OPTION, cli_session
from core.config import Config

ACTOR_OPTION = click.option(
    "--actor", required=True, help="Who does this, for the change history (e.g. your name)."
)


@click.group()
def tasks() -> None:
    """Upload tasks for outlet staff, and their one-time binding codes."""


@tasks.command("create")
@click.option("--fi-code", "fi_codes", multiple=True, help="An outlet (repeatable).")
@click.option(
    "--legal-entity", help="Every active outlet of this legal entity (head office fi_code)."
)
@click.option("--region", help="With --legal-entity: only outlets whose region code starts so.")
@ACTOR_OPTION
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the codes as CSV (UTF-8 with BOM, opens in Excel) instead of printing them.",
)
@DB_OPTION
def tasks_create(
    fi_codes: tuple[str, ...],
    legal_entity: str | None,
    region: str | None,
    actor: str,
    out: str | None,
    database_url: str,
) -> None:
    """Create upload tasks and issue a binding code for each outlet.

    Hand each code (or its QR text) to the outlet's staff; they redeem it in the
    mini-program. Codes are shown only now and work once, for 30 days; issuing
    again voids an unredeemed earlier code.
    """
    from core.models.registry import Institution
    from uploads.staff import create_tasks

    config = Config()
    with cli_session(database_url) as session:
        wanted = list(fi_codes)
        if legal_entity:
            stmt = select(Institution.fi_code).where(
                Institution.legal_entity_code == legal_entity.strip().upper(),
                Institution.status == "active",
                Institution.level.in_(("sub_branch", "outlet")),
            )
            if region:
                stmt = stmt.where(Institution.region_code.startswith(region.strip()))
            wanted += list(session.scalars(stmt))
        if not wanted:
            raise click.UsageError("name outlets with --fi-code or --legal-entity")
        try:
            issued = create_tasks(
                session,
                wanted,
                actor=actor,
                pepper=config.secret_key,
                qr_prefix=config.staff_bind_qr_prefix,
            )
        except LookupError as exc:
            raise click.ClickException(f"not active outlets: {exc}") from exc
    rows = [
        (i.fi_code, i.name, i.code, i.expires_at.isoformat(timespec="minutes"), i.qr_text)
        for i in issued
    ]
    header = ("fi_code", "name", "code", "expires_at", "qr_text")
    if out:
        with open(out, "w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows([header, *rows])
        click.echo(f"{len(rows)} codes written to {out}", err=True)
    else:
        writer = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
        writer.writerows([header, *rows])


@tasks.command("list")
@click.option("--status", type=click.Choice(["assigned", "in_progress", "submitted", "confirmed"]))
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@DB_OPTION
def tasks_list(status: str | None, limit: int, database_url: str) -> None:
    """List upload tasks (fi_code, status, whether a code is out, dates)."""
    from core.models.registry import Institution
    from core.models.staff import UploadTask

    with cli_session(database_url) as session:
        stmt = (
            select(UploadTask, Institution.fi_code, Institution.name)
            .join(Institution, Institution.id == UploadTask.institution_id)
            .order_by(Institution.fi_code)
            .limit(limit)
        )
        if status:
            stmt = stmt.where(UploadTask.status == status)
        for task, fi_code, name in session.execute(stmt):
            click.echo(f"{fi_code}\t{task.status}\t{'code out' if task.code_hash else '-'}\t{name}")


@tasks.command("confirm")
@click.argument("fi_code")
@ACTOR_OPTION
@DB_OPTION
def tasks_confirm(fi_code: str, actor: str, database_url: str) -> None:
    """Confirm a submitted outlet's data (核对确认)."""
    from uploads.staff import confirm

    with cli_session(database_url) as session:
        if not confirm(session, fi_code, actor):
            raise click.ClickException(f"{fi_code} has no submitted task")
    click.echo(f"{fi_code.upper()} confirmed")


@click.group()
def reviews() -> None:
    """Staff uploads held for review (a position outside the region, a far photo)."""


@reviews.command("list")
@click.option("--fi-code")
@DB_OPTION
def reviews_list(fi_code: str | None, database_url: str) -> None:
    """Open reviews: id, outlet, field, flags, who, when, proposed value."""
    import json

    from uploads.reviews import open_reviews

    with cli_session(database_url) as session:
        for r in open_reviews(session, fi_code.upper() if fi_code else None):
            click.echo(
                f"{r.id}\t{r.fi_code}\t{r.field_group}\t{','.join(r.flags)}\t{r.actor}\t"
                f"{r.created_at.isoformat(timespec='seconds')}\t"
                + json.dumps(r.value, ensure_ascii=False)
            )


@reviews.command("accept")
@click.argument("review_id", type=int)
@ACTOR_OPTION
@DB_OPTION
def reviews_accept(review_id: int, actor: str, database_url: str) -> None:
    """Publish a held upload."""
    from uploads.review_decisions import ReviewError, accept

    with cli_session(database_url) as session:
        try:
            event_id = accept(session, review_id, actor)
        except ReviewError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"review {review_id} accepted: event {event_id}")


@reviews.command("reject")
@click.argument("review_id", type=int)
@ACTOR_OPTION
@click.option("--reason", required=True, help="Why, for the staff member.")
@DB_OPTION
def reviews_reject(review_id: int, actor: str, reason: str, database_url: str) -> None:
    """Refuse a held upload, with a reason."""
    from uploads.review_decisions import ReviewError, reject

    with cli_session(database_url) as session:
        try:
            reject(session, review_id, actor, reason)
        except ReviewError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"review {review_id} rejected")


@click.command("revert")
@click.argument("event_id", type=int)
@ACTOR_OPTION
@DB_OPTION
def profiles_revert(event_id: int, actor: str, database_url: str) -> None:
    """Put an outlet's field back to its value before change EVENT_ID (see `registry
    history`), as a new change."""
    from profiles.revert import RevertRefused, revert

    with cli_session(database_url) as session:
        try:
            change = revert(session, event_id, actor=actor, channel="pro_update")
        except (LookupError, RevertRefused) as exc:
            raise click.ClickException(str(exc).strip("'\"")) from exc
    click.echo(f"event {event_id} reverted: event {change.event_id}")
