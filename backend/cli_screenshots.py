"""`branchfinder screenshots`: the pages as a person sees them, saved as PNG files."""

from __future__ import annotations

from pathlib import Path

import click

VIEWS = ("list", "detail", "map")


@click.command("screenshots")
@click.option(
    "--base-url",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="a running server (./run.sh) with data loaded",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("docs/screenshots"),
    show_default=True,
    help="where the PNG files go",
)
def screenshots(base_url: str, out_dir: Path) -> None:
    """Save the H5 finder's list, detail and map views at 375×812, located at 新街口
    (h5-list.png, h5-detail.png, h5-map.png), with Debian's chromium."""
    from playwright.sync_api import Error, sync_playwright

    from backend.browser import launch, phone_context

    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = phone_context(browser).new_page()
            page.goto(f"{base_url.rstrip('/')}/m/")
            page.wait_for_selector("body[data-ready='1']", timeout=20_000)
            page.screenshot(path=out_dir / "h5-list.png")
            page.click("#list li a")
            page.wait_for_selector("#d-name:not(:empty)")
            page.screenshot(path=out_dir / "h5-detail.png", full_page=True)
            page.click("#tab-map")
            page.wait_for_selector("#map[data-total]", timeout=20_000)
            page.wait_for_timeout(300)  # the markers' last frame
            page.screenshot(path=out_dir / "h5-map.png")
            browser.close()
    except Error as error:
        raise click.ClickException(f"{error.message.splitlines()[0]} (is {base_url} up?)") from None
    for view in VIEWS:
        click.echo(out_dir / f"h5-{view}.png")
