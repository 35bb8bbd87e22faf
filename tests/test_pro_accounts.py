"""Professional accounts on real PostgreSQL: roles handed out downwards, passwords, lock-out,
tokens, jurisdiction on every account endpoint, the audit log, the bootstrap command."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from accounts import accounts
from accounts.accounts import Account, LoginPolicy, NewAccount, password_problems
from accounts.jurisdiction import Scope, ScopeError
from backend.app import create_app
from backend.cli import main
from core.models.registry import Institution
from pro_api.access import current_scope
from tests.conftest import TestConfig, truncate_all
from web.extensions import db_session

API = "/api/pro/v1"
# Cheap argon2 so that a test can sign in dozens of times; production uses the defaults.
CHEAP = {"argon2_time_cost": 1, "argon2_memory_kib": 8, "argon2_parallelism": 1}
BANK = "C1030511000010"  # a legal entity (head office in Beijing) with outlets in Jiangsu
OTHER_BANK = "C1040511000011"  # another, with an outlet in Nanjing only
BOOT_PASSWORD = "bootstrap-Pass-1"
NEW_PASSWORD = "a-long-new-passw0rd"


def make_app(database_url: str, **settings: Any) -> Flask:
    values: dict[str, Any] = {
        **CHEAP,
        "secret_key": "pro-test-pepper",
        "login_rate_limit": 10_000,
        **settings,
    }
    return create_app(TestConfig(database_url=database_url, **values))


def _institution(fi_code: str, legal_entity: str, region: str, level: str) -> Institution:
    return Institution(
        fi_code=fi_code,
        name=f"测试机构 {fi_code}",
        category="bank",
        legal_entity_code=legal_entity,
        level=level,
        region_code=region,
        status="active",
    )


@pytest.fixture
def app(database_url: str, engine: Engine) -> Iterator[Flask]:
    with Session(engine) as session:
        session.add_all(
            [
                _institution(BANK, BANK, "110102", "head_office"),
                _institution("C1030532000019", BANK, "320106", "branch"),
                _institution("C1030532010011", BANK, "320102", "outlet"),
                _institution("C1030532050017", BANK, "320505", "outlet"),
                _institution(OTHER_BANK, OTHER_BANK, "110102", "head_office"),
                _institution("C1040532010014", OTHER_BANK, "320102", "outlet"),
            ]
        )
        session.commit()
    application = make_app(database_url)
    yield application
    application.extensions["branchfinder.db"].dispose()
    truncate_all(engine)


_names = (f"user{n:03d}" for n in itertools.count())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client: FlaskClient, username: str, password: str) -> Any:
    return client.post(f"{API}/auth/login", json={"username": username, "password": password})


def activate(client: FlaskClient, username: str, temporary: str) -> dict[str, str]:
    """Sign in with a temporary password and change it, as a new user does first."""
    response = login(client, username, temporary)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["must_change_password"] is True
    changed = client.post(
        f"{API}/auth/password",
        json={"current_password": temporary, "new_password": NEW_PASSWORD},
        headers=bearer(response.get_json()["token"]),
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["must_change_password"] is False
    return bearer(changed.get_json()["token"])


def bootstrap(app: Flask, client: FlaskClient, prefix: str = "32") -> tuple[int, dict[str, str]]:
    """A PBoC administrator created as the command line does, signed in and activated."""
    username = next(_names)
    with app.app_context():
        session = db_session()
        created = accounts.create_account(
            session,
            None,
            NewAccount(username, "省分行管理员", "pboc_admin", prefix),
            LoginPolicy(time_cost=1, memory_kib=8, parallelism=1),
            BOOT_PASSWORD,
        )
        session.commit()
        account_id = created.account.id
    return account_id, activate(client, username, BOOT_PASSWORD)


def create(
    client: FlaskClient,
    headers: dict[str, str],
    role: str,
    prefix: str,
    legal_entity: str | None = None,
) -> Any:
    body: dict[str, Any] = {
        "username": next(_names),
        "display_name": "测试 用户",
        "role": role,
        "region_prefix": prefix,
    }
    if legal_entity is not None:
        body["legal_entity_code"] = legal_entity
    return client.post(f"{API}/accounts", json=body, headers=headers)


def account_below(
    client: FlaskClient,
    headers: dict[str, str],
    role: str,
    prefix: str,
    legal_entity: str | None = None,
) -> tuple[int, dict[str, str]]:
    """Create an account through the API and activate it: its id and signed-in headers."""
    response = create(client, headers, role, prefix, legal_entity)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return body["account"]["id"], activate(
        client, body["account"]["username"], body["temporary_password"]
    )


def sql(app: Flask, statement: str, **params: Any) -> list[Any]:
    with app.app_context():
        session = db_session()
        result = session.execute(text(statement), params)
        rows = result.all() if result.returns_rows else []
        session.commit()
    return rows


def audit_rows(app: Flask, **where: Any) -> list[Any]:
    conditions = " AND ".join(f"{k} = :{k}" for k in where) or "true"
    return sql(app, f"SELECT * FROM audit_log WHERE {conditions} ORDER BY id", **where)


# --- Scope (the one way to filter by jurisdiction) ---------------------------------------------


def test_scope_allows_and_filters_queries(app: Flask) -> None:
    nanjing = Scope("3201")
    assert nanjing.allows("320102") and not nanjing.allows("320505")
    assert not nanjing.allows(None)
    bank_in_jiangsu = Scope("32", BANK)
    assert bank_in_jiangsu.allows("320505", BANK)
    assert not bank_in_jiangsu.allows("320505", OTHER_BANK)
    assert Scope("32").covers(Scope("3201", BANK)) and not Scope("3201").covers(Scope("32"))
    assert not bank_in_jiangsu.covers(Scope("3201"))
    for bad_prefix in ("3", "320", "32010", "3201021", "32a1"):
        with pytest.raises(ScopeError):
            Scope(bad_prefix)
    with pytest.raises(ScopeError):
        Scope("32", "not-a-code")

    with app.app_context():
        session = db_session()
        fi_codes = select(Institution.fi_code).order_by(Institution.fi_code)
        assert list(session.scalars(nanjing.institutions(fi_codes))) == [
            "C1030532000019",
            "C1030532010011",
            "C1040532010014",
        ]
        assert list(session.scalars(Scope("3201", OTHER_BANK).institutions(fi_codes))) == [
            "C1040532010014"
        ]
        # the same condition over a Core table
        table = Institution.__table__
        stmt = select(table.c.fi_code).where(Scope("3205", BANK).clause(table))
        assert list(session.scalars(stmt)) == ["C1030532050017"]


# --- passwords ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "username", "refused"),
    [
        ("short1!", "li", True),  # under 10 characters
        ("1234567890123", "li", True),  # only digits
        ("Nanjing.Admin", "nanjing.admin", True),  # the username, whatever the case
        ("correct horse", "li", False),
        ("0123456789a", "li", False),
    ],
)
def test_password_policy(password: str, username: str, refused: bool) -> None:
    assert bool(password_problems(password, username)) is refused


def test_temporary_passwords_pass_the_policy_and_differ() -> None:
    generated = {accounts.temporary_password() for _ in range(20)}
    assert len(generated) == 20
    assert all(not password_problems(p, "") for p in generated)


def test_first_sign_in_forces_a_password_change(app: Flask, client: FlaskClient) -> None:
    _, province = bootstrap(app, client)
    response = create(client, province, "pboc_admin", "3201")
    assert response.status_code == 201
    username = response.get_json()["account"]["username"]
    temporary = response.get_json()["temporary_password"]
    first = login(client, username, temporary)
    assert first.status_code == 200
    assert first.get_json()["must_change_password"] is True
    pending = bearer(first.get_json()["token"])

    # The token serves only the change of password (and logging out) until then.
    for method, path in (("get", "/me"), ("get", "/accounts"), ("get", "/audit")):
        refused = getattr(client, method)(f"{API}{path}", headers=pending)
        assert refused.status_code == 403
        assert "/auth/password" in refused.get_json()["message"]
    denied = audit_rows(app, actor="account:" + str(first.get_json()["account"]["id"]))
    assert [r.detail["reason"] for r in denied if r.outcome == "denied"] == [
        "password_change_required"
    ] * 3

    def change(current: str, new: str) -> Any:
        return client.post(
            f"{API}/auth/password",
            json={"current_password": current, "new_password": new},
            headers=pending,
        )

    for bad in ("short", "12345678901234", username.upper(), temporary):
        rejected = change(temporary, bad)
        assert rejected.status_code == 422, bad
        assert list(rejected.get_json()["errors"]["json"]) == ["new_password"]
    wrong = change("not-the-temporary", NEW_PASSWORD)
    assert wrong.status_code == 403
    assert "current_password" in wrong.get_json()["errors"]["json"]
    assert audit_rows(app, action="account.change_password", outcome="failed")

    changed = change(temporary, NEW_PASSWORD)
    assert changed.status_code == 200
    assert changed.get_json()["must_change_password"] is False
    fresh = bearer(changed.get_json()["token"])
    # Changing the password ended the old session; the answer carries a new one.
    assert client.get(f"{API}/me", headers=pending).status_code == 401
    me = client.get(f"{API}/me", headers=fresh)
    assert me.status_code == 200 and me.get_json()["username"] == username
    assert login(client, username, temporary).status_code == 401
    assert login(client, username, NEW_PASSWORD).status_code == 200


def test_password_hash_is_upgraded_when_parameters_change(
    app: Flask, client: FlaskClient, database_url: str
) -> None:
    account_id, _ = bootstrap(app, client)
    [(stored,)] = sql(app, "SELECT password_hash FROM pro_account WHERE id = :i", i=account_id)
    assert stored.startswith("$argon2id$") and "t=1," in stored
    stronger = make_app(database_url, argon2_time_cost=2)
    try:
        username = sql(app, "SELECT username FROM pro_account WHERE id = :i", i=account_id)[0][0]
        assert login(stronger.test_client(), username, NEW_PASSWORD).status_code == 200
    finally:
        stronger.extensions["branchfinder.db"].dispose()
    [(upgraded,)] = sql(app, "SELECT password_hash FROM pro_account WHERE id = :i", i=account_id)
    assert upgraded != stored and "t=2," in upgraded
    assert login(client, username, NEW_PASSWORD).status_code == 200  # still the same password


# --- lock-out -------------------------------------------------------------------------------


def test_lockout_after_five_wrong_passwords_and_its_expiry(app: Flask, client: FlaskClient) -> None:
    account_id, _ = bootstrap(app, client)
    username = sql(app, "SELECT username FROM pro_account WHERE id = :i", i=account_id)[0][0]
    unknown = login(client, "nobody.here", "whatever-password")
    assert unknown.status_code == 401
    for _ in range(5):
        wrong = login(client, username, "wrong-password-1")
        assert wrong.status_code == 401
        assert wrong.get_json() == unknown.get_json()
    # Locked: even the right password gets the very same answer.
    locked = login(client, username, NEW_PASSWORD)
    assert locked.status_code == 401 and locked.get_json() == unknown.get_json()
    assert locked.headers["WWW-Authenticate"].startswith("Bearer")

    entries = audit_rows(app, action="auth.login", target_id=str(account_id))
    outcomes = [(r.outcome, r.detail.get("reason")) for r in entries]
    assert outcomes[-6:] == [("failed", "wrong_password")] * 5 + [("denied", "locked")]
    assert "locked_until" in entries[-2].detail
    [nobody] = [r for r in audit_rows(app, action="auth.login") if r.target_id is None]
    assert nobody.actor == "anonymous" and nobody.outcome == "failed"
    assert nobody.detail == {"reason": "unknown", "username": "nobody.here"}
    assert nobody.region_code is None and len(nobody.client_hash) == 64

    # The lock ends by itself: move it into the past rather than wait 15 minutes.
    sql(
        app,
        "UPDATE pro_account SET locked_until = now() - interval '1 second' WHERE id = :i",
        i=account_id,
    )
    assert login(client, username, NEW_PASSWORD).status_code == 200
    [(failed, until)] = sql(
        app, "SELECT failed_logins, locked_until FROM pro_account WHERE id = :i", i=account_id
    )
    assert failed == 0 and until is None


def test_admin_reset_lifts_a_lock_and_forces_a_change(app: Flask, client: FlaskClient) -> None:
    _, province = bootstrap(app, client)
    city_id, _ = account_below(client, province, "pboc_admin", "3201")
    username = client.get(f"{API}/accounts/{city_id}", headers=province).get_json()["username"]
    for _ in range(5):
        login(client, username, "wrong-password-1")
    assert login(client, username, NEW_PASSWORD).status_code == 401
    reset = client.post(f"{API}/accounts/{city_id}/reset-password", headers=province)
    assert reset.status_code == 200
    temporary = reset.get_json()["temporary_password"]
    assert reset.get_json()["account"]["must_change_password"] is True
    assert reset.get_json()["account"]["locked_until"] is None
    assert login(client, username, NEW_PASSWORD).status_code == 401
    again = login(client, username, temporary)
    assert again.status_code == 200 and again.get_json()["must_change_password"] is True


# --- tokens ---------------------------------------------------------------------------------


def test_tokens_expire_and_are_revoked(app: Flask, client: FlaskClient) -> None:
    _, province = bootstrap(app, client)
    city_id, city = account_below(client, province, "pboc_admin", "3201")
    username = client.get(f"{API}/accounts/{city_id}", headers=province).get_json()["username"]
    assert client.get(f"{API}/me", headers=city).status_code == 200
    assert client.get(f"{API}/me").status_code == 401  # no token at all

    # expiry (the TTL is hours: age the token instead of waiting)
    sql(
        app,
        "UPDATE auth_token SET expires_at = now() - interval '1 second' "
        "WHERE subject_kind = 'account' AND subject_id = :i",
        i=city_id,
    )
    expired = client.get(f"{API}/me", headers=city)
    assert expired.status_code == 401 and "Bearer" in expired.headers["WWW-Authenticate"]

    # log-out
    token = login(client, username, NEW_PASSWORD).get_json()["token"]
    assert client.post(f"{API}/auth/logout", headers=bearer(token)).status_code == 204
    assert client.get(f"{API}/me", headers=bearer(token)).status_code == 401

    # an administrator above revokes every token
    first = bearer(login(client, username, NEW_PASSWORD).get_json()["token"])
    second = bearer(login(client, username, NEW_PASSWORD).get_json()["token"])
    revoked = client.post(f"{API}/accounts/{city_id}/revoke-tokens", headers=province)
    assert revoked.status_code == 200 and revoked.get_json() == {"revoked": 2}
    assert client.get(f"{API}/me", headers=first).status_code == 401
    assert client.get(f"{API}/me", headers=second).status_code == 401

    # disabling revokes and keeps the account out
    third = bearer(login(client, username, NEW_PASSWORD).get_json()["token"])
    disabled = client.post(f"{API}/accounts/{city_id}/disable", headers=province)
    assert disabled.status_code == 200 and disabled.get_json()["disabled"] is True
    assert client.get(f"{API}/me", headers=third).status_code == 401
    assert login(client, username, NEW_PASSWORD).status_code == 401

    refused = audit_rows(app, action="me.read", outcome="denied")
    assert [r.detail["reason"] for r in refused] == ["expired_token"] + ["revoked_token"] * 4
    assert {r.actor_id for r in refused} == {city_id}  # the token's owner, for the record
    assert [r.outcome for r in audit_rows(app, action="account.disable")] == ["ok"]
    [login_refused] = [
        r for r in audit_rows(app, action="auth.login", target_id=str(city_id)) if r.outcome != "ok"
    ]
    assert login_refused.detail["reason"] == "disabled"


# --- creation rules -------------------------------------------------------------------------


def test_accounts_are_created_downwards_only(app: Flask, client: FlaskClient) -> None:
    _, province = bootstrap(app, client)
    nanjing_id, nanjing = account_below(client, province, "pboc_admin", "3201")
    assert create(client, province, "pboc_admin", "3205").status_code == 201
    county = create(client, nanjing, "pboc_admin", "320102")
    assert county.status_code == 201
    assert county.get_json()["account"]["pboc_level"] == "county"
    assert county.get_json()["account"]["created_by"] == nanjing_id
    assert create(client, nanjing, "institution_admin", "3201", BANK).status_code == 201
    assert create(client, nanjing, "institution_admin", "320102", BANK).status_code == 201
    assert create(client, nanjing, "auditor", "3201").status_code == 201
    assert create(client, nanjing, "auditor", "3201", OTHER_BANK).status_code == 201

    refused = [
        ("pboc_admin", "32", None),  # above itself
        ("pboc_admin", "3201", None),  # its own level
        ("pboc_admin", "3205", None),  # a sibling city
        ("pboc_admin", "320505", None),  # a county of the sibling city
        ("institution_admin", "3205", BANK),
        ("auditor", "32", None),
    ]
    for role, prefix, legal_entity in refused:
        answer = create(client, nanjing, role, prefix, legal_entity)
        assert answer.status_code == 403, (role, prefix)
        assert list(answer.get_json()["errors"]["json"]) == ["region_prefix"]
    denied = audit_rows(app, action="account.create", outcome="denied")
    assert len(denied) == len(refused)
    assert all(r.actor_id == nanjing_id and r.region_code == "3201" for r in denied)

    _, bank_admin = account_below(client, nanjing, "institution_admin", "3201", BANK)
    _, auditor = account_below(client, nanjing, "auditor", "3201")
    for creator in (bank_admin, auditor):
        answer = create(client, creator, "auditor", "320102")
        assert answer.status_code == 403
        assert "pboc_admin" in answer.get_json()["message"]


def test_account_input_is_checked_naming_the_field(app: Flask, client: FlaskClient) -> None:
    _, province = bootstrap(app, client)
    cases: list[tuple[dict[str, Any], str, int]] = [
        ({"region_prefix": "3299"}, "region_prefix", 422),  # no such prefecture
        ({"region_prefix": "320"}, "region_prefix", 422),
        ({"role": "superuser"}, "role", 422),
        ({"username": "Bad Name!"}, "username", 422),
        ({"role": "institution_admin"}, "legal_entity_code", 422),  # needs one
        ({"legal_entity_code": BANK}, "legal_entity_code", 422),  # PBoC has none
        (
            {"role": "institution_admin", "legal_entity_code": OTHER_BANK, "region_prefix": "3205"},
            "legal_entity_code",
            422,
        ),  # no outlet of that bank in Suzhou
        ({"display_name": ""}, "display_name", 422),
    ]
    for change, field, status in cases:
        body = {
            "username": next(_names),
            "display_name": "某人",
            "role": "pboc_admin",
            "region_prefix": "3201",
            **change,
        }
        answer = client.post(f"{API}/accounts", json=body, headers=province)
        assert answer.status_code == status, (change, answer.get_json())
        assert field in answer.get_json()["errors"]["json"], (change, answer.get_json())
    taken = create(client, province, "pboc_admin", "3201").get_json()["account"]["username"]
    again = client.post(
        f"{API}/accounts",
        json={"username": taken, "display_name": "x", "role": "auditor", "region_prefix": "32"},
        headers=province,
    )
    assert again.status_code == 409 and "username" in again.get_json()["errors"]["json"]
    assert client.get(f"{API}/accounts?limit=0", headers=province).status_code == 422
    too_many = client.get(f"{API}/accounts?limit=201", headers=province)
    assert too_many.status_code == 422 and "limit" in too_many.get_json()["errors"]["query"]


# --- jurisdiction on every account endpoint -------------------------------------------------


def test_jurisdiction_on_every_account_endpoint(app: Flask, client: FlaskClient) -> None:
    province_id, province = bootstrap(app, client)
    nanjing_id, nanjing = account_below(client, province, "pboc_admin", "3201")
    suzhou_id, suzhou = account_below(client, province, "pboc_admin", "3205")
    suzhou_bank_id, suzhou_bank = account_below(client, suzhou, "institution_admin", "3205", BANK)
    county_id, _ = account_below(client, nanjing, "pboc_admin", "320102")
    nanjing_bank_id, nanjing_bank = account_below(
        client, nanjing, "institution_admin", "3201", BANK
    )

    def listed(headers: dict[str, str]) -> set[int]:
        answer = client.get(f"{API}/accounts", headers=headers)
        assert answer.status_code == 200
        return {a["id"] for a in answer.get_json()["items"]}

    assert listed(province) == {
        province_id,
        nanjing_id,
        suzhou_id,
        suzhou_bank_id,
        county_id,
        nanjing_bank_id,
    }
    assert listed(nanjing) == {nanjing_id, county_id, nanjing_bank_id}
    assert listed(nanjing_bank) == {nanjing_bank_id}

    missing = 10_000_000
    hidden = (suzhou_id, suzhou_bank_id, province_id, missing)
    nowhere = client.get(f"{API}/accounts/{missing}", headers=nanjing)
    assert nowhere.status_code == 404
    for target in hidden:
        read = client.get(f"{API}/accounts/{target}", headers=nanjing)
        assert read.status_code == 404 and read.get_json() == nowhere.get_json()
        for verb in ("disable", "reset-password", "revoke-tokens"):
            answer = client.post(f"{API}/accounts/{target}/{verb}", headers=nanjing)
            assert answer.status_code == 404, (target, verb)
            assert answer.get_json()["message"] == nowhere.get_json()["message"]
    # Nothing happened to the Suzhou accounts.
    assert client.get(f"{API}/me", headers=suzhou).status_code == 200
    assert client.get(f"{API}/me", headers=suzhou_bank).status_code == 200
    # The refusals are audited alike whether the account exists or not, filed under Nanjing.
    refusals = [r for r in audit_rows(app, actor_id=nanjing_id) if r.outcome == "denied"]
    assert len(refusals) == 1 + 4 * 4
    assert {r.detail["reason"] for r in refusals} == {"not_found_or_outside_jurisdiction"}
    assert {r.region_code for r in refusals} == {"3201"}

    # Only PBoC administrators manage, never themselves; roles are refused before lookup.
    assert client.post(f"{API}/accounts/{nanjing_id}/disable", headers=nanjing).status_code == 403
    for verb in ("disable", "reset-password", "revoke-tokens"):
        answer = client.post(f"{API}/accounts/{nanjing_bank_id}/{verb}", headers=nanjing_bank)
        assert answer.status_code == 403
        answer = client.post(f"{API}/accounts/{suzhou_id}/{verb}", headers=nanjing_bank)
        assert answer.status_code == 403
    # An institution administrator sees itself only; the audit log is not for it.
    assert client.get(f"{API}/accounts/{nanjing_bank_id}", headers=nanjing_bank).status_code == 200
    assert client.get(f"{API}/accounts/{nanjing_id}", headers=nanjing_bank).status_code == 404
    assert client.get(f"{API}/audit", headers=nanjing_bank).status_code == 403
    # The province manages the city below it.
    assert client.post(f"{API}/accounts/{county_id}/disable", headers=province).status_code == 200


def test_auditors_read_their_jurisdiction_and_never_write(app: Flask, client: FlaskClient) -> None:
    def probe() -> dict[str, Any]:
        """What a later pro module's write view starts with."""
        scope = current_scope("probe.write", write=True)
        return {"prefix": scope.region_prefix, "legal_entity": scope.legal_entity_code}

    app.add_url_rule(f"{API}/probe-write", view_func=probe)
    _, province = bootstrap(app, client)
    nanjing_id, nanjing = account_below(client, province, "pboc_admin", "3201")
    bank_admin_id, _ = account_below(client, nanjing, "institution_admin", "3201", BANK)
    other_admin_id, _ = account_below(client, nanjing, "institution_admin", "3201", OTHER_BANK)
    auditor_id, auditor = account_below(client, nanjing, "auditor", "3201", BANK)

    answer = client.get(f"{API}/accounts", headers=auditor)
    assert {a["id"] for a in answer.get_json()["items"]} == {auditor_id, bank_admin_id}
    assert client.get(f"{API}/accounts/{other_admin_id}", headers=auditor).status_code == 404
    assert client.get(f"{API}/accounts/{nanjing_id}", headers=auditor).status_code == 404
    assert client.get(f"{API}/me", headers=auditor).get_json()["can_write"] is False

    refused = client.get(f"{API}/probe-write", headers=auditor)
    assert refused.status_code == 403
    [entry] = audit_rows(app, action="probe.write")
    assert (entry.outcome, entry.detail["reason"], entry.actor_id) == (
        "denied",
        "read_only",
        auditor_id,
    )
    allowed = client.get(f"{API}/probe-write", headers=nanjing)
    assert allowed.get_json() == {"prefix": "3201", "legal_entity": None}


