"""The H5 page inside WeChat: the JS-SDK config signed with the official account's
jsapi_ticket (through wechatpy, from a fake WeChat on loopback), and wx.openLocation
called with the outlet's GCJ-02 position."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine

from backend.app import create_app
from backend.browser import phone_context
from core.coords import convert, distance_m
from tests.conftest import TestConfig, load_generated, served, truncate_all
from tests.fake_wechat import APPID, JSAPI_TICKET, SECRET, FakeWeChat, fake_wechat

WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x18003231) NetType/WIFI"
)
# Stands in for the JS-SDK, which needs WeChat's own client around the page.
WX_STUB = """
window.wxCalls = [];
window.wx = {
  config: function (c) { window.wxCalls.push(['config', c]); },
  ready: function (f) { setTimeout(f, 0); },
  error: function () {},
  openLocation: function (o) { window.wxCalls.push(['openLocation', o]); },
};
"""


@pytest.fixture(scope="module")
def wechat() -> Iterator[FakeWeChat]:
    with fake_wechat() as fake:
        yield fake


@pytest.fixture(scope="module")
def signed_app(
    engine: Engine, database_url: str, wechat: FakeWeChat, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    load_generated(engine, tmp_path_factory.mktemp("wxjs"), outlets=300, seed=4)
    config = replace(
        TestConfig(database_url=database_url),
        wechat_appid=APPID,
        wechat_secret=SECRET,
        wechat_api_base_url=wechat.base_url,
    )
    app = create_app(config)
    yield app
    app.extensions["branchfinder.db"].dispose()
    truncate_all(engine)


def expected_signature(config: dict[str, Any], url: str) -> str:
    """WeChat's documented signature: sha1 of the four fields in this order."""
    text = (
        f"jsapi_ticket={JSAPI_TICKET}&noncestr={config['nonceStr']}"
        f"&timestamp={config['timestamp']}&url={url}"
    )
    return hashlib.sha1(text.encode()).hexdigest()


def test_the_config_is_signed_with_the_ticket_fetched_once(
    signed_app: Flask, wechat: FakeWeChat
) -> None:
    client = signed_app.test_client()
    url = "http://localhost/m/?o=C1010232000156"
    configs = [
        client.get("/api/mp/v1/wechat/js-config", query_string={"url": url}).get_json()
        for _ in range(3)
    ]
    for config in configs:
        assert config["appId"] == APPID and config["jsApiList"] == ["openLocation"]
        assert config["signature"] == expected_signature(config, url)
    assert len({c["nonceStr"] for c in configs}) == 3
    tickets = [p for p in wechat.requests if p.startswith("/cgi-bin/ticket/getticket")]
    assert len(tickets) == 1  # held for its two hours, not fetched per request
    assert all("access_token=fake-access-token" in p for p in tickets)


@pytest.mark.parametrize(
    "url",
    ["http://evil.example.com/m/", "http://localhost/m/#detail", "javascript:alert(1)", ""],
)
def test_only_a_page_of_this_site_is_signed(signed_app: Flask, url: str) -> None:
    answer = signed_app.test_client().get("/api/mp/v1/wechat/js-config", query_string={"url": url})
    assert answer.status_code == 422
    assert "url" in answer.get_json()["errors"]["query"]


def test_not_configured_or_unreachable_is_a_clear_503(
    engine: Engine, database_url: str, signed_app: Flask
) -> None:
    bare = create_app(TestConfig(database_url=database_url))
    broken = create_app(
        replace(
            TestConfig(database_url=database_url),
            wechat_appid=APPID,
            wechat_secret=SECRET,
            wechat_api_base_url="http://127.0.0.1:9/",  # nothing listens there
            wechat_api_timeout_s=0.5,
        )
    )
    try:
        for app in (bare, broken):
            answer = app.test_client().get(
                "/api/mp/v1/wechat/js-config", query_string={"url": "http://localhost/m/"}
            )
            assert answer.status_code == 503
            assert (
                "微信" in answer.get_json()["message"] or "公众号" in answer.get_json()["message"]
            )
    finally:
        for app in (bare, broken):
            app.extensions["branchfinder.db"].dispose()


def test_inside_wechat_the_page_opens_the_map_app_at_the_outlet(
    signed_app: Flask, browser: Any
) -> None:
    with served(signed_app) as base:
        context = phone_context(browser, user_agent=WECHAT_UA)
        context.add_init_script(WX_STUB)
        page = context.new_page()
        try:
            page.goto(f"{base}/m/")
            page.wait_for_selector("body[data-ready='1']", timeout=20_000)
            fi_code = page.locator("#list li").first.get_attribute("data-fi-code")
            page.click("#list li a")
            page.wait_for_selector("#d-name:not(:empty)")
            assert page.is_visible("#nav-wechat")
            signed_url = page.url.split("#")[0]
            page.click("#nav-wechat")
            page.wait_for_function("() => window.wxCalls.some(c => c[0] === 'openLocation')")
            calls = page.evaluate("() => window.wxCalls")
        finally:
            context.close()
    config = next(c[1] for c in calls if c[0] == "config")
    assert f"o={fi_code}" in signed_url
    assert config["signature"] == expected_signature(config, signed_url)
    where = next(c[1] for c in calls if c[0] == "openLocation")
    stored = signed_app.test_client().get(f"/api/mp/v1/outlets/{fi_code}?coord=wgs84").get_json()
    want = convert(stored["position"]["lat"], stored["position"]["lng"], "wgs84", "gcj02")
    assert distance_m(want[0], want[1], where["latitude"], where["longitude"]) < 1.0
    assert where["name"] == stored["name"]


def test_outside_wechat_there_is_no_wechat_button(signed_app: Flask, browser: Any) -> None:
    with served(signed_app) as base:
        context = phone_context(browser)
        page = context.new_page()
        try:
            page.goto(f"{base}/m/")
            page.wait_for_selector("body[data-ready='1']", timeout=20_000)
            page.click("#list li a")
            page.wait_for_selector("#d-name:not(:empty)")
            assert not page.is_visible("#nav-wechat")
            assert page.is_visible("#nav-amap")
        finally:
            context.close()
