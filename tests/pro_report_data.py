"""A small known registry for the quality and rollout reports: Nanjing, Suzhou, two banks.

Every figure the tests expect is counted by hand from the table below, so a
wrong FILTER, a missing jurisdiction condition or a wrong date boundary shows.

    outlet  legal entity  region  position types photo   hours  phone        confirmed
    N1      BANK          320102  yes      yes   front   yes    profile      yes
    N2      BANK          320102  yes      -     -       -      record only  -
    N3      BANK          320106  -        -     -       -      blank        -
    N4      OTHER_BANK    320106  yes      yes   flagged yes    -            -
    N5      BANK          320102  (revoked: in no figure but the repeated errors)
    N6      BANK          320102  (a branch without a profile: not an outlet)
    S1      BANK          320505  yes      yes   front   yes    profile      yes
    S2      OTHER_BANK    320505  yes      -     -       -      -            -

Updates (the "not updated" list, since 2026-11-01 Asia/Shanghai):
N1 staff upload 2026-11-20; N2 profile import 2026-10-01, its registry record
synced 2026-11-25 (no update) and an upload held for review 2026-11-15 (not
published: no update); N3 only an accepted public correction (no update);
N4 confirmed by the institution 2026-11-10; S1 upload at 2026-10-31 16:30 UTC,
which is 00:30 on 1 November in Shanghai; S2 nothing.

Error reports: N1 open (phone) + accepted (position); N2 rejected; N4 accepted
(hours) + accepted (position); N5 accepted; S1 accepted twice.

Install registrations: BANK at 320102 and at 320505, and one without a region
(filed at the Beijing head office); OTHER_BANK twice at 320106 (one on 2
December); PBoC staff at Nanjing city level (320100) without an employer code;
the Nanjing local bank LOCAL without a region (filed at its head office,
320102); and a suggestion, which is not a registration.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.models.feedback import ErrorReport, Feedback
from core.models.photos import OutletPhoto
from core.models.registry import ChangeEvent, Institution, OutletProfile
from core.models.staff import UploadTask
from tests.test_pro_accounts import account_below, bootstrap

BANK = "C1030511000010"
OTHER_BANK = "C1040511000011"
LOCAL = "C1990332010012"  # a Nanjing city commercial bank, head office in 320102

HOURS = {
    "weekly": {d: [["09:00", "17:00"]] for d in ("mo", "tu", "we", "th", "fr", "sa", "su")},
    "public_holidays": "as_weekly",
    "exceptions": [],
}
CONFIRMED = {
    g: {"channel": "staff_upload", "actor": "staff:1", "confirmed": True}
    for g in ("position", "business_types", "hours", "phone", "photos")
}
UNCONFIRMED = {"position": {"channel": "registry_sync", "actor": "loader", "confirmed": False}}
# A name with LIKE's wildcards in it: a search for "%" must find this one only.
N3_NAME = "玄武门100%_便民点"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _hash(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


@dataclass(frozen=True)
class Outlet:
    fi_code: str
    legal_entity: str
    region: str
    name: str
    status: str = "active"
    profile: dict[str, Any] | None = None  # None: no outlet_profile row
    institution_phone: str | None = None
    front_photo: str | None = None  # 'published' or 'flagged'


OUTLETS = {
    "N1": Outlet(
        "C1030532010011",
        BANK,
        "320102",
        "南京新街口支行",
        profile={
            "position": "SRID=4326;POINT(118.78 32.04)",
            "business_types": ["cash", "foreign_exchange"],
            "opening_hours": HOURS,
            "phone": "025-84000001",
            "provenance": CONFIRMED,
        },
        front_photo="published",
    ),
    "N2": Outlet(
        "C1030532010029",
        BANK,
        "320102",
        "南京珠江路支行",
        profile={"position": "SRID=4326;POINT(118.79 32.05)", "provenance": UNCONFIRMED},
        institution_phone="025-84000002",
    ),
    "N3": Outlet(
        "C1030532010037",
        BANK,
        "320106",
        N3_NAME,
        profile={"phone": "   "},
        institution_phone="",
    ),
    "N4": Outlet(
        "C1040532010014",
        OTHER_BANK,
        "320106",
        "建邺路支行",
        profile={
            "position": "SRID=4326;POINT(118.76 32.03)",
            "business_types": ["cash"],
            "opening_hours": HOURS,
            "provenance": UNCONFIRMED,
        },
        front_photo="flagged",
    ),
    "N5": Outlet(
        "C1030532010045",
        BANK,
        "320102",
        "已撤销网点",
        status="revoked",
        profile={
            "position": "SRID=4326;POINT(118.77 32.02)",
            "business_types": ["cash"],
            "opening_hours": HOURS,
            "phone": "025-84000005",
            "provenance": CONFIRMED,
        },
        front_photo="published",
    ),
    "N6": Outlet("C1030532000019", BANK, "320102", "南京分行"),
    "S1": Outlet(
        "C1030532050017",
        BANK,
        "320505",
        "苏州虎丘支行",
        profile={
            "position": "SRID=4326;POINT(120.58 31.32)",
            "business_types": ["cash"],
            "opening_hours": HOURS,
            "phone": "0512-6800001",
            "provenance": CONFIRMED,
        },
        front_photo="published",
    ),
    "S2": Outlet(
        "C1040532050025",
        OTHER_BANK,
        "320505",
        "苏州狮山路支行",
        profile={"position": "SRID=4326;POINT(120.55 31.30)", "provenance": UNCONFIRMED},
    ),
}


def _institution(
    fi_code: str, legal_entity: str, region: str, level: str, name: str, **extra: Any
) -> Institution:
    return Institution(
        fi_code=fi_code,
        name=name,
        category="bank",
        legal_entity_code=legal_entity,
        level=level,
        region_code=region,
        status="active",
        **extra,
    )


def _event(fi_code: str, at: str, channel: str, **extra: Any) -> ChangeEvent:
    values: dict[str, Any] = {
        "entity": "outlet_profile",
        "field_group": "position",
        "actor": "test",
        "published": True,
        **extra,
    }
    return ChangeEvent(fi_code=fi_code, at=utc(at), channel=channel, **values)


def _report(n: int, fi_code: str, kind: str, status: str, created: str) -> ErrorReport:
    closed = status != "open"
    return ErrorReport(
        fi_code=fi_code,
        kind=kind,
        comment="",
        client_key_hash=_hash(n),
        status=status,
        resolution_reason="不属实" if status == "rejected" else None,
        resolved_by="account:1" if closed else None,
        resolved_at=utc(created) if closed else None,
        created_at=utc(created),
    )


def _registration(
    n: int, employer: str | None, region: str | None, created: str = "2026-11-10T02:00:00"
) -> Feedback:
    return Feedback(
        kind="install_registration",
        text="",
        staff_name=f"员工{n}",
        employer_name="某单位",
        employer_fi_code=employer,
        employer_region_code=region,
        client_key_hash=_hash(1000 + n),
        created_at=utc(created),
    )


def load(engine: Engine) -> dict[str, int]:
    """Insert the data set; the ids of the outlets by label (N1, ..., S2)."""
    with Session(engine) as session:
        session.add_all(
            [
                _institution(BANK, BANK, "110102", "head_office", "测试银行股份有限公司"),
                _institution(OTHER_BANK, OTHER_BANK, "110102", "head_office", "另一银行"),
                _institution(LOCAL, LOCAL, "320102", "head_office", "南京某城商行"),
            ]
        )
        ids: dict[str, int] = {}
        for label, outlet in OUTLETS.items():
            level = "outlet" if outlet.profile is not None else "branch"
            revoked = (
                {"revoked_on": datetime(2026, 6, 1).date()} if outlet.status != "active" else {}
            )
            institution = _institution(
                outlet.fi_code,
                outlet.legal_entity,
                outlet.region,
                level,
                outlet.name,
                phone=outlet.institution_phone,
                **revoked,
            )
            institution.status = outlet.status
            session.add(institution)
            session.flush()
            ids[label] = institution.id
            if outlet.profile is not None:
                profile = {"business_types": [], "provenance": {}, **outlet.profile}
                session.add(OutletProfile(institution_id=institution.id, **profile))
            if outlet.front_photo is not None:
                session.add(
                    OutletPhoto(
                        institution_id=institution.id,
                        key=_hash(institution.id),
                        status=outlet.front_photo,
                        is_front=True,
                        width=800,
                        height=600,
                        source_format="jpeg",
                        uploaded_by="staff:1",
                    )
                )
        # a published photo that is not the front one does not count
        session.add(
            OutletPhoto(
                institution_id=ids["N2"],
                key=_hash(99),
                status="published",
                is_front=False,
                width=800,
                height=600,
                source_format="jpeg",
                uploaded_by="staff:1",
            )
        )
        code = {label: o.fi_code for label, o in OUTLETS.items()}
        session.add_all(
            [
                _event(code["N1"], "2026-11-20T03:00:00", "staff_upload"),
                _event(code["N2"], "2026-10-01T03:00:00", "registry_sync"),
                _event(code["N2"], "2026-11-25T03:00:00", "registry_sync", entity="institution"),
                _event(code["N2"], "2026-11-15T03:00:00", "staff_upload", published=False),
                _event(code["N3"], "2026-11-20T03:00:00", "public_report"),
                _event(code["S1"], "2026-10-31T16:30:00", "staff_upload"),
                UploadTask(
                    institution_id=ids["N4"],
                    status="confirmed",
                    created_by="test",
                    confirmed_at=utc("2026-11-10T03:00:00"),
                    confirmed_by="account:1",
                ),
                _report(1, code["N1"], "phone", "open", "2026-11-02T03:00:00"),
                _report(2, code["N1"], "position", "accepted", "2026-11-03T03:00:00"),
                _report(3, code["N2"], "phone", "rejected", "2026-11-04T03:00:00"),
                _report(4, code["N4"], "hours", "accepted", "2026-11-05T03:00:00"),
                _report(5, code["N4"], "position", "accepted", "2026-10-05T03:00:00"),
                _report(6, code["N5"], "closed", "accepted", "2026-11-06T03:00:00"),
                _report(7, code["S1"], "phone", "accepted", "2026-11-07T03:00:00"),
                _report(8, code["S1"], "position", "accepted", "2026-11-08T03:00:00"),
                _registration(1, BANK, "320102"),
                _registration(2, BANK, "320505"),
                _registration(3, BANK, None),
                _registration(4, OTHER_BANK, "320106"),
                _registration(5, OTHER_BANK, "320106", "2026-12-02T02:00:00"),
                _registration(6, None, "320100"),
                _registration(7, LOCAL, None),
                Feedback(kind="suggestion", text="希望增加夜间网点", client_key_hash=_hash(2000)),
            ]
        )
        session.commit()
    return ids


API = "/api/pro/v1"


def signed_in(app: Flask, client: FlaskClient, bank: tuple[str, str]) -> dict[str, Any]:
    """Signed-in headers and account ids: the provincial branch, the Nanjing and Suzhou
    offices, a Nanjing auditor, and `bank` = (name, legal entity)'s institution
    administrator for the province."""
    province_id, province = bootstrap(app, client, "32")
    ids = {"province": province_id}
    headers = {"province": province}
    for name, role, prefix, entity in (
        ("nanjing", "pboc_admin", "3201", None),
        ("suzhou", "pboc_admin", "3205", None),
        ("auditor", "auditor", "3201", None),
        (bank[0], "institution_admin", "32", bank[1]),
    ):
        ids[name], headers[name] = account_below(client, province, role, prefix, entity)
    return {"headers": headers, "ids": ids}


def get(client: FlaskClient, who: dict[str, Any], caller: str, path: str, **query: Any) -> Any:
    return client.get(f"{API}{path}", query_string=query, headers=who["headers"][caller])


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.get_json()
    return response.get_json()
