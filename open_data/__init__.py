"""Open data (开放数据): the public outlet data in bulk, and a feed of its changes.

A library with no Flask in it: `records` is what one outlet's public record is (built
from the finder's own hits, `geo.search.visible_outlets`), `export` writes the daily
full files and their manifest, `feed` reads the change feed from `change_event`.
The HTTP front end is `open_api/` (prefix /api/open/v1); the CLI is
`branchfinder open export`.
"""
