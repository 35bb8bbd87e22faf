"""The open data change feed: no event skipped or repeated under out-of-order commits, and
replaying it over an export arrives at the next export exactly."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.imports import import_registry
from core.models.registry import Institution
from open_data import export as open_export
from open_data.feed import START, Cursor, read_page
from open_data.records import BUSINESS_TYPES_SEPARATOR, COLUMNS
from profiles.profile_changes import change_group
from registry.importer import ImportOptions
from registry.institution_contacts import update_contacts
from tests.conftest import TestConfig, load_generated, truncate_all

ACTOR = "test"
NEW_ADDRESS = "江苏省南京市玄武区中山路1号"


@pytest.fixture
def sample(engine: Engine, tmp_path: Path) -> Iterator[Path]:
    """A generated sample loaded and committed through the real imports; emptied after."""
    load_generated(engine, tmp_path / "data", outlets=40, seed=3)
    try:
        yield tmp_path / "data"
    finally:
        truncate_all(engine)


def _outlets(engine: Engine, n: int) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT i.id, i.fi_code FROM institution i JOIN outlet_profile p "
                "ON p.institution_id = i.id WHERE p.position IS NOT NULL AND i.status = 'active' "
                "ORDER BY i.fi_code LIMIT :n"
            ),
            {"n": n},
        ).all()
    assert len(rows) == n
    return [(int(r[0]), str(r[1])) for r in rows]


def _caught_up(engine: Engine, since: Cursor = START) -> Cursor:
    with engine.connect() as conn:
        while True:
            page = read_page(conn, since)
            since = page.next_cursor
            if not page.more:
                return since


def _feed_ids(engine: Engine, since: Cursor) -> tuple[list[int], Cursor]:
    with engine.connect() as conn:
        page = read_page(conn, since)
    return [item.event_id for item in page.items], page.next_cursor


def _naive_ids(engine: Engine, since: int) -> tuple[list[int], int]:
    """The reader the feed must not be: events after the last id served, in id order."""
    with engine.connect() as conn:
        ids = list(
            conn.execute(
                text("SELECT id FROM change_event WHERE id > :c ORDER BY id"), {"c": since}
            ).scalars()
        )
    return ids, (ids[-1] if ids else since)


def _race(engine: Engine, read: Any, since: Any) -> tuple[list[int], list[int]]:
    """A writes an event first and commits last; B writes one after and commits first.
    The ids served, read between the two commits and after both; and the two events."""
    (a_id, a_code), (b_id, b_code) = _outlets(engine, 2)
    first = Session(engine)
    second = Session(engine)
    try:
        a = change_group(
            first, a_id, a_code, "phone", "025-11110000", actor=ACTOR, channel="system"
        )
        first.flush()
        b = change_group(
            second, b_id, b_code, "phone", "025-22220000", actor=ACTOR, channel="system"
        )
        second.commit()
        served, since = read(engine, since)
        first.commit()
        later, since = read(engine, since)
        served += later
        more, _ = read(engine, since)
        served += more
    finally:
        first.close()
        second.close()
    assert a.event_id < b.event_id  # ids in insert order, commits the other way round
    return served, [a.event_id, b.event_id]


def test_feed_serves_each_event_once_when_commits_are_out_of_order(
    engine: Engine, sample: Path
) -> None:
    served, events = _race(engine, _feed_ids, _caught_up(engine))
    assert served == events  # both, once each, in the order of their transactions


def test_naive_id_cursor_skips_the_later_commit(engine: Engine, sample: Path) -> None:
    """The race above is real: paging by id loses A's event for good."""
    with engine.connect() as conn:
        last = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM change_event")).scalar_one())
    served, events = _race(engine, _naive_ids, last)
    assert served == [events[1]]


