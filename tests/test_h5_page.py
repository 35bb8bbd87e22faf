"""The H5 finder (/m/) in a real browser (Playwright over Debian's chromium), located at
新街口: its list, filters, search, detail, navigation links, fallback place choice, error
report and map agree with the public API they are a client of."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from backend.browser import XINJIEKOU_GCJ02, phone_context
from core.coords import convert, distance_m
from tests.conftest import app_on, load_generated, served

API = "/api/mp/v1"
WGS = convert(*XINJIEKOU_GCJ02, "gcj02", "wgs84")
HOSTILE = '<img src=x onerror="document.body.dataset.owned=1">银行<script>x=1</script>'


@pytest.fixture(scope="module")
def site(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Flask, str]]:
    load_generated(engine, tmp_path_factory.mktemp("h5"), outlets=600, seed=21)
    with app_on(engine, database_url) as app, served(app) as base:
        yield app, base


@pytest.fixture
def page(site: tuple[Flask, str], browser: Any) -> Iterator[Any]:
    context = phone_context(browser)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, errors  # no script error on any page a test opened


def api(site: tuple[Flask, str]) -> FlaskClient:
    return site[0].test_client()


def nearby(site: tuple[Flask, str], **params: Any) -> list[str]:
    query = {"lat": f"{WGS[0]:.6f}", "lng": f"{WGS[1]:.6f}", "coord": "wgs84", "limit": 20}
    query.update(radius_m=5000, **params)
    answer = api(site).get(f"{API}/outlets/nearby", query_string=query)
    assert answer.status_code == 200, answer.get_json()
    return [item["fi_code"] for item in answer.get_json()["items"]]


def open_finder(page: Any, base: str, query: str = "") -> None:
    page.goto(f"{base}/m/{query}")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)


def lists_drawn(page: Any) -> int:
    """How many times the page has drawn its list (it counts them in body[data-listed])."""
    return int(page.evaluate("() => Number(document.body.dataset.listed || 0)"))


def next_list(page: Any, before: int) -> None:
    """Wait until the page has drawn its list again after `before` drawings."""
    page.wait_for_function(f"() => Number(document.body.dataset.listed || 0) > {before}")


def listed(page: Any) -> list[str]:
    return [
        str(code)
        for code in page.eval_on_selector_all("#list li", "l => l.map(e => e.dataset.fiCode)")
    ]


def test_the_list_is_the_apis_nearest_outlets(site: tuple[Flask, str], page: Any) -> None:
    open_finder(page, site[1])
    expected = nearby(site)
    assert len(expected) >= 5 and listed(page) == expected
    first = page.locator("#list li").first
    assert first.locator(".distance").inner_text().endswith(("米", "公里"))
    assert first.locator(".badge").inner_text() in ("营业中", "已下班", "营业时间未知")
    assert "lat=" in page.url  # the place is kept in the URL, to share


def test_the_open_now_filter(site: tuple[Flask, str], page: Any) -> None:
    open_finder(page, site[1])
    drawn = lists_drawn(page)
    page.check("#f-open")
    page.wait_for_function("() => location.search.includes('open=1')")
    next_list(page, drawn)
    assert listed(page) == nearby(site, open_now="true")
    badges = page.locator("#list .badge").all_inner_texts()
    assert all(b == "营业中" for b in badges)
    shared = page.url
    page.goto(shared)  # the shared link opens with the filter on
    page.wait_for_selector("body[data-ready='1']")
    assert page.is_checked("#f-open") and listed(page) == nearby(site, open_now="true")


def test_a_search_with_a_typo_finds_the_outlet(site: tuple[Flask, str], page: Any) -> None:
    name = (
        api(site)
        .get(f"{API}/outlets/nearby?lat={WGS[0]}&lng={WGS[1]}&coord=wgs84")
        .get_json()["items"][0]["name"]
    )
    typo = name[:-3] + "支航" if name.endswith("支行") else name[:-1] + "航"
    open_finder(page, site[1])
    page.fill("#q", typo)
    page.wait_for_selector("#suggest li")
    assert name in page.locator("#suggest li").all_inner_texts()  # suggested while typing
    drawn = lists_drawn(page)
    page.press("#q", "Enter")
    next_list(page, drawn)
    assert name in page.locator("#list .name").all_inner_texts()


def test_the_detail_and_its_navigation_links(site: tuple[Flask, str], page: Any) -> None:
    open_finder(page, site[1])
    fi_code = listed(page)[0]
    page.click("#list li a")
    page.wait_for_selector("#d-name:not(:empty)")
    stored = api(site).get(f"{API}/outlets/{fi_code}?coord=wgs84").get_json()
    assert page.inner_text("#d-name") == stored["name"]
    assert f"o={fi_code}" in page.url
    assert len(page.locator("#d-hours tr").all()) == 7
    lat, lng = stored["position"]["lat"], stored["position"]["lng"]
    tencent = parse_qs(urlsplit(page.get_attribute("#nav-tencent", "href")).query)["marker"][0]
    t = tuple(map(float, tencent.split(";")[0].removeprefix("coord:").split(",")))
    amap = parse_qs(urlsplit(page.get_attribute("#nav-amap", "href")).query)["position"][0]
    a_lng, a_lat = map(float, amap.split(","))
    baidu = parse_qs(urlsplit(page.get_attribute("#nav-baidu", "href")).query)["location"][0]
    b = tuple(map(float, baidu.split(",")))
    for got, system in ((t, "gcj02"), ((a_lat, a_lng), "gcj02"), (b, "bd09")):
        want = convert(lat, lng, "wgs84", system)
        assert distance_m(want[0], want[1], got[0], got[1]) < 1.0, system
    if stored["phone"]:
        assert page.get_attribute("#d-phone", "href").startswith("tel:")


def test_a_refused_position_falls_back_to_a_district(site: tuple[Flask, str], browser: Any) -> None:
    context = phone_context(browser, located=False)  # no permission: geolocation fails
    page = context.new_page()
    try:
        open_finder(page, site[1])
        assert page.is_visible("#where") and "位置" in page.inner_text("#where")
        page.select_option("#city", "320100")
        page.wait_for_selector("#district option[value='320102']", state="attached")
        drawn = lists_drawn(page)
        page.select_option("#district", "320102")
        page.wait_for_function("() => location.search.includes('region=320102')")
        next_list(page, drawn)
        codes = listed(page)
        assert codes
        regions = {
            api(site).get(f"{API}/outlets/{code}").get_json()["region"]["code"] for code in codes
        }
        assert regions == {"320102"}
    finally:
        context.close()


def test_an_error_report_is_sent_and_thanked(
    site: tuple[Flask, str], page: Any, engine: Engine
) -> None:
    open_finder(page, site[1])
    fi_code = listed(page)[0]
    page.click("#list li a")
    page.wait_for_selector("#d-name:not(:empty)")
    page.click("#report summary")
    page.select_option("#r-kind", "phone")
    page.fill("#r-comment", "电话打不通，测试")
    page.click("#report-form button[type=submit]")
    page.wait_for_function("() => document.getElementById('r-result').textContent.length > 0")
    assert "感谢" in page.inner_text("#r-result")
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT kind, comment FROM error_report WHERE fi_code = :c"),
            {"c": fi_code},
        ).all()
    assert ("phone", "电话打不通，测试") in [tuple(row) for row in stored]


def test_the_map_clusters_add_up_to_the_viewport_total(site: tuple[Flask, str], page: Any) -> None:
    open_finder(page, site[1], "?view=map&z=7")  # the province: clusters
    page.wait_for_selector("#map[data-total]", timeout=20_000)
    assert page.get_attribute("#map", "data-mode") == "clusters"
    total = int(page.get_attribute("#map", "data-total"))
    counts = [int(c) for c in page.locator(".cluster").all_inner_texts()]
    assert total > 0 and sum(counts) == total == int(page.get_attribute("#map", "data-clustered"))


def test_names_are_text_and_the_page_is_locked_down(
    site: tuple[Flask, str], page: Any, engine: Engine
) -> None:
    fi_code = nearby(site)[0]
    with engine.begin() as conn:
        old = conn.execute(
            text("UPDATE institution SET name = :n WHERE fi_code = :c RETURNING name"),
            {"n": HOSTILE, "c": fi_code},
        ).scalar_one()
    try:
        response = page.goto(f"{site[1]}/m/")
        headers = response.headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY" and headers["referrer-policy"] == "no-referrer"
        page.wait_for_selector("body[data-ready='1']")
        assert HOSTILE in page.locator("#list .name").all_inner_texts()
        assert page.evaluate("() => document.body.dataset.owned") is None
        assert page.locator("#list img, #list script").count() == 0
    finally:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE institution SET name = :n WHERE fi_code = :c"),
                {"n": old, "c": fi_code},
            )


def test_the_map_shows_outlets_close_up_as_the_list_does(
    site: tuple[Flask, str], page: Any
) -> None:
    open_finder(page, site[1], "?view=map&z=16")
    page.wait_for_selector("#map[data-total]", timeout=20_000)
    assert page.get_attribute("#map", "data-mode") == "outlets"
    pins = int(page.get_attribute("#map", "data-pins"))
    assert 0 < pins <= int(page.get_attribute("#map", "data-total"))  # an ATM shares its pin
    assert page.locator(".leaflet-interactive").count() == pins


def test_the_first_screen_is_light_and_talks_to_this_backend_only(
    site: tuple[Flask, str], page: Any
) -> None:
    """Under 150 KB of script and style before the map library, nothing from another host
    (the page sends the position to this backend alone), and Leaflet only with the map."""
    sizes: dict[str, int] = {}
    hosts: set[str] = set()

    def seen(response: Any) -> None:
        url = urlsplit(response.url)
        hosts.add(url.netloc)
        if url.path.endswith((".js", ".css")):
            sizes[url.path] = len(response.body())

    page.on("response", seen)
    open_finder(page, site[1])
    page.wait_for_load_state("networkidle")
    assert hosts == {urlsplit(site[1]).netloc}
    assert not any("leaflet" in path for path in sizes)
    assert 0 < sum(sizes.values()) < 150_000, sizes
    page.click("#tab-map")
    page.wait_for_selector("#map[data-total]", timeout=20_000)
    assert any("leaflet" in path for path in sizes)
    assert hosts == {urlsplit(site[1]).netloc}


@pytest.mark.parametrize(
    ("typed", "entity_short"),
    [("宁行新街口", "南银"), ("gonghang xinjiekou", "工行"), ("中国建没新街扣", "建行")],
)
def test_the_search_box_reads_what_the_chat_bot_reads(
    site: tuple[Flask, str], page: Any, typed: str, entity_short: str
) -> None:
    """Aliases, pinyin and typos as the bot reads them (/api/bot/v1/read): the results are
    that institution's outlets, and a corrected text says what it was read as."""
    reading = api(site).get("/api/bot/v1/read", query_string={"text": typed}).get_json()
    assert [i["short_name"] for i in reading["institutions"]] == [entity_short]
    code = reading["institutions"][0]["fi_code"]
    open_finder(page, site[1])
    page.fill("#q", typed)
    drawn = lists_drawn(page)
    page.press("#q", "Enter")
    next_list(page, drawn)
    found = listed(page)
    assert found
    for fi_code in found:
        assert api(site).get(f"{API}/outlets/{fi_code}").get_json()["legal_entity_code"] == code
    if reading["corrections"]:
        assert page.is_visible("#didyoumean")
        assert reading["corrections"][0]["meant"] in page.inner_text("#didyoumean")


