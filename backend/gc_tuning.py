"""The garbage collector's settings for a serving process.

CPython's cyclic collector runs its youngest generation every 700 new container objects
and, every hundred of those, a full collection that walks every object the process holds:
the app, its libraries and caches. A change-feed page builds a thousand records, and one
page in ten or twenty paid for a full walk, 40 ms on top of its 15 (bench/open_data.py:
p95 52 ms with the defaults, 14 ms with these settings, in one run). So, as large Python
web services do: what start-up made is frozen out of the generations (it lives as long
as the worker anyway), and the youngest generation is collected every 10,000 objects.
Reference counting still frees everything that is not in a cycle at once; only cycles
wait a little longer.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 10_000


def tune_for_serving() -> None:
    """Call once a worker has built its app (backend.wsgi)."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
