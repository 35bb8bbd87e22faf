"""The configured map tiles as the pages' Content-Security-Policy must allow them."""

from __future__ import annotations

from urllib.parse import urlsplit

from core.config import Config


def tile_origin(config: Config) -> str:
    """The origin of `BRANCHFINDER_MAP_TILES_URL` for `img-src` ("" without tiles); a
    `{s}` sub-domain template becomes a wildcard."""
    if not config.map_tiles_url:
        return ""
    parts = urlsplit(config.map_tiles_url.replace("{s}", "a"))
    host = parts.netloc.replace("a.", "*.", 1) if "{s}" in config.map_tiles_url else parts.netloc
    return f"{parts.scheme}://{host}"


def content_security_policy(config: Config) -> str:
    """The pages' policy (the H5 finder's and the console's): their own scripts and styles
    only, none inline; images from here, data URLs and the tile server; never framed."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data: {tile_origin(config)}".rstrip()
        + "; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    )