def test_feed_waits_for_a_running_transaction_and_then_serves_it(
    engine: Engine, sample: Path
) -> None:
    since = _caught_up(engine)
    ((outlet_id, code),) = _outlets(engine, 1)
    with Session(engine) as running:
        change_group(
            running, outlet_id, code, "phone", "025-33330000", actor=ACTOR, channel="system"
        )
        running.flush()
        assert _feed_ids(engine, since)[0] == []  # in progress: not yet
        running.commit()
    ids, after = _feed_ids(engine, since)
    assert len(ids) == 1
    assert _feed_ids(engine, after)[0] == []  # and not again


# --- replay --------------------------------------------------------------------------------


def _read_export(directory: Path) -> tuple[open_export.Manifest, dict[str, dict[str, Any]]]:
    """The current export's manifest and its records by fi_code, checking that the three
    files hold the same records and match the manifest."""
    current = open_export.current(directory)
    assert current is not None
    manifest = current.manifest
    raw = {f.format: (current.directory / f.name).read_bytes() for f in manifest.files}
    for entry in manifest.files:
        import hashlib

        assert hashlib.sha256(raw[entry.format]).hexdigest() == entry.sha256
        assert len(raw[entry.format]) == entry.bytes
        assert entry.count == manifest.count
    lines = gzip.decompress(raw["jsonl"]).decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert [list(r) for r in records] == [list(COLUMNS)] * len(records)
    by_code = {r["fi_code"]: r for r in records}
    assert len(by_code) == manifest.count == len(records)

    collection = json.loads(gzip.decompress(raw["geojson"]))
    assert collection["type"] == "FeatureCollection"
    from_geojson = {}
    for f in collection["features"]:
        assert f["type"] == "Feature" and f["geometry"]["type"] == "Point"
        lng, lat = f["geometry"]["coordinates"]
        assert -180 <= lng <= 180 and -90 <= lat <= 90
        from_geojson[f["id"]] = {**f["properties"], "latitude": lat, "longitude": lng}
    assert from_geojson == by_code

    text_csv = gzip.decompress(raw["csv"]).decode("utf-8")
    assert text_csv.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text_csv[1:])))
    assert rows[0] == list(COLUMNS)
    from_csv = {}
    for row in rows[1:]:
        r = dict(zip(COLUMNS, row, strict=True))
        from_csv[r["fi_code"]] = {
            **{k: (v or None) for k, v in r.items()},
            "category": r["category"],
            "latitude": float(r["latitude"]),
            "longitude": float(r["longitude"]),
            "business_types": r["business_types"].split(BUSINESS_TYPES_SEPARATOR)
            if r["business_types"]
            else [],
            "opening_hours": json.loads(r["opening_hours"]) if r["opening_hours"] else None,
        }
    assert from_csv == by_code
    return manifest, by_code


