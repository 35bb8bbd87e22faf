"""Correcting mistyped place words against the words of outlet names (bot.landmarks)."""

from __future__ import annotations

import pytest

from bot.landmarks import LandmarkIndex

WORDS = [
    ("南京新街口", 30),
    ("南京珠江路", 12),
    ("苏州观前街", 20),
    ("南京市江北新区", 3),
    ("连云港东海通灌南路", 2),
    ("新街", 1),
    ("中山北路", 8),
    ("中山南路", 9),
]
PLACES = ["南京市", "苏州市", "连云港市", "东海县", "鼓楼区"]


@pytest.fixture(scope="module")
def index() -> LandmarkIndex:
    return LandmarkIndex(WORDS, PLACES)


def test_city_and_county_names_are_stripped(index: LandmarkIndex) -> None:
    for word in ("新街口", "珠江路", "观前街", "江北新区", "通灌南路"):
        assert word in index
    assert "南京新街口" not in index and "东海通灌南路" not in index


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("新街扣", "新街口"),  # same sound
        ("珠江陆", "珠江路"),
        ("观前接", "观前街"),
        ("通灌难路", "通灌南路"),
        ("中山北陆", "中山北路"),
    ],
)
def test_typos_by_sound_are_corrected(index: LandmarkIndex, typed: str, meant: str) -> None:
    assert index.correct(typed) == meant


@pytest.mark.parametrize("typed", ["新街口", "月球路", "火星", "", "中山"])
def test_real_words_and_unrelated_ones_are_left_alone(index: LandmarkIndex, typed: str) -> None:
    assert index.correct(typed) is None


def test_an_empty_index_corrects_nothing() -> None:
    assert LandmarkIndex([], PLACES).correct("新街扣") is None


def test_a_word_typed_in_pinyin_is_spelt_as_names_spell_it() -> None:
    index = LandmarkIndex([("新街口", 5), ("新界口", 1), ("珠江路", 3)], [])
    assert index.spelt_from_pinyin("xinjiekou") == "新街口"  # the commoner of two sounds
    assert index.spelt_from_pinyin("Zhu Jiang Lu") == "珠江路"
    assert index.spelt_from_pinyin("gulou") is None
    assert index.spelt_from_pinyin("新街口") is None
