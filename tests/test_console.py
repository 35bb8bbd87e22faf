"""The professional console (/console/) in a real browser (Playwright over Debian's chromium)
and through the test client: sign-in with the forced password change, lock-out and expiry;
the session cookie and CSRF; the dashboard's figures against the JSON API's for the same
account; the registry pages; jurisdiction on every page; hostile names as text; headers."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from accounts import accounts
from accounts.accounts import LoginPolicy, NewAccount
from backend.browser import desktop_context
from tests.conftest import load_generated, served, truncate_all
from tests.test_pro_accounts import make_app
from web.extensions import db_session

API = "/api/pro/v1"
CONSOLE = "/console"
TEMPORARY = "Temporary-Pass-9"
PASSWORD = "a-long-new-passw0rd"
HOSTILE_OUTLET = '"><img src=x onerror="document.body.dataset.owned=1">网点<script>x=1</script>'
HOSTILE_ENTITY = "<script>document.body.dataset.owned=1</script>恶意银行"
_names = (f"console{n}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def site(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Flask, str]]:
    load_generated(engine, tmp_path_factory.mktemp("console"), outlets=600, seed=19)
    _make_hostile(engine)
    app = make_app(database_url)  # cheap password hashes, no sign-in rate limit to speak of
    try:
        with served(app) as base:
            yield app, base
    finally:
        app.extensions["branchfinder.db"].dispose()
        truncate_all(engine)


def _make_hostile(engine: Engine) -> None:
    """One Nanjing outlet and one legal entity (its head office) get hostile names."""
    with engine.begin() as conn:
        outlet = conn.execute(
            text(
                "SELECT i.fi_code, i.legal_entity_code FROM institution i JOIN outlet_profile p "
                "ON p.institution_id = i.id WHERE i.region_code LIKE '3201%' "
                "AND i.status = 'active' ORDER BY i.fi_code LIMIT 1"
            )
        ).one()
        conn.execute(
            text("UPDATE institution SET name = :n WHERE fi_code = :c"),
            {"n": HOSTILE_OUTLET, "c": outlet.fi_code},
        )
        conn.execute(
            text("UPDATE institution SET name = :n WHERE fi_code = :c"),
            {"n": HOSTILE_ENTITY, "c": outlet.legal_entity_code},
        )


def sql(app: Flask, statement: str, **params: Any) -> list[Any]:
    with app.app_context():
        session = db_session()
        result = session.execute(text(statement), params)
        rows = result.all() if result.returns_rows else []
        session.commit()
        return rows


def make_account(
    app: Flask,
    prefix: str,
    *,
    role: str = "pboc_admin",
    legal_entity: str | None = None,
    active: bool = True,
) -> str:
    """An account made by the library (as `branchfinder accounts` does); with `active` its
    temporary password is already changed to PASSWORD."""
    username = next(_names)
    policy = LoginPolicy(time_cost=1, memory_kib=8, parallelism=1)
    with app.app_context():
        session = db_session()
        creator = None
        if role != "pboc_admin":  # handed out by a PBoC office, as accounts are
            creator = accounts.create_account(
                session, None, NewAccount(next(_names), "省分行", "pboc_admin", "32"), policy
            ).account
        created = accounts.create_account(
            session,
            creator,
            NewAccount(username, f"测试{username}", role, prefix, legal_entity),
            policy,
            TEMPORARY,
        )
        if active:
            accounts.change_password(session, created.account, TEMPORARY, PASSWORD, policy)
        session.commit()
    return username


def bearer(app: Flask, username: str) -> dict[str, str]:
    answer = app.test_client().post(
        f"{API}/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.get_json()
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
    assert found, "no CSRF field in the form"
    return found.group(1)


def signed_in_client(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    form = client.get(f"{CONSOLE}/login").get_data(as_text=True)
    answer = client.post(
        f"{CONSOLE}/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(form)},
    )
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"{CONSOLE}/")
    return client


@pytest.fixture
def context(site: tuple[Flask, str], browser: Any) -> Iterator[Any]:
    ctx = desktop_context(browser)
    errors: list[str] = []
    ctx.on("weberror", lambda error: errors.append(str(error.error)))
    yield ctx
    ctx.close()
    assert not errors, errors  # no script error on any page a test opened


def sign_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}{CONSOLE}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")


def region_of(app: Flask, prefix: str) -> tuple[str, str]:
    """An active outlet (fi_code, name) of a region prefix."""
    (row,) = sql(
        app,
        "SELECT i.fi_code, i.name FROM institution i JOIN outlet_profile p "
        "ON p.institution_id = i.id WHERE i.region_code LIKE :p AND i.status = 'active' "
        "AND i.name NOT LIKE '%<%' ORDER BY i.fi_code LIMIT 1",
        p=prefix + "%",
    )
    return str(row.fi_code), str(row.name)


# --- signing in -------------------------------------------------------------------------------


def test_first_sign_in_forces_a_password_change(site: tuple[Flask, str], context: Any) -> None:
    app, base = site
    username = make_account(app, "3201", active=False)
    page = context.new_page()
    page.goto(f"{base}{CONSOLE}/")
    assert "/console/login" in page.url and page.locator("#login-form").is_visible()
    sign_in(page, base, username, TEMPORARY)
    page.wait_for_selector("#forced")
    assert "/console/password" in page.url
    assert page.locator("nav.side").count() == 0  # nothing else until the password is changed
    page.goto(f"{base}{CONSOLE}/registry")  # every other page sends it back
    assert "/console/password" in page.url

    def change(current: str, new: str, again: str | None = None) -> None:
        page.fill("#current_password", current)
        page.fill("#new_password", new)
        page.fill("#new_password_again", new if again is None else again)
        page.click("#password-submit")

    change(TEMPORARY, PASSWORD, "a-different-passw0rd")
    assert "两次输入的新密码不一致" in page.locator("#pw-errors").inner_text()
    change(TEMPORARY, "1234567890123")
    assert "密码不能只有数字" in page.locator("#pw-errors").inner_text()
    change("wrong-temporary", PASSWORD)
    assert "当前密码不正确" in page.locator("#pw-errors").inner_text()
    change(TEMPORARY, PASSWORD)
    page.wait_for_selector("body[data-ready='1']")
    assert page.url.endswith("/console/registry")  # where it was sent away from
    assert page.locator("#me-name").inner_text() == f"测试{username}"
    assert "南京市" in page.locator("#me-area").inner_text()
    (row,) = sql(
        app, "SELECT must_change_password FROM pro_account WHERE username = :u", u=username
    )
    assert row.must_change_password is False
    # The new password opens the JSON API too: one account, two ways in.
    assert bearer(app, username)

    page.click("#logout")
    page.wait_for_selector("#notice")
    assert "你已安全退出" in page.locator("#notice").inner_text()
    page.goto(f"{base}{CONSOLE}/")
    assert "/console/login" in page.url


def test_wrong_passwords_lock_the_account_with_one_plain_message(site: tuple[Flask, str]) -> None:
    app, _ = site
    username = make_account(app, "3201")
    client = app.test_client()
    csrf = csrf_of(client.get(f"{CONSOLE}/login").get_data(as_text=True))
    messages = set()
    for _ in range(5):
        answer = client.post(
            f"{CONSOLE}/login",
            data={"username": username, "password": "not-the-password", "csrf_token": csrf},
        )
        assert answer.status_code == 401
        html = answer.get_data(as_text=True)
        messages.add(re.search(r'id="login-error"[^>]*>([^<]+)<', html).group(1))  # type: ignore[union-attr]
        assert f'value="{username}"' in html  # the username stays in the form
    # Locked now: the right password is refused with the very same words, as is a stranger.
    for name, password in ((username, PASSWORD), ("nobody-here", PASSWORD)):
        answer = client.post(
            f"{CONSOLE}/login", data={"username": name, "password": password, "csrf_token": csrf}
        )
        assert answer.status_code == 401
        messages.add(
            re.search(r'id="login-error"[^>]*>([^<]+)<', answer.get_data(as_text=True)).group(1)
        )  # type: ignore[union-attr]
    assert len(messages) == 1
    (message,) = messages
    assert "锁定 15 分钟" in message and "连续输错 5 次" in message
    (row,) = sql(app, "SELECT locked_until FROM pro_account WHERE username = :u", u=username)
    assert row.locked_until is not None
    outcomes = sql(
        app,
        "SELECT detail->>'reason' AS reason, detail->>'channel' AS channel FROM audit_log "
        "WHERE action = 'auth.login' AND target_id = (SELECT id::text FROM pro_account "
        "WHERE username = :u) ORDER BY id",
        u=username,
    )
    assert [o.reason for o in outcomes] == ["wrong_password"] * 5 + ["locked"]
    assert {o.channel for o in outcomes} == {"console"}


def test_session_cookie_and_the_json_api(site: tuple[Flask, str]) -> None:
    app, _ = site
    username = make_account(app, "3201")
    for base_url, secure in (("http://localhost", False), ("https://localhost", True)):
        client = app.test_client()
        form = client.get(f"{CONSOLE}/login", base_url=base_url)
        pre = form.headers["Set-Cookie"]
        assert "HttpOnly" in pre and "SameSite=Strict" in pre and ("Secure" in pre) is secure
        answer = client.post(
            f"{CONSOLE}/login",
            base_url=base_url,
            data={
                "username": username,
                "password": PASSWORD,
                "csrf_token": csrf_of(form.get_data(as_text=True)),
            },
        )
        assert answer.status_code == 303
        (cookie,) = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("bf_console=")]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console/" in cookie
        assert ("Secure" in cookie) is secure
        token = cookie.split(";")[0].split("=", 1)[1]
        # The cookie alone never signs in to the JSON API (it reads bearer tokens only)...
        client.set_cookie("bf_console", token, path="/")
        assert client.get(f"{API}/me", base_url=base_url).status_code == 401
        assert client.get(f"{API}/quality/coverage", base_url=base_url).status_code == 401


def test_a_post_without_the_csrf_token_is_refused(site: tuple[Flask, str]) -> None:
    app, _ = site
    username = make_account(app, "3201")
    client = signed_in_client(app, username)
    page = client.get(f"{CONSOLE}/").get_data(as_text=True)
    good = csrf_of(page)
    for data in ({}, {"csrf_token": ""}, {"csrf_token": "0" * 64}, {"csrf_token": "令牌"}):
        answer = client.post(f"{CONSOLE}/logout", data=data)
        assert answer.status_code == 403
        assert "安全校验码" in answer.get_data(as_text=True)
    assert client.get(f"{CONSOLE}/").status_code == 200  # still signed in: nothing was done
    refused = client.post(
        f"{CONSOLE}/password",
        data={
            "current_password": PASSWORD,
            "new_password": "another-passw0rd-x",
            "new_password_again": "another-passw0rd-x",
        },
    )
    assert refused.status_code == 403
    assert bearer(app, username)  # the password did not change
    # The token of another browser's session does not do either.
    other = signed_in_client(app, username)
    foreign = csrf_of(other.get(f"{CONSOLE}/").get_data(as_text=True))
    assert foreign != good
    assert client.post(f"{CONSOLE}/logout", data={"csrf_token": foreign}).status_code == 403
    # With its own token the same POST works, and the session ends.
    out = client.post(f"{CONSOLE}/logout", data={"csrf_token": good})
    assert out.status_code == 303
    assert client.get(f"{CONSOLE}/").status_code == 303
    # The sign-in form checks its own token and keeps the username.
    fresh = app.test_client()
    answer = fresh.post(f"{CONSOLE}/login", data={"username": username, "password": PASSWORD})
    assert answer.status_code == 403 and f'value="{username}"' in answer.get_data(as_text=True)
    assert "bf_console=" not in " ".join(answer.headers.getlist("Set-Cookie"))


def test_next_never_leaves_the_console(site: tuple[Flask, str]) -> None:
    app, _ = site
    username = make_account(app, "3201")
    for target, expected in (
        ("https://evil.example/console/", f"{CONSOLE}/"),
        ("//evil.example/console/", f"{CONSOLE}/"),
        ("/api/pro/v1/me", f"{CONSOLE}/"),
        (f"{CONSOLE}/../api/pro/v1/me", f"{CONSOLE}/"),
        (f"{CONSOLE}/logout", f"{CONSOLE}/"),
        (f"{CONSOLE}/registry?q=工行", f"{CONSOLE}/registry?q=工行"),
    ):
        client = app.test_client()
        form = client.get(f"{CONSOLE}/login").get_data(as_text=True)
        answer = client.post(
            f"{CONSOLE}/login",
            data={
                "username": username,
                "password": PASSWORD,
                "csrf_token": csrf_of(form),
                "next": target,
            },
        )
        assert answer.status_code == 303
        assert unquote(answer.headers["Location"]) == expected, target


def test_an_expired_session_returns_to_sign_in_and_keeps_the_form(
    site: tuple[Flask, str], context: Any
) -> None:
    app, base = site
    username = make_account(app, "3201")
    page = context.new_page()
    sign_in(page, base, username)
    page.wait_for_selector("body[data-ready='1']")
    page.goto(f"{base}{CONSOLE}/registry")
    page.fill("#q", "玄武支行")
    page.select_option("#level", "outlet")
    # The session expires while the form is being filled in.
    sql(
        app,
        "UPDATE auth_token SET expires_at = now() - interval '1 second' WHERE subject_id = "
        "(SELECT id FROM pro_account WHERE username = :u)",
        u=username,
    )
    page.click("#search-submit")
    page.wait_for_selector("#notice")
    assert "/console/login" in page.url
    assert "登录已过期" in page.locator("#notice").inner_text()
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#results")
    assert "/console/registry" in page.url
    assert page.input_value("#q") == "玄武支行"
    assert page.input_value("#level") == "outlet"
    # A sign-in form left open past its seed keeps the username it held.
    page.click("#logout")
    page.wait_for_selector("#login-form")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    context.clear_cookies()
    page.click("#login-submit")
    page.wait_for_selector("#login-error")
    assert "页面已过期" in page.locator("#login-error").inner_text()
    assert page.input_value("#username") == username


# --- the dashboard --------------------------------------------------------------------------


def _report_errors(app: Flask) -> None:
    """Open public error reports on outlets in Nanjing and Suzhou, one accepted elsewhere."""
    client = app.test_client()
    for prefix in ("3201", "3205", "3201"):
        fi_code, _ = region_of(app, prefix)
        answer = client.post(
            f"/api/mp/v1/outlets/{fi_code}/error-reports", json={"kind": "phone", "comment": "错"}
        )
        assert answer.status_code == 201, answer.get_json()


def _cells(page: Any, selector: str) -> list[list[str]]:
    return [
        [str(c) for c in row]
        for row in page.eval_on_selector_all(
            f"{selector} tbody tr",
            "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent.trim()))",
        )
    ]


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.1f}%"


MEASURES = ("position", "business_types", "front_photo", "hours", "phone", "confirmed")


@pytest.mark.parametrize(("prefix", "by"), [("3201", "county"), ("32", "city")])
def test_dashboard_figures_are_the_json_apis(
    site: tuple[Flask, str], context: Any, prefix: str, by: str
) -> None:
    app, base = site
    if prefix == "3201":
        _report_errors(app)
    username = make_account(app, prefix)
    headers = bearer(app, username)
    api = app.test_client()
    coverage = api.get(f"{API}/quality/coverage?by={by}&limit=200", headers=headers).get_json()
    ranking = api.get(f"{API}/quality/ranking?limit=200", headers=headers).get_json()
    reports = api.get(f"{API}/error-reports?status=open&limit=200", headers=headers).get_json()
    held = api.get(f"{API}/reviews?status=open&limit=200", headers=headers).get_json()

    page = context.new_page()
    sign_in(page, base, username)
    page.wait_for_selector("body[data-ready='1']")
    total = coverage["total"]
    assert page.inner_text("#kpi-outlets") == str(total["outlets"]) and total["outlets"] > 0
    assert page.inner_text("#kpi-score") == str(total["score"])
    for measure in MEASURES:
        card = page.locator(f".kpi[data-measure='{measure}']")
        assert card.get_attribute("data-count") == str(
            total["confirmed" if measure == "confirmed" else f"with_{measure}"]
        )
        assert card.locator(".kpi-value").inner_text() == _pct(total["shares"][measure])
    expected_regions = [
        [i["name"], str(i["outlets"]), *(_pct(i["shares"][m]) for m in MEASURES), str(i["score"])]
        for i in coverage["items"]
    ]
    assert _cells(page, "#regions") == expected_regions and len(expected_regions) > 1
    expected_ranking = [
        [
            str(i["rank"]),
            i["name"],
            str(i["outlets"]),
            *(_pct(i["shares"][m]) for m in MEASURES),
            str(i["score"]),
            str(i["open_reports"]),
            str(i["verified_reports"]),
        ]
        for i in ranking["items"]
    ]
    assert _cells(page, "#ranking") == expected_ranking and len(expected_ranking) > 1
    assert page.inner_text("#open-reports") == str(len(reports["items"]))
    assert len(reports["items"]) == (2 if prefix == "3201" else 3)
    assert page.inner_text("#held-uploads") == str(len(held["items"]))
    due = page.get_attribute("#monthly-due", "data-due")
    year, month = int(due[:4]), int(due[5:7])  # type: ignore[index]
    calendar = api.get(
        f"{API}/calendar/monthly-report?year={year}&month={month}", headers=headers
    ).get_json()
    assert calendar["items"][0]["due"] == due
    # Both charts drew on their canvas.
    for chart in ("#chart-regions", "#chart-institutions"):
        assert page.locator(f"{chart} canvas").count() >= 1


def test_dashboard_fits_desktop_and_tablet(site: tuple[Flask, str], browser: Any) -> None:
    app, base = site
    username = make_account(app, "32")
    for tablet, width in ((False, 1366), (True, 1024)):
        ctx = desktop_context(browser, tablet=tablet)
        page = ctx.new_page()
        sign_in(page, base, username)
        page.wait_for_selector("body[data-ready='1']")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, (width, scroll)
        box = page.locator("#chart-regions").bounding_box()
        assert box["width"] > 300 and box["height"] >= 300
        ctx.close()


# --- the registry ---------------------------------------------------------------------------


def test_registry_search_and_an_institutions_page_are_the_apis(
    site: tuple[Flask, str], context: Any
) -> None:
    app, base = site
    username = make_account(app, "3201")
    headers = bearer(app, username)
    api = app.test_client()
    page = context.new_page()
    sign_in(page, base, username)
    page.wait_for_selector("body[data-ready='1']")
    page.click("nav.side >> text=机构查询")
    page.fill("#q", "工行")
    page.select_option("#level", "outlet")
    page.click("#search-submit")
    page.wait_for_selector("#results")
    shown = page.eval_on_selector_all(
        "#results tbody tr[data-fi-code]", "r => r.map(e => e.dataset.fiCode)"
    )
    expected = api.get(
        f"{API}/institutions",
        query_string={"q": "工行", "level": "outlet", "limit": 50},
        headers=headers,
    ).get_json()["items"]
    assert shown == [i["fi_code"] for i in expected] and len(shown) > 0

    fi_code = shown[0]
    page.click(f"#results tr[data-fi-code='{fi_code}'] td.code a")
    page.wait_for_selector("#timeline")
    detail = api.get(f"{API}/institutions/{fi_code}", headers=headers).get_json()
    assert page.inner_text("#inst-name") == detail["name"]
    chain = api.get(f"{API}/institutions/{fi_code}/ancestors", headers=headers).get_json()
    crumbs = page.inner_text("#ancestors")
    for link in chain["ancestors"]:
        assert (link["short_name"] or link["name"] or link["fi_code"]) in crumbs
    history = api.get(f"{API}/institutions/{fi_code}/history?limit=100", headers=headers).get_json()
    events = page.eval_on_selector_all("#timeline > li", "l => l.map(e => Number(e.dataset.event))")
    assert events == [e["id"] for e in history["items"]] and events
    provenance = {p["group"]: p for p in detail["profile"]["provenance"]}
    for group, facts in provenance.items():
        cell = page.locator(f"#profile tr[data-group='{group}']")
        if cell.count():
            assert ("已确认" in cell.inner_text()) is facts["confirmed"]

    # The export button gives the API's file for the same filters, audited.
    with page.expect_download() as download:
        page.goto(f"{base}{CONSOLE}/registry?q=工行&level=outlet")
        page.click("#export-csv")
    body = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert all(code in body for code in shown)
    (entry,) = sql(
        app,
        "SELECT detail FROM audit_log WHERE action = 'console.registry.export' "
        "AND actor = 'account:' || (SELECT id FROM pro_account WHERE username = :u)",
        u=username,
    )
    assert entry.detail["filters"] == {"q": "工行", "level": "outlet"}


def test_a_nanjing_account_never_sees_suzhou(site: tuple[Flask, str], context: Any) -> None:
    app, base = site
    username = make_account(app, "3201")
    suzhou_code, suzhou_name = region_of(app, "3205")
    nanjing_code, _ = region_of(app, "3201")
    page = context.new_page()
    sign_in(page, base, username)
    page.wait_for_selector("body[data-ready='1']")
    seen = [page.content()]
    regions = page.eval_on_selector("#regions", "e => e.textContent")
    assert "苏州" not in regions and "玄武区" in regions
    for query in (
        f"q={suzhou_code}",
        f"q={suzhou_name}",
        "level=outlet",
        f"legal_entity={suzhou_code}",
    ):
        page.goto(f"{base}{CONSOLE}/registry?{query}")
        seen.append(page.inner_html("#results"))  # (the search field holds what was asked)
        codes = page.eval_on_selector_all(
            "#results tr[data-fi-code]", "r => r.map(e => e.dataset.fiCode)"
        )
        assert all(c != suzhou_code for c in codes)
    response = page.goto(f"{base}{CONSOLE}/registry?region=3205")
    assert response.status == 403 and "辖区" in page.inner_text("#error")
    outside = page.goto(f"{base}{CONSOLE}/institutions/{suzhou_code}")
    seen.append(page.content())
    refusal = page.inner_text("#error")
    unknown = page.goto(f"{base}{CONSOLE}/institutions/C9999932019999")
    assert outside.status == unknown.status == 404
    assert page.inner_text("#error") == refusal  # the same page as an unknown code
    assert page.goto(f"{base}{CONSOLE}/institutions/{nanjing_code}").status == 200
    seen.append(page.content())
    with page.expect_download() as download:
        page.goto(f"{base}{CONSOLE}/registry?level=outlet")
        page.click("#export-csv")
    seen.append(Path(download.value.path()).read_text(encoding="utf-8-sig"))
    for html in seen:
        assert suzhou_code not in html and suzhou_name not in html
    assert len(re.findall(r",3201\d\d,", seen[-1])) > 10  # Nanjing's outlets are in it
    refused = sql(
        app,
        "SELECT count(*) AS n FROM audit_log WHERE action = 'console.institution' "
        "AND target_id = :c AND outcome = 'denied'",
        c=suzhou_code,
    )
    assert refused[0].n == 1


def test_hostile_names_are_text_on_every_page(site: tuple[Flask, str], context: Any) -> None:
    app, base = site
    username = make_account(app, "3201")
    (outlet,) = sql(app, "SELECT fi_code FROM institution WHERE name = :n", n=HOSTILE_OUTLET)
    page = context.new_page()
    sign_in(page, base, username)
    page.wait_for_selector("body[data-ready='1']")
    assert HOSTILE_ENTITY in page.inner_text("#ranking")
    page.hover("#chart-institutions canvas")  # tooltips are drawn, never markup
    page.goto(f"{base}{CONSOLE}/registry?q={outlet.fi_code}")
    assert page.inner_text(f"#results tr[data-fi-code='{outlet.fi_code}'] td.name").startswith(
        HOSTILE_OUTLET
    )
    page.goto(f"{base}{CONSOLE}/institutions/{outlet.fi_code}")
    assert page.inner_text("#inst-name") == HOSTILE_OUTLET
    assert HOSTILE_ENTITY in page.inner_text("#record")
    for url in (
        f"{CONSOLE}/",
        f"{CONSOLE}/registry?q={outlet.fi_code}",
        f"{CONSOLE}/institutions/{outlet.fi_code}",
    ):
        page.goto(f"{base}{url}")
        assert page.evaluate("document.body.dataset.owned") is None
        assert page.locator("main img").count() == 0
        assert (
            page.evaluate("document.querySelectorAll('script:not([src]):not([type])').length") == 0
        )


def test_every_page_has_the_security_headers(site: tuple[Flask, str]) -> None:
    app, _ = site
    username = make_account(app, "3201")
    client = signed_in_client(app, username)
    fi_code, _ = region_of(app, "3201")
    anonymous = app.test_client()
    answers = [
        anonymous.get(f"{CONSOLE}/login"),
        client.get(f"{CONSOLE}/"),
        client.get(f"{CONSOLE}/registry?q=工行"),
        client.get(f"{CONSOLE}/institutions/{fi_code}"),
        client.get(f"{CONSOLE}/institutions/C9999932019999"),
        client.get(f"{CONSOLE}/password"),
        client.post(f"{CONSOLE}/logout"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 404, 200, 403]
    for answer in answers:
        csp = answer.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["Referrer-Policy"] == "same-origin"
        assert answer.headers["Cache-Control"] == "no-store"
        html = answer.get_data(as_text=True)
        assert " style=" not in html and "<style" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", html)
    echarts = client.get(f"{CONSOLE}/static/vendor/echarts-6.1.0/echarts.min.js")
    assert echarts.status_code == 200 and b"echarts" in echarts.data[:2000]


# --- the map --------------------------------------------------------------------------------

JIANGSU_BOX = {"min_lat": 30.5, "min_lng": 116.0, "max_lat": 35.5, "max_lng": 122.5}


def test_the_map_is_the_apis_and_stays_in_the_jurisdiction(site: tuple[Flask, str]) -> None:
    app, _ = site
    username = make_account(app, "3201")
    headers = bearer(app, username)
    api = app.test_client()
    console = signed_in_client(app, username)
    nanjing = {
        r.fi_code
        for r in sql(
            app,
            "SELECT i.fi_code FROM institution i JOIN outlet_profile p ON p.institution_id = i.id "
            "WHERE i.region_code LIKE '3201%' AND i.status = 'active' AND p.position IS NOT NULL",
        )
    }
    coverage = api.get(f"{API}/quality/coverage?by=county", headers=headers).get_json()["total"]
    assert coverage["with_position"] == len(nanjing) > 20
    for zoom in (7, 10, 13):
        query = {**JIANGSU_BOX, "zoom": zoom}
        answer = api.get(f"{API}/quality/map", query_string=query, headers=headers)
        assert answer.status_code == 200, answer.get_json()
        mine = console.get(f"{CONSOLE}/map.json", query_string=query)
        assert mine.status_code == 200 and mine.get_json() == answer.get_json()
        items = answer.get_json()["items"]
        assert sum(i["outlets"] for i in items) == len(nanjing)  # Suzhou's are not counted
        if zoom == 13:  # single outlets: exactly Nanjing's, and their mean is the area's score
            assert answer.get_json()["cell_deg"] is None
            assert {i["fi_code"] for i in items} == nanjing
            mean = sum(i["score"] for i in items) / len(items)
            assert abs(mean - coverage["score"]) <= 0.1
        else:
            assert answer.get_json()["cell_deg"] > 0 and len(items) < len(nanjing)
    # In GCJ-02 (Tencent or Amap tiles) the same outlets come back shifted, as core.coords says.
    wgs = api.get(f"{API}/quality/map", query_string={**JIANGSU_BOX, "zoom": 13}, headers=headers)
    gcj = api.get(
        f"{API}/quality/map",
        query_string={**JIANGSU_BOX, "zoom": 13, "coord": "gcj02"},
        headers=headers,
    )
    first_wgs, first_gcj = wgs.get_json()["items"][0], gcj.get_json()["items"][0]
    assert first_wgs["fi_code"] == first_gcj["fi_code"]
    assert 0.001 < abs(first_gcj["lng"] - first_wgs["lng"]) < 0.01
    # A script's request without a session is a 401, a bad box a 422 naming the field.
    assert app.test_client().get(f"{CONSOLE}/map.json", query_string=query).status_code == 401
    bad = console.get(f"{CONSOLE}/map.json", query_string={**JIANGSU_BOX, "max_lat": 29, "zoom": 9})
    assert bad.status_code == 422 and "max_lat" in bad.get_json()["errors"]


def test_the_dashboard_map_in_the_browser(site: tuple[Flask, str], context: Any) -> None:
    app, base = site
    username = make_account(app, "3201")
    (hostile,) = sql(
        app,
        "SELECT i.fi_code, ST_Y(p.position::geometry) AS lat, ST_X(p.position::geometry) AS lng "
        "FROM institution i JOIN outlet_profile p ON p.institution_id = i.id WHERE i.name = :n",
        n=HOSTILE_OUTLET,
    )
    page = context.new_page()
    sign_in(page, base, username)
    page.wait_for_selector("#outlet-map[data-points]")
    (located,) = sql(
        app,
        "SELECT count(*) AS n FROM institution i JOIN outlet_profile p ON p.institution_id = i.id "
        "WHERE i.region_code LIKE '3201%' AND i.status = 'active' AND p.position IS NOT NULL",
    )
    assert page.get_attribute("#outlet-map", "data-total") == str(located.n)
    assert page.locator("#outlet-map .leaflet-marker-icon.cell").count() >= 1
    # Zoomed in on the outlet with the hostile name: single outlets, its name as text.
    page.evaluate(f"window.consoleMap.setView([{hostile.lat}, {hostile.lng}], 16)")
    page.wait_for_selector("#outlet-map[data-cell='']")
    page.wait_for_selector("#outlet-map path.outlet")
    # Its marker may sit under another at the same address: open its tooltip by its text.
    opened = page.evaluate(
        """name => {
            let hit = false;
            window.consoleMap.eachLayer(layer => {
                const tip = layer.getTooltip && layer.getTooltip();
                if (!hit && tip && tip.getContent().textContent.indexOf(name) === 0) {
                    layer.openTooltip();
                    hit = true;
                }
            });
            return hit;
        }""",
        HOSTILE_OUTLET,
    )
    assert opened, "the hostile outlet's marker was not found"
    assert HOSTILE_OUTLET in page.locator(".leaflet-tooltip").last.inner_text()
    assert page.locator(".leaflet-tooltip img, .leaflet-tooltip script").count() == 0
    assert page.evaluate("document.body.dataset.owned") is None


def test_an_institution_account_sees_only_its_own_legal_entity(
    site: tuple[Flask, str], context: Any
) -> None:
    app, base = site
    (bank,) = sql(
        app,
        "SELECT legal_entity_code AS code, count(*) AS n FROM institution "
        "WHERE region_code LIKE '32%' AND name NOT LIKE '%<%' AND legal_entity_code <> "
        "(SELECT legal_entity_code FROM institution WHERE name = :n) "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
        n=HOSTILE_OUTLET,
    )
    username = make_account(app, "32", role="institution_admin", legal_entity=bank.code)
    page = context.new_page()
    sign_in(page, base, username)
    page.wait_for_selector("#outlet-map[data-points]")
    keys = page.eval_on_selector_all("#ranking tbody tr", "r => r.map(e => e.dataset.key)")
    assert keys == [bank.code]
    assert HOSTILE_ENTITY not in page.content()
    page.goto(f"{base}{CONSOLE}/registry?level=outlet")
    codes = page.eval_on_selector_all(
        "#results tr[data-fi-code]", "r => r.map(e => e.dataset.fiCode)"
    )
    owners = {
        r.legal_entity_code
        for r in sql(
            app,
            "SELECT legal_entity_code FROM institution WHERE fi_code = ANY(:codes)",
            codes=codes,
        )
    }
    assert codes and owners == {bank.code}
    response = page.goto(f"{base}{CONSOLE}/registry?legal_entity=C1000000000000")
    assert response.status == 403
    (other,) = sql(
        app,
        "SELECT fi_code FROM institution WHERE legal_entity_code <> :b AND region_code "
        "LIKE '32%' ORDER BY fi_code LIMIT 1",
        b=bank.code,
    )
    assert page.goto(f"{base}{CONSOLE}/institutions/{other.fi_code}").status == 404


def test_the_screenshot_command_shows_the_console_and_disables_its_account(
    site: tuple[Flask, str], database_url: str, tmp_path: Path
) -> None:
    """`branchfinder screenshots --only console` against a served app, in its own process
    (Playwright's sync API runs one instance per thread: this session's browser is busy)."""
    import os
    import subprocess
    import sys

    from PIL import Image

    _, base = site
    command = [sys.executable, "-m", "backend.cli", "screenshots", "--only", "console"]
    command += ["--base-url", base, "--out", str(tmp_path), "--database-url", database_url]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=180, env={**os.environ}, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for view in ("login", "password", "dashboard", "dashboard-tablet", "registry", "institution"):
        with Image.open(tmp_path / f"console-{view}.png") as shot:
            assert shot.width == (1024 if view == "dashboard-tablet" else 1366)
            assert shot.height >= 768
    (account,) = sql(
        site[0],
        "SELECT disabled_at, must_change_password FROM pro_account WHERE username LIKE "
        "'screenshots-%'",
    )
    assert account.disabled_at is not None and account.must_change_password is False
    live = sql(
        site[0],
        "SELECT count(*) AS n FROM auth_token t JOIN pro_account a ON a.id = t.subject_id "
        "WHERE a.username LIKE 'screenshots-%' AND t.revoked_at IS NULL AND t.expires_at > now()",
    )
    assert live[0].n == 0


def test_the_map_sends_an_expired_session_back_to_sign_in(
    site: tuple[Flask, str], context: Any
) -> None:
    app, base = site
    username = make_account(app, "3201")
    page = context.new_page()
    sign_in(page, base, username)
    page.wait_for_selector("#outlet-map[data-points]")
    sql(
        app,
        "UPDATE auth_token SET revoked_at = now() WHERE subject_id = "
        "(SELECT id FROM pro_account WHERE username = :u)",
        u=username,
    )
    page.evaluate("window.consoleMap.setZoom(window.consoleMap.getZoom() + 1)")
    page.wait_for_selector("#login-form")
    assert "登录已过期" in page.inner_text("#notice")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#outlet-map[data-points]")  # back on the dashboard


def test_an_outlets_published_photos_are_the_public_finders(
    site: tuple[Flask, str], context: Any
) -> None:
    app, base = site
    fi_code, _ = region_of(app, "320102")
    for n, (status, front) in enumerate(
        (("published", True), ("published", False), ("flagged", False))
    ):
        sql(
            app,
            "INSERT INTO outlet_photo (institution_id, key, status, is_front, width, height, "
            "source_format, uploaded_by) SELECT id, :k, :s, :f, 1600, 1200, 'jpeg', 'staff:1' "
            "FROM institution WHERE fi_code = :c",
            k=f"{n:064x}",
            s=status,
            f=front,
            c=fi_code,
        )
    public = app.test_client().get(f"/api/mp/v1/outlets/{fi_code}").get_json()["photos"]
    assert len(public) == 2
    username = make_account(app, "3201")
    page = context.new_page()
    sign_in(page, base, username)
    page.goto(f"{base}{CONSOLE}/institutions/{fi_code}")
    shown = page.eval_on_selector_all("#photos img", "l => l.map(e => e.getAttribute('src'))")
    assert shown == [p["thumbnail_url"] for p in public]
    assert page.eval_on_selector("#photos img", "e => e.alt") == "门面照片"
    assert "1 张待审核" in page.inner_text("#profile tr[data-group='photos']")