def _replay(
    client: FlaskClient, since: str, records: dict[str, dict[str, Any]]
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    state = dict(records)
    items: list[dict[str, Any]] = []
    while True:
        answer = client.get("/api/open/v1/changes", query_string={"since": since, "limit": 7})
        assert answer.status_code == 200, answer.json
        page = answer.json
        assert page is not None
        for item in page["items"]:
            if item["record"] is None:
                state.pop(item["fi_code"], None)
            else:
                state[item["fi_code"]] = item["record"]
        items += page["items"]
        since = page["next_cursor"]
        if not page["more"]:
            return state, items


def _institution(session: Session, code: str) -> Institution:
    return session.execute(select(Institution).where(Institution.fi_code == code)).scalar_one()


def test_replaying_the_feed_over_an_export_gives_the_next_export(
    engine: Engine, database_url: str, sample: Path, tmp_path: Path
) -> None:
    out = tmp_path / "open"
    hidden_id, hidden = _outlets(engine, 1)[0]
    with Session(engine) as session:  # an outlet without a position: not public at T0
        change_group(session, hidden_id, hidden, "position", None, actor=ACTOR, channel="system")
        session.commit()
    open_export.export(engine, out)
    before, snapshot = _read_export(out)
    assert hidden not in snapshot

    outlets = _outlets(engine, 8)
    (m_id, moved), (h_id, hours), (b_id, types), (p_id, phone) = outlets[:4]
    (gone_id, gone), (_contact_id, contact), renamed, revoked = outlets[4:8]
    with Session(engine) as session:
        change_group(
            session,
            hidden_id,
            hidden,
            "position",
            {"latitude": 32.05, "longitude": 118.78, "captured_in": "wgs84", "accuracy_m": 5.0},
            actor=ACTOR,
            channel="staff_upload",
        )
        change_group(
            session,
            m_id,
            moved,
            "position",
            {"latitude": 32.06, "longitude": 118.79, "captured_in": "wgs84", "accuracy_m": 5.0},
            actor=ACTOR,
            channel="staff_upload",
        )
        change_group(
            session,
            h_id,
            hours,
            "hours",
            {"weekly": {"mo": [["08:30", "12:00"]]}, "exceptions": [], "public_holidays": "closed"},
            actor=ACTOR,
            channel="pro_update",
        )
        change_group(
            session, b_id, types, "business_types", ["cash"], actor=ACTOR, channel="pro_update"
        )
        change_group(
            session, p_id, phone, "phone", "025-44440000", actor=ACTOR, channel="pro_update"
        )
        change_group(session, gone_id, gone, "position", None, actor=ACTOR, channel="system")
        update_contacts(
            session,
            _institution(session, contact),
            {"address": NEW_ADDRESS},
            actor=ACTOR,
            channel="pro_update",
        )
        # a non-public change: no item
        change_group(session, p_id, phone, "photos", [], actor=ACTOR, channel="pro_update")
        session.commit()
    # The registry sync renames one outlet and revokes one missing from its file.
    source = sample / "institutions.csv"
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8-sig"))))
    kept = [r for r in rows if r[0] != revoked[1]]
    assert len(kept) == len(rows) - 1
    for r in kept:
        if r[0] == renamed[1]:
            r[1] = r[1] + "（新址）"
        if r[0] == contact:  # the registry has the console's edit too (else it reverts it)
            r[rows[0].index("address")] = NEW_ADDRESS
    changed_file = sample / "institutions-2.csv"
    with changed_file.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(kept)
    with Session(engine) as session:
        options = ImportOptions(revoke_missing=True, jurisdiction="32")
        assert import_registry(session, changed_file, options).outcome == "accepted"
        session.commit()

    open_export.export(engine, out)
    after, expected = _read_export(out)
    assert after.cursor != before.cursor

    app = create_app(TestConfig(database_url=database_url, open_dir=str(out)))
    try:
        replayed, items = _replay(app.test_client(), before.cursor, snapshot)
        again, more = _replay(app.test_client(), after.cursor, expected)
    finally:
        app.extensions["branchfinder.db"].dispose()
    assert replayed == expected
    assert (again, more) == (expected, [])  # from the new export's cursor: nothing to do
    kinds = {item["fi_code"]: item["kind"] for item in items}
    assert kinds[hidden] == "new"
    assert kinds[moved] == "moved"
    assert kinds[hours] == kinds[types] == kinds[phone] == kinds[contact] == "changed"
    assert kinds[renamed[1]] == "changed"
    assert kinds[gone] == kinds[revoked[1]] == "revoked"
    fields = {item["fi_code"]: item["fields"] for item in items}
    assert fields[contact] == ["address"]
    assert fields[renamed[1]] == ["name"]
    assert fields[moved] == ["latitude", "longitude"]
    # one item per public event: the photo change is not one
    assert sorted(i["fi_code"] for i in items) == sorted(
        [hidden, moved, hours, types, phone, gone, contact, renamed[1], revoked[1]]
    )
    cursors = [Cursor.parse(i["cursor"]) for i in items]
    assert cursors == sorted(set(cursors))
