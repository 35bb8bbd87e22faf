"""A serving worker's collector settings (backend.gc_tuning)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from backend.gc_tuning import GEN0_THRESHOLD, tune_for_serving


@pytest.fixture
def restored() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_start_up_objects_are_frozen_and_the_young_collected_less_often(restored: None) -> None:
    kept = [object() for _ in range(10)], {"a": [1]}  # containers made before start-up ends
    gen1, gen2 = gc.get_threshold()[1:]
    tune_for_serving()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (GEN0_THRESHOLD, gen1, gen2)
    assert all(id(obj) not in {id(o) for o in gc.get_objects()} for obj in kept)
