"""出生地代码 of a 身份证号 (issue 15 item 6 / issue 12 item 8): the code is the place of first registration and
stays for life, so any code that GB/T 2260 ever held (stdnum's table, current and historical) never warns;
a code that never existed still does."""

from datetime import date

import pytest

from members.validators import known_region, validate_id_number
from tests.factories import valid_id_number

BORN_1985 = date(1985, 3, 9)


@pytest.mark.parametrize(("region", "name"), [("150602", "东胜区"), ("150621", "达拉特旗"), ("150603", "康巴什区")])
def test_ordos_districts_created_after_the_birth_year_do_not_warn(region, name):
    """鄂尔多斯 districts date from 2001 (康巴什 2016); people born before keep the code they were registered with."""
    _number, warnings = validate_id_number(valid_id_number(region=region, birth=BORN_1985))
    assert warnings == [], name


@pytest.mark.parametrize(("region", "name"), [("152701", "东胜市 1983–2001"), ("152722", "伊克昭盟达拉特旗 –2001"), ("110103", "崇文区 –2010")])
def test_historical_codes_never_warn_whatever_the_birth_year(region, name):
    for birth in (date(1960, 1, 1), BORN_1985, date(2005, 6, 1)):
        _number, warnings = validate_id_number(valid_id_number(region=region, birth=birth))
        assert warnings == [], (name, birth)


@pytest.mark.parametrize("region", ["999999", "150699", "159999"])
def test_a_code_that_never_existed_still_warns(region):
    _number, warnings = validate_id_number(valid_id_number(region=region, birth=BORN_1985))
    assert warnings == [f"出生地代码 {region} 不在行政区划代码表中，请核对"]


def test_known_region_reads_the_table_not_a_hand_kept_list():
    assert known_region("150602") and known_region("152701") and known_region("150100")
    assert not known_region("150699") and not known_region("999999")
