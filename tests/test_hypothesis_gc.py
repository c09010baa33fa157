"""tests/conftest.py removes hypothesis's garbage-collection callback after each test, so a simulated Ctrl-C in a
later test of the same worker cannot be swallowed inside it (see `_no_hypothesis_gc_callback_after_the_test`)."""

from __future__ import annotations

import gc

from hypothesis import given, settings, strategies as st


@settings(max_examples=5, deadline=1000)  # a deadline makes hypothesis time garbage collection
@given(st.integers())
def test_a_hypothesis_test_runs(value):
    assert isinstance(value, int)


def test_no_hypothesis_callback_is_left_in_gc_callbacks_afterwards():
    left = [c for c in gc.callbacks if (getattr(c, "__module__", None) or "").startswith("hypothesis")]
    assert not left, left