# --- the audit log --------------------------------------------------------------------------


def test_audit_log_follows_jurisdiction_and_pages(app: Flask, client: FlaskClient) -> None:
    _, province = bootstrap(app, client)
    _, nanjing = account_below(client, province, "pboc_admin", "3201")
    suzhou_id, _ = account_below(client, province, "pboc_admin", "3205")
    _, bank_auditor = account_below(client, nanjing, "auditor", "3201", BANK)
    _, bank_admin = account_below(client, nanjing, "institution_admin", "3201", BANK)
    assert client.get(f"{API}/audit", headers=bank_admin).status_code == 403

    def entries(headers: dict[str, str], **query: Any) -> list[dict[str, Any]]:
        answer = client.get(f"{API}/audit", headers=headers, query_string=query)
        assert answer.status_code == 200, answer.get_json()
        items: list[dict[str, Any]] = answer.get_json()["items"]
        return items

    everything = entries(province, limit=200)
    assert {e["region_code"] for e in everything} >= {"32", "3201", "3205"}
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids, reverse=True)  # newest first
    in_nanjing = entries(nanjing, limit=200)
    assert in_nanjing and all(e["region_code"].startswith("3201") for e in in_nanjing)
    assert str(suzhou_id) not in {e["target_id"] for e in in_nanjing}
    about_suzhou = entries(province, account_id=suzhou_id)
    assert {e["action"] for e in about_suzhou} >= {"account.create", "auth.login"}
    assert entries(nanjing, account_id=suzhou_id) == []
    only_bank = entries(bank_auditor, limit=200)
    assert only_bank and {e["legal_entity_code"] for e in only_bank} == {BANK}
    assert [e["outcome"] for e in entries(province, outcome="denied")] == ["denied"]

    # keyset pages: every entry once, in order
    seen: list[int] = []
    after = None
    while True:
        query: dict[str, Any] = {"limit": 3}
        if after is not None:
            query["after"] = after
        answer = client.get(f"{API}/audit", headers=province, query_string=query).get_json()
        seen += [e["id"] for e in answer["items"]]
        after = answer["next_after"]
        if after is None:
            break
    assert seen == [e["id"] for e in entries(province, limit=200)]

    # append-only
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            sql(app, statement)