def test_accessible_labelled_and_readable_at_twice_the_text_size(
    site: tuple[Flask, str], page: Any
) -> None:
    """Every control has a label, and at 200% text size nothing is wider than the phone."""
    open_finder(page, site[1])
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
            .map(e => e.id)"""
    )
    assert unlabelled == []
    buttons = page.evaluate(
        "() => [...document.querySelectorAll('button')].filter(b => !b.textContent.trim()).length"
    )
    assert buttons == 0
    page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    for view in ("list", "detail"):
        if view == "detail":
            page.click("#list li a")
            page.wait_for_selector("#d-name:not(:empty)")
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= 375, (view, wide)


def test_a_point_picked_on_the_map_lists_its_nearest(site: tuple[Flask, str], browser: Any) -> None:
    """Without a shared position, a tap on the map (no tiles: WGS-84) is where to search."""
    context = phone_context(browser, located=False)
    page = context.new_page()
    try:
        open_finder(page, site[1], f"?view=map&z=15&lat={WGS[0]:.6f}&lng={WGS[1]:.6f}")
        page.wait_for_selector("#map[data-total]", timeout=20_000)
        box = page.locator("#map").bounding_box()
        # a spot away from the controls, then the popup's button
        page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7)
        drawn = lists_drawn(page)
        page.click("#pick-here")
        next_list(page, drawn)
        params = parse_qs(urlsplit(page.url).query)
        lat, lng = float(params["lat"][0]), float(params["lng"][0])
        assert 0 < distance_m(lat, lng, WGS[0], WGS[1]) < 3000
        query = {"lat": f"{lat:.6f}", "lng": f"{lng:.6f}", "coord": "wgs84", "limit": 20}
        expected = api(site).get(f"{API}/outlets/nearby", query_string={**query, "radius_m": 5000})
        assert listed(page) == [i["fi_code"] for i in expected.get_json()["items"]]
    finally:
        context.close()
