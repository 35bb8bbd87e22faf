"""Debian's chromium driven by Playwright: for the page tests and the screenshot command.

Playwright is pointed at the system's browser (BRANCHFINDER_CHROMIUM, which the set-up
installs), so nothing is downloaded. The position the pages are shown at is 新街口, given
in GCJ-02 as the issue states it and handed to the browser as the WGS-84 a phone's
geolocation reports.
"""

from __future__ import annotations

import os
from typing import Any

from core.coords import convert

CHROMIUM = "/usr/bin/chromium"
XINJIEKOU_GCJ02 = (32.0415, 118.7840)
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1366, "height": 768}
TABLET = {"width": 1024, "height": 768}


def chromium_path() -> str:
    return os.environ.get("BRANCHFINDER_CHROMIUM") or CHROMIUM


def launch(playwright: Any) -> Any:
    """A headless chromium; --no-sandbox because the set-up and CI run as root."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])


def phone_context(browser: Any, *, located: bool = True, **options: Any) -> Any:
    """A 375×812 phone in Chinese, its geolocation at 新街口 (or refused)."""
    lat, lng = convert(*XINJIEKOU_GCJ02, "gcj02", "wgs84")
    if located:
        options.update(geolocation={"latitude": lat, "longitude": lng}, permissions=["geolocation"])
    return browser.new_context(
        viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", **options
    )


def desktop_context(browser: Any, *, tablet: bool = False, **options: Any) -> Any:
    """A 1366×768 desktop (or a 1024×768 tablet held sideways) in Chinese, for the console."""
    return browser.new_context(
        viewport=TABLET if tablet else DESKTOP,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        **options,
    )
