"""mmtool.json_text writes the bytes `json.dumps(data, indent=2, sort_keys=True)` writes: on generated data of every
JSON shape (floats the two libraries format differently, NaN, integers past 64 bits, keys that are not strings,
text that is not ASCII) and on every JSON file of a real build."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from mmtool import json_text

SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=12))
KEYS = st.text(max_size=8) | st.integers(min_value=-5, max_value=5)  # json.dumps turns int keys into strings
DATA = st.recursive(SCALARS, lambda children: st.lists(children, max_size=5)
                    | st.dictionaries(st.text(max_size=8), children, max_size=5), max_leaves=30)


def expected(data, ensure_ascii: bool) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=ensure_ascii) + "\n").encode()


@settings(max_examples=400, deadline=None)
@given(DATA, st.booleans())
def test_the_same_bytes_as_the_standard_library(data, ensure_ascii):
    assert json_text.dumps(data, ensure_ascii=ensure_ascii) == expected(data, ensure_ascii)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(KEYS, SCALARS, max_size=4))
def test_keys_that_are_not_strings_are_written_as_the_standard_library_writes_them(data):
    try:
        want = expected(data, True)
    except TypeError:  # mixed int and str keys: sort_keys cannot order them, and neither writer may
        return
    assert json_text.dumps(data) == want


def test_the_cases_where_orjson_alone_would_differ():
    for data in ({"a": 1e-05}, [float("nan"), float("inf")], {"n": 2**70}, {1: "x"}, {"é": "ü"}, (1, 2.5),
                 {"nested": [{"deep": [0.1, 1e16, -0.0]}]}):
        assert json_text.dumps(data) == expected(data, True)
        assert json_text.dumps(data, ensure_ascii=False) == expected(data, False)


def test_every_json_file_of_a_build_is_written_as_before(built):
    files = sorted(built.build.glob("*/**/*.json"))
    assert len(files) > 50
    for path in files:
        data = json.loads(path.read_bytes())
        assert json_text.dumps(data, ensure_ascii=False) == expected(data, False), path
