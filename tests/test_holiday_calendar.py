"""Tests for profiles.holiday_calendar: official holidays, 调休 and the deadlines built on them.

The 2026 facts are the State Council's schedule as STANDARDS.md section 8
states it; 2027 was not published when this was written, so the 2027 tests
check the unverified fallback, and the operator-file tests use made-up dates
named "测试" that must never be mistaken for the real schedule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import chinese_calendar
import pytest
from packaging.version import Version

from profiles import holiday_calendar as hc
from profiles.holiday_calendar import (
    ENV_HOLIDAYS_FILE,
    DayInfo,
    HolidayDataError,
    add_working_days,
    covered_years,
    day_info,
    is_working_day,
    known_years,
    load_problems,
    monthly_report_due,
    next_working_day,
    read_holiday_file,
    verified_between,
)

SHIPPED_CSV = Path(hc.__file__).parent / "data" / "holidays.csv"


@pytest.fixture(autouse=True)
def _clean_calendar(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts from the shipped sources only, whatever the environment says."""
    monkeypatch.delenv(ENV_HOLIDAYS_FILE, raising=False)
    hc.reload()
    yield
    hc.reload()


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def days(first: str, last: str) -> list[dt.date]:
    start, end = d(first), d(last)
    return [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]


def write_operator_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "holidays-operator.csv"
    path.write_text("date,kind,name\n" + body, encoding="utf-8")
    return path


# --- the 2026 schedule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "name"),
    [
        ("2026-02-15", "2026-02-23", "春节"),
        ("2026-05-01", "2026-05-05", "劳动节"),
        ("2026-10-01", "2026-10-07", "国庆节"),
    ],
)
def test_2026_holiday_periods(first: str, last: str, name: str) -> None:
    for day in days(first, last):
        info = day_info(day)
        assert info == DayInfo(day, "holiday", name, True), day
        assert not info.is_working_day
        assert not is_working_day(day)
    # the days around each of these periods are working days (some of them make-up days)
    assert is_working_day(d(first) - dt.timedelta(days=1))
    assert is_working_day(d(last) + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("day", "name"),
    [
        ("2026-02-14", "春节"),  # Saturday
        ("2026-02-28", "春节"),  # Saturday
        ("2026-05-09", "劳动节"),  # Saturday
        ("2026-09-20", "国庆节"),  # Sunday
        ("2026-10-10", "国庆节"),  # Saturday
    ],
)
def test_2026_makeup_working_days(day: str, name: str) -> None:
    info = day_info(d(day))
    assert d(day).weekday() >= 5
    assert info == DayInfo(d(day), "makeup_workday", name, True)
    assert info.is_working_day
    assert is_working_day(d(day))


def test_ordinary_days_2026() -> None:
    assert day_info(d("2026-03-10")) == DayInfo(d("2026-03-10"), "workday", None, True)
    assert day_info(d("2026-03-14")) == DayInfo(d("2026-03-14"), "weekend", None, True)
    assert day_info(d("2026-03-15")).kind == "weekend"
    assert not is_working_day(d("2026-03-14"))
    assert is_working_day(d("2026-03-16"))


@pytest.mark.parametrize(
    ("month", "due"),
    [
        (1, "2026-01-15"),  # a Thursday: stays
        (2, "2026-02-24"),  # Sunday in the 春节 break (15–23 Feb): the Tuesday after
        (3, "2026-03-16"),  # Sunday: Monday
        (8, "2026-08-17"),  # Saturday: Monday
        (11, "2026-11-16"),  # Sunday: Monday
    ],
)
def test_monthly_report_due_2026(month: int, due: str) -> None:
    assert monthly_report_due(2026, month) == d(due)
    assert verified_between(dt.date(2026, month, 15), d(due))


def test_next_working_day() -> None:
    assert next_working_day(d("2026-03-10")) == d("2026-03-10")
    assert next_working_day(d("2026-03-10"), include_today=False) == d("2026-03-11")
    assert next_working_day(d("2026-03-14")) == d("2026-03-16")
    # Friday before 春节: the next day is a make-up Saturday
    assert next_working_day(d("2026-02-13"), include_today=False) == d("2026-02-14")
    assert next_working_day(d("2026-02-14"), include_today=False) == d("2026-02-24")
    assert next_working_day(d("2026-10-01")) == d("2026-10-08")


