"""mnsim.to_toml: dicts as TOML text that reads back as the same dict, and the errors for values
TOML cannot hold."""

import datetime
import math
import tomllib

import pytest

import mnsim
from conftest import TINY


def test_a_scenario_file_read_as_a_dict_writes_back_as_the_same_dict():
    d = tomllib.loads(TINY.read_text())
    text = mnsim.to_toml(d)
    assert tomllib.loads(text) == d
    assert "[[lesions]]" in text.splitlines() and "[device]" in text.splitlines()


def test_values_of_every_kind_read_back_unchanged():
    d = {
        "title": 'quote " backslash \\ tab \t newline \n bell \x07 del \x7f µm é',
        "seed": 2**53 - 1,
        "ratio": 0.1 + 0.2,  # not a short decimal: repr keeps every bit
        "tiny": 5e-324,
        "flag": False,
        "when": datetime.date(2026, 3, 1),
        "list": [1, 2, 3],
        "mixed": ["a", 1, [True]],
        "weird key": 1,
        "a": {"b": {"c": "deep", "lst": [{"x": 1}, {"x": 2, "y": {"z": 3}}]}},
        "empty": {},
    }
    back = tomllib.loads(mnsim.to_toml(d))
    assert back == d
    assert back["ratio"] == 0.1 + 0.2
    inf = tomllib.loads(mnsim.to_toml({"x": math.inf, "y": -math.inf}))
    assert inf == {"x": math.inf, "y": -math.inf}
    assert math.isnan(tomllib.loads(mnsim.to_toml({"x": math.nan}))["x"])


def test_values_toml_cannot_hold_name_their_key():
    with pytest.raises(mnsim.InputError) as info:
        mnsim.to_toml({"device": {"depth": None}})
    assert info.value.key == "device.depth" and info.value.file == "<dict>"
    assert str(info.value).startswith("<dict>: device.depth: None has no TOML value")
    with pytest.raises(mnsim.InputError) as info:
        mnsim.to_toml({"lesions": [{"x": object()}]})
    assert info.value.key == "lesions[0].x"
    with pytest.raises(mnsim.InputError) as info:
        mnsim.to_toml({"a": {3: 1}})
    assert info.value.key == "a.3"
    with pytest.raises(TypeError):
        mnsim.to_toml(["not", "a", "dict"])
