"""A small registry and a set of professional accounts for the info-update tests.

Outlets (WGS-84 positions inside their county's box):

- NJ_OUTLET   BANK's outlet in Nanjing, Xuanwu (320102)
- NJ_BRANCH   BANK's branch in Nanjing (320106): no profile, not an outlet
- SZ_OUTLET   BANK's outlet in Suzhou, Huqiu (320505)
- OTHER_OUTLET OTHER_BANK's outlet in Xuanwu

Accounts: the provincial PBoC administrator (32), Nanjing's (3201) and
Suzhou's (3205), BANK's institution administrator (Jiangsu), OTHER_BANK's
(Nanjing), and a Nanjing auditor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from accounts import accounts
from accounts.accounts import Account, LoginPolicy, NewAccount
from core import tokens
from core.models.registry import Institution
from tests.conftest import truncate_all
from tests.test_pro_accounts import BANK, OTHER_BANK, make_app, sql
from web.extensions import db_session

API = "/api/pro/v1"
MP = "/api/mp/v1"
NJ_OUTLET = "C1030532010011"
NJ_BRANCH = "C1030532000019"
SZ_OUTLET = "C1030532050017"
OTHER_OUTLET = "C1040532010014"
NJ_AT = (32.0500, 118.8000)  # WGS-84, Xuanwu
SZ_AT = (31.3000, 120.5700)  # WGS-84, Huqiu
CLIENT_KEY = "c" * 64


def _institution(
    fi_code: str, legal: str, region: str, level: str, parent: str | None, address: str
) -> Institution:
    return Institution(
        fi_code=fi_code,
        name=f"测试银行{fi_code[-4:]}",
        short_name=None,
        category="bank",
        legal_entity_code=legal,
        parent_code=parent,
        level=level,
        region_code=region,
        address=address,
        postcode="210000",
        phone="025-84000000",
        licence_no=None,
        status="active",
        established_on=date(2001, 5, 1),
        source_fingerprint="0" * 32,
    )


def seed_registry(engine: Engine) -> None:
    with Session(engine) as session:
        session.add_all(
            [
                _institution(
                    BANK, BANK, "110102", "head_office", None, "北京市西城区复兴门内大街1号"
                ),
                _institution(NJ_BRANCH, BANK, "320106", "branch", BANK, "南京市鼓楼区中山路1号"),
                _institution(
                    NJ_OUTLET, BANK, "320102", "outlet", NJ_BRANCH, "南京市玄武区珠江路1号"
                ),
                _institution(
                    SZ_OUTLET, BANK, "320505", "outlet", NJ_BRANCH, "苏州市虎丘区狮山路1号"
                ),
                _institution(
                    OTHER_BANK, OTHER_BANK, "110102", "head_office", None, "北京市西城区金融街2号"
                ),
                _institution(
                    OTHER_OUTLET,
                    OTHER_BANK,
                    "320102",
                    "outlet",
                    OTHER_BANK,
                    "南京市玄武区中山路2号",
                ),
            ]
        )
        session.flush()
        for fi_code, (lat, lng) in (
            (NJ_OUTLET, NJ_AT),
            (SZ_OUTLET, SZ_AT),
            (OTHER_OUTLET, (NJ_AT[0] + 0.01, NJ_AT[1])),
        ):
            session.execute(
                text(
                    "INSERT INTO outlet_profile (institution_id, position, position_coord_system,"
                    " business_types, service_links, provenance) SELECT id, "
                    "ST_SetSRID(ST_MakePoint(:lng, :lat), 4326)::geography, 'wgs84', "
                    "'{cash}', '[]', "
                    '\'{"position": {"channel": "registry_sync", "confirmed": false}}\' '
                    "FROM institution WHERE fi_code = :fi"
                ),
                {"fi": fi_code, "lat": lat, "lng": lng},
            )
        session.commit()


@dataclass
class World:
    """Signed-in headers (and account ids) of every kind of professional account."""

    province: dict[str, str]
    nanjing: dict[str, str]
    suzhou: dict[str, str]
    bank_admin: dict[str, str]
    other_admin: dict[str, str]
    auditor: dict[str, str]
    nanjing_id: int
    bank_admin_id: int


def make_world(app: Flask) -> World:
    """The accounts, created (downwards, as the API would) and signed in directly: the
    sign-in and password flows are tests/test_pro_accounts.py's business, not these."""
    policy = LoginPolicy(time_cost=1, memory_kib=8, parallelism=1)
    with app.app_context():
        session = db_session()
        made: list[tuple[int, dict[str, str]]] = []
        province: Account | None = None
        for n, (role, prefix, legal) in enumerate(
            (
                ("pboc_admin", "32", None),
                ("pboc_admin", "3201", None),
                ("pboc_admin", "3205", None),
                ("institution_admin", "32", BANK),
                ("institution_admin", "3201", OTHER_BANK),
                ("auditor", "3201", None),
            )
        ):
            new = NewAccount(f"world{n}", "测试账户", role, prefix, legal)
            account = accounts.create_account(session, province, new, policy).account
            account.must_change_password = False
            province = province or account
            token = tokens.issue(session, "account", account.id, 3600).token
            made.append((account.id, {"Authorization": f"Bearer {token}"}))
        session.commit()
    return World(
        province=made[0][1],
        nanjing=made[1][1],
        suzhou=made[2][1],
        bank_admin=made[3][1],
        other_admin=made[4][1],
        auditor=made[5][1],
        nanjing_id=made[1][0],
        bank_admin_id=made[3][0],
    )


def finder(client: FlaskClient, fi_code: str, coord: str = "wgs84") -> dict[str, Any]:
    """What the public finder shows of an outlet now."""
    response = client.get(f"{MP}/outlets/{fi_code}", query_string={"coord": coord})
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def event(app: Flask, event_id: int) -> Any:
    [row] = sql(app, "SELECT * FROM change_event WHERE id = :id", id=event_id)
    return row


def count(app: Flask, table: str) -> int:
    return int(sql(app, f"SELECT count(*) FROM {table}")[0][0])


def seeded_app(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Flask]:
    """The body of an `app` fixture: this registry, an app with a photo directory under
    `tmp_path`, and everything dropped afterwards."""
    seed_registry(engine)
    application = make_app(database_url, photo_dir=str(tmp_path / "photos"))
    yield application
    application.extensions["branchfinder.db"].dispose()
    truncate_all(engine)