def test_add_working_days() -> None:
    assert add_working_days(d("2026-03-06"), 0) == d("2026-03-06")
    assert add_working_days(d("2026-03-06"), 5) == d("2026-03-13")  # Friday to Friday
    # receipt on the eve of 国庆: 8 Oct (Thu), 9 (Fri), 10 (make-up Sat), 12 (Mon), 13 (Tue)
    assert add_working_days(d("2026-09-30"), 5) == d("2026-10-13")
    # receipt on a holiday: the first working day after it is day 1
    assert add_working_days(d("2026-10-03"), 1) == d("2026-10-08")
    # across 春节 with both make-up Saturdays
    assert add_working_days(d("2026-02-12"), 3) == d("2026-02-24")
    assert add_working_days(d("2026-02-26"), 2) == d("2026-02-28")
    with pytest.raises(ValueError, match="n must be >= 0"):
        add_working_days(d("2026-03-06"), -1)


def test_agrees_with_chinesecalendar_on_every_day_it_covers() -> None:
    first, last = 2004, 2026
    for day in days(f"{first}-01-01", f"{last}-12-31"):
        info = day_info(day)
        assert info.verified, day
        assert info.is_working_day == chinese_calendar.is_workday(day), day


def test_package_version_and_years() -> None:
    assert Version(chinese_calendar.__version__) >= Version("1.11.0")
    first, last = covered_years()
    assert first == 2004 and last >= 2026  # a newer release may add years
    assert set(range(2004, 2027)) <= set(known_years())
    assert load_problems() == ()


# --- outside the known years ------------------------------------------------------------------


def test_2027_falls_back_to_weekends_unverified() -> None:
    assert day_info(d("2027-01-04")) == DayInfo(d("2027-01-04"), "workday", None, False)
    assert day_info(d("2027-01-02")) == DayInfo(d("2027-01-02"), "weekend", None, False)
    assert is_working_day(d("2027-01-04"))
    # 2027-01-01 is a Friday; unknown, so counted as a working day, and said so
    assert monthly_report_due(2027, 5) == d("2027-05-17")
    assert not verified_between(d("2027-05-15"), d("2027-05-17"))
    assert not verified_between(d("2026-12-31"), d("2027-01-01"))
    assert verified_between(d("2026-12-30"), d("2026-12-31"))


@pytest.mark.parametrize(
    "day", [dt.date.min, dt.date(1999, 10, 1), dt.date(2100, 2, 1), dt.date.max]
)
def test_never_raises_for_a_valid_date(day: dt.date) -> None:
    info = day_info(day)
    assert not info.verified
    assert info.kind in ("workday", "weekend")


def test_datetime_is_taken_as_its_date() -> None:
    info = day_info(dt.datetime(2026, 10, 1, 12, 0))
    assert info.day == d("2026-10-01")
    assert info.kind == "holiday"


