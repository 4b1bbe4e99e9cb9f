"""A birth date with unknown parts keys BAC on the MRZ characters as printed (`<`), Doc 9303-11 §9.7.2."""

import pytest

from mrtd.chip.protocol.bac import MrzInfo
from mrtd.errors import InputError
from mrtd.mrz import check_digit


def test_unknown_birth_day_and_month_use_fillers() -> None:
    info = MrzInfo("UT1000012", "61<<<<", "350101")
    assert info.information == f"UT1000012{check_digit('UT1000012')}61<<<<{check_digit('61<<<<')}350101{check_digit('350101')}"
    assert check_digit("61<<<<") == (6 * 7 + 1 * 3) % 10


@pytest.mark.parametrize("field", ["date_of_birth", "date_of_expiry"])
def test_junk_dates_are_refused(field: str) -> None:
    values = {"date_of_birth": "740812", "date_of_expiry": "350101", field: "74O812"}
    with pytest.raises(InputError, match=field):
        MrzInfo("L898902C", **values)


def test_expiry_must_be_complete() -> None:
    with pytest.raises(InputError, match="date_of_expiry"):
        MrzInfo("L898902C", "740812", "35<<<<")