def test_account_list_pages(app: Flask, client: FlaskClient) -> None:
    _, province = bootstrap(app, client)
    created = {
        create(client, province, "auditor", "32").get_json()["account"]["id"] for _ in range(5)
    }
    first = client.get(f"{API}/accounts", headers=province, query_string={"limit": 4})
    body = first.get_json()
    assert len(body["items"]) == 4 and body["next_after"] == body["items"][-1]["id"]
    rest = client.get(
        f"{API}/accounts", headers=province, query_string={"limit": 4, "after": body["next_after"]}
    ).get_json()
    assert rest["next_after"] is None
    ids = [a["id"] for a in body["items"] + rest["items"]]
    assert ids == sorted(ids) and created <= set(ids) and len(ids) == 6
    auditors = client.get(
        f"{API}/accounts", headers=province, query_string={"role": "auditor"}
    ).get_json()
    assert {a["id"] for a in auditors["items"]} == created


# --- the bootstrap command ------------------------------------------------------------------


def test_create_admin_command(app: Flask, client: FlaskClient, database_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "accounts",
            "create-admin",
            "--username",
            "JS.Admin",
            "--display-name",
            "江苏分行 管理员",
            "--region",
            "32",
            "--database-url",
            database_url,
        ],
    )
    assert result.exit_code == 0, result.output
    password = result.stdout.strip()
    assert "shown once" in result.stderr
    first = login(client, "js.admin", password)
    assert first.status_code == 200
    body = first.get_json()
    assert body["must_change_password"] is True
    assert body["account"]["role"] == "pboc_admin"
    assert body["account"]["pboc_level"] == "province"
    assert body["account"]["region_name"] == "江苏省"
    [entry] = audit_rows(app, action="account.create")
    assert entry.actor.startswith("cli") and entry.region_code == "32"

    piped = runner.invoke(
        main,
        [
            "accounts",
            "create-admin",
            "--username",
            "nj.admin",
            "--display-name",
            "南京",
            "--region",
            "3201",
            "--password-stdin",
            "--database-url",
            database_url,
        ],
        input="given-Password-9\n",
    )
    assert piped.exit_code == 0, piped.output
    assert piped.stdout == ""
    assert login(client, "nj.admin", "given-Password-9").get_json()["must_change_password"]

    for args, hint in (
        (["--region", "3299"], "--region"),
        (["--region", "32", "--username", "js.admin"], "--username"),  # taken
    ):
        options = {"--username": "someone", "--display-name": "某人", "--region": "32"}
        options.update(dict(zip(args[::2], args[1::2], strict=True)))
        flat = [part for pair in options.items() for part in pair]
        bad = runner.invoke(
            main, ["accounts", "create-admin", *flat, "--database-url", database_url]
        )
        assert bad.exit_code == 2, bad.output
        assert hint in bad.output
    weak = runner.invoke(
        main,
        [
            "accounts",
            "create-admin",
            "--username",
            "weak.one",
            "--display-name",
            "x",
            "--region",
            "32",
            "--password-stdin",
            "--database-url",
            database_url,
        ],
        input="123456789012\n",
    )
    assert weak.exit_code == 2 and "password" in weak.output
    assert sql(app, "SELECT count(*) FROM pro_account")[0][0] == 2