def test_day_info_is_frozen() -> None:
    info = day_info(d("2026-10-01"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.kind = "workday"  # type: ignore[misc]


# --- data files -------------------------------------------------------------------------------


def test_shipped_file_is_valid_and_invents_nothing() -> None:
    assert SHIPPED_CSV.read_text(encoding="utf-8").splitlines()[0] == "date,kind,name"
    entries = read_holiday_file(SHIPPED_CSV)
    # no 2027 data until the State Council's notice has been seen
    assert all(entry.day.year != 2027 for entry in entries)


def test_shipped_file_agrees_with_chinesecalendar_where_both_have_data() -> None:
    package_years = {day.year for day in chinese_calendar.holidays}
    for entry in read_holiday_file(SHIPPED_CSV):
        if entry.day.year in package_years:
            assert chinese_calendar.is_holiday(entry.day) == (entry.kind == "holiday"), entry


def test_operator_file_adds_a_year(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Made-up rows: NOT the 2027 schedule, only the mechanism.
    path = write_operator_file(
        tmp_path,
        "# fictitious test data\n2027-01-04,holiday,测试假日\n2027-01-09,workday,测试假日\n",
    )
    monkeypatch.setenv(ENV_HOLIDAYS_FILE, str(path))
    hc.reload()
    assert day_info(d("2027-01-04")) == DayInfo(d("2027-01-04"), "holiday", "测试假日", True)
    assert day_info(d("2027-01-09")) == DayInfo(d("2027-01-09"), "makeup_workday", "测试假日", True)
    # the year is now known: unlisted days are ordinary and verified
    assert day_info(d("2027-01-05")) == DayInfo(d("2027-01-05"), "workday", None, True)
    assert day_info(d("2027-01-10")) == DayInfo(d("2027-01-10"), "weekend", None, True)
    assert covered_years() == (2004, 2027)
    assert next_working_day(d("2027-01-04")) == d("2027-01-05")
    assert load_problems() == ()


def test_operator_file_overrides_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_operator_file(tmp_path, "2026-09-03,holiday,测试纪念日\n2026-10-07,workday,测试\n")
    monkeypatch.setenv(ENV_HOLIDAYS_FILE, str(path))
    hc.reload()
    assert day_info(d("2026-09-03")).kind == "holiday"
    assert day_info(d("2026-10-07")) == DayInfo(d("2026-10-07"), "workday", "测试", True)
    # the rest of the package's year is untouched
    assert day_info(d("2026-10-06")).kind == "holiday"
    assert day_info(d("2026-02-14")).kind == "makeup_workday"


def test_changing_the_environment_variable_is_noticed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not day_info(d("2027-01-04")).verified
    path = write_operator_file(tmp_path, "2027-01-04,holiday,测试假日\n")
    monkeypatch.setenv(ENV_HOLIDAYS_FILE, str(path))
    assert day_info(d("2027-01-04")).kind == "holiday"  # no reload() needed
    monkeypatch.delenv(ENV_HOLIDAYS_FILE)
    assert not day_info(d("2027-01-04")).verified


def test_invalid_operator_file_is_skipped_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_operator_file(tmp_path, "2027-01-04,holiday,测试假日\n2027-02-30,holiday,测试\n")
    monkeypatch.setenv(ENV_HOLIDAYS_FILE, str(path))
    hc.reload()
    assert day_info(d("2027-01-04")) == DayInfo(d("2027-01-04"), "workday", None, False)
    assert day_info(d("2026-10-01")).kind == "holiday"  # the package still answers
    (problem,) = load_problems()
    assert ENV_HOLIDAYS_FILE in problem and ":3:" in problem


def test_missing_operator_file_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_HOLIDAYS_FILE, str(tmp_path / "nowhere.csv"))
    hc.reload()
    assert day_info(d("2026-10-01")).kind == "holiday"
    assert "cannot read" in load_problems()[0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("2027-02-30,holiday,x\n", r":2: invalid date '2027-02-30'"),
        ("20270101,holiday,x\n", r":2: invalid date '20270101'"),
        ("2027-W01-1,holiday,x\n", r":2: invalid date"),
        ("2027-01-01,rest,x\n", r":2: invalid kind 'rest'"),
        ("2027-01-01,holiday,\n", r":2: name must be"),
        ("2027-01-01,holiday\n", r":2: expected 3 columns"),
        ("2027-01-01,holiday,a\n2027-01-01,holiday,b\n", r":3: date 2027-01-01 already given"),
    ],
)
def test_read_holiday_file_names_the_line(tmp_path: Path, body: str, message: str) -> None:
    path = write_operator_file(tmp_path, body)
    with pytest.raises(HolidayDataError, match=message):
        read_holiday_file(path)


def test_read_holiday_file_header_and_bom(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("day,kind,name\n", encoding="utf-8")
    with pytest.raises(HolidayDataError, match="header must be date,kind,name"):
        read_holiday_file(bad)
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(HolidayDataError, match="empty file"):
        read_holiday_file(empty)
    excel = tmp_path / "excel.csv"
    excel.write_text("date,kind,name\r\n2027-01-04,holiday,测试\r\n", encoding="utf-8-sig")
    (entry,) = read_holiday_file(excel)
    assert (entry.day, entry.kind, entry.name) == (d("2027-01-04"), "holiday", "测试")