# --- OpenAPI --------------------------------------------------------------------------------


def test_openapi_documents_every_pro_route_with_security(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["proToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["proToken"]["description"],
    }
    documented = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        if path.startswith(API)
        for method in operations
        if method != "parameters"
    }
    routed = {
        (method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(API)
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert documented == routed and len(routed) >= 11
    for method, path in documented:
        operation = spec["paths"][path][method.lower()]
        assert operation.get("summary") or operation.get("description"), path
        responses = operation["responses"]
        assert "401" in responses, (method, path)
        for code, response in responses.items():
            if code.startswith("4") and "$ref" not in response:  # ours, not smorest's 422
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, code)
        assert any(code.startswith("2") for code in responses), (method, path)
        if path == f"{API}/auth/login":
            assert operation["security"] == []
            assert "422" in responses
        else:
            assert operation["security"] == [{"proToken": []}], (method, path)
        if "{account_id}" in path:
            assert "404" in responses, (method, path)


def test_accounts_expose_the_scope_of_their_role() -> None:
    pboc = Account(role="pboc_admin", region_prefix="3201", legal_entity_code=None)
    bank = Account(role="institution_admin", region_prefix="3201", legal_entity_code=BANK)
    auditor = Account(role="auditor", region_prefix="32", legal_entity_code=None)
    assert pboc.scope == Scope("3201", None, can_write=True) and pboc.pboc_level == "city"
    assert bank.scope == Scope("3201", BANK, can_write=True) and bank.pboc_level is None
    assert auditor.scope.can_write is False
