"""Streaming column statistics in Model Monitor's `statistics.json` format.

Rows (flat dicts, as the record pre-processor returns them) are buffered in blocks and each column of a
block is summarised with numpy, so memory stays flat however many records an hour holds: per column a
few counters, a KLL sketch (bounded by k / (1 - c) items) and a category table capped at
`MAX_CATEGORIES` distinct values.

Types follow Deequ's DataType analyzer (github.com/awslabs/deequ,
`src/main/scala/com/amazon/deequ/analyzers/catalyst/StatefulDataType.scala` and `DataType.scala`): a
value's text is Integral when it matches `^(-|\\+)? ?\\d+$`, Fractional when it matches
`^(-|\\+)? ?\\d+((\\.\\d+)|((?:\\.\\d+)?[Ee][-+]?\\d+))$`, Boolean for `true`/`false`, String otherwise;
a column is String when any value is a String (or Booleans mix with numbers), Boolean when only
Booleans, Fractional when any value is Fractional, Integral otherwise, Unknown when all are missing.
JSON numbers keep their own type (int: Integral, float: Fractional, bool: Boolean). Model Monitor
reports Boolean columns as String (its statistics schema has no Boolean type). Numerical statistics
are over the Integral and Fractional values; `std_dev` is the population standard deviation (Deequ's
StandardDeviation), which the reference baseline's figures confirm.

The format is AWS's "Schema for Statistics" page:
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-statistics.html
"""

import math
import re
from collections import Counter

import numpy as np

from .kll import DEFAULT_SHRINKING_FACTOR, DEFAULT_SKETCH_SIZE, KLLSketch

BLOCK_VALUES = 8192 * 8  # values buffered before a block of rows is summarised (fewer rows when rows are wide)
MAX_CATEGORIES = 10000  # distinct values counted per String column; beyond, the column is high-cardinality
# A column of numbers only so far needs its value counts only for a small domain (and the distinct count):
# a lower cap keeps a wide table of continuous features to a few MB.
MAX_NUMERIC_CATEGORIES = 1000

_INTEGRAL = r"(?:-|\+)? ?\d+"
_FRACTIONAL = r"(?:-|\+)? ?\d+(?:(?:\.\d+)|(?:(?:\.\d+)?[Ee][-+]?\d+))"
INTEGRAL_RE = re.compile(_INTEGRAL + r"\Z", re.ASCII)  # Java's \d is ASCII only
FRACTIONAL_RE = re.compile(_FRACTIONAL + r"\Z", re.ASCII)
# Over a block joined with "\n": one anchored match says whether every line is of a kind (one pass of
# the regex engine over the block, a fraction of the cost of a match per value).
_ALL_INTEGRAL = re.compile(r"(?:%s\n)*%s\Z" % (_INTEGRAL, _INTEGRAL), re.ASCII)
_ALL_FRACTIONAL = re.compile(r"(?:%s\n)*%s\Z" % (_FRACTIONAL, _FRACTIONAL), re.ASCII)
_NUMBER = r"(?:%s|%s)" % (_FRACTIONAL, _INTEGRAL)
_ALL_NUMBERS = re.compile(r"(?:%s\n)*%s\Z" % (_NUMBER, _NUMBER), re.ASCII)
_BOOLEAN_LINES = re.compile(r"^(?:true|false)$", re.M)

INTEGRAL, FRACTIONAL, BOOLEAN, STRING, UNKNOWN = "Integral", "Fractional", "Boolean", "String", "Unknown"


def value_kind(value):
    """Deequ's type of one non-missing value."""
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGRAL
    if isinstance(value, float):
        return FRACTIONAL
    text = value if isinstance(value, str) else str(value)
    if INTEGRAL_RE.match(text):
        return INTEGRAL
    if FRACTIONAL_RE.match(text):
        return FRACTIONAL
    if text in ("true", "false"):
        return BOOLEAN
    return STRING


def _to_float(text):
    return float(text.replace(" ", ""))  # Deequ's patterns allow one space after the sign


class ColumnProfile:
    """Everything kept about one column."""

    def __init__(self, name, sketch_size=DEFAULT_SKETCH_SIZE, shrinking_factor=DEFAULT_SHRINKING_FACTOR):
        self.name = name
        self.missing = 0
        self.kinds = {INTEGRAL: 0, FRACTIONAL: 0, BOOLEAN: 0, STRING: 0}
        self.numeric_count = 0
        self.sum = 0.0
        self.mean = 0.0
        self.m2 = 0.0
        self.minimum = math.inf
        self.maximum = -math.inf
        self.sketch = KLLSketch(sketch_size, shrinking_factor)
        self.categories = Counter()
        self.categories_overflow = False

    @property
    def present(self):
        return sum(self.kinds.values())

    def add_block(self, values):
        """Add one block of values (None = missing)."""
        missing = values.count(None)
        if missing:
            self.missing += missing
            values = [v for v in values if v is not None]
            if not values:
                return
        types = set(map(type, values))
        numbers = None
        if types == {str}:
            numbers = self._strings(values)
        elif types <= {int, float} and bool not in types:
            if int in types:
                self.kinds[INTEGRAL] += sum(1 for v in values if type(v) is int) if float in types else len(values)
            if float in types:
                self.kinds[FRACTIONAL] += sum(1 for v in values if type(v) is float) if int in types else len(values)
            numbers = np.array(values, dtype=float)
        else:
            numbers = self._mixed(values)
        if numbers is not None and len(numbers):
            self._numbers(numbers)
        if not self.categories_overflow:
            self.categories.update(values if types == {str} else map(_category, values))
            limit = MAX_CATEGORIES if self.kinds[STRING] or self.kinds[BOOLEAN] else MAX_NUMERIC_CATEGORIES
            if len(self.categories) > limit:
                self.categories_overflow = True
                self.categories = Counter(dict(self.categories.most_common(limit)))

    def _strings(self, values):
        joined = "\n".join(values)
        if joined.count("\n") != len(values) - 1:  # a value holds a newline: classify one by one
            return self._mixed(values)
        if _ALL_INTEGRAL.match(joined):
            self.kinds[INTEGRAL] += len(values)
        elif _ALL_FRACTIONAL.match(joined):
            self.kinds[FRACTIONAL] += len(values)
        elif _ALL_NUMBERS.match(joined):
            integral = len(values) - list(map(INTEGRAL_RE.match, values)).count(None)
            self.kinds[INTEGRAL] += integral
            self.kinds[FRACTIONAL] += len(values) - integral
        else:
            return self._strings_and_others(values, joined)
        try:
            return np.array(values, dtype=float)
        except ValueError:  # "- 5": a space after the sign
            return np.array([_to_float(v) for v in values], dtype=float)

    def _strings_and_others(self, values, joined):
        if not any(map(INTEGRAL_RE.match, values)) and not any(map(FRACTIONAL_RE.match, values)):
            booleans = len(_BOOLEAN_LINES.findall(joined))
            self.kinds[BOOLEAN] += booleans
            self.kinds[STRING] += len(values) - booleans
            return None
        return self._mixed(values)

    def _mixed(self, values):
        numbers = []
        kinds = self.kinds
        for value in values:
            kind = value_kind(value)
            kinds[kind] += 1
            if kind is INTEGRAL or kind is FRACTIONAL:
                numbers.append(float(value) if not isinstance(value, str) else _to_float(value))
        return np.array(numbers, dtype=float)

    def _numbers(self, numbers):
        count = len(numbers)
        block_sum = float(numbers.sum())
        block_mean = block_sum / count
        block_m2 = float(np.square(numbers - block_mean).sum())
        total = self.numeric_count + count
        delta = block_mean - self.mean
        self.mean += delta * count / total  # Chan et al.'s parallel update: stable over many blocks
        self.m2 += block_m2 + delta * delta * self.numeric_count * count / total
        self.numeric_count = total
        self.sum += block_sum
        self.minimum = min(self.minimum, float(numbers.min()))
        self.maximum = max(self.maximum, float(numbers.max()))
        self.sketch.update(numbers)

    # ------------------------------------------------------------ results

    @property
    def inferred_type(self):
        """DataTypeHistogram.determineType, with Boolean reported as String (Model Monitor's types)."""
        kinds = self.kinds
        if not self.present:
            return UNKNOWN
        if kinds[STRING] or (kinds[BOOLEAN] and (kinds[INTEGRAL] or kinds[FRACTIONAL])):
            return STRING
        if kinds[BOOLEAN]:
            return STRING
        if kinds[FRACTIONAL]:
            return FRACTIONAL
        return INTEGRAL

    @property
    def std_dev(self):
        return math.sqrt(self.m2 / self.numeric_count) if self.numeric_count else 0.0

    def distinct_count(self):
        return float(len(self.categories))

    def statistics(self, rows):
        """This column's entry of statistics.json's `features`."""
        common = {"num_present": self.present, "num_missing": rows - self.present}
        kind = self.inferred_type
        feature = {"name": self.name, "inferred_type": kind}
        if kind in (INTEGRAL, FRACTIONAL):
            feature["numerical_statistics"] = {
                "common": common,
                "mean": self.mean,
                "sum": self.sum,
                "std_dev": self.std_dev,
                "min": self.minimum,
                "max": self.maximum,
                "distribution": {
                    "kll": {
                        "buckets": self.sketch.buckets(self.minimum, self.maximum),
                        "sketch": {
                            "parameters": {"c": self.sketch.c, "k": float(self.sketch.k)},
                            "data": self.sketch.data(),
                        },
                    }
                },
            }
        else:
            buckets = [{"value": value, "count": count} for value, count in self.categories.most_common()]
            feature["string_statistics"] = {
                "common": common,
                "distinct_count": self.distinct_count(),
                "distribution": {"categorical": {"buckets": buckets}},
            }
        return feature


def _category(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)


class DatasetProfile:
    """Rows in, statistics.json out. Column order: sorted names, as Model Monitor orders the keys."""

    def __init__(self, sketch_size=DEFAULT_SKETCH_SIZE, shrinking_factor=DEFAULT_SHRINKING_FACTOR):
        self.rows = 0
        self.columns = {}
        self._block = []
        self._sketch = (sketch_size, shrinking_factor)

    def add(self, row):
        block = self._block
        block.append(row)
        if len(block) * len(block[0]) >= BLOCK_VALUES:
            self.flush()

    def add_columns(self, columns, rows):
        """Add a block given as {name: list of values}, every list `rows` long (CSV datasets)."""
        for name, values in columns.items():
            self._column(name).add_block(values)
        for name, column in self.columns.items():
            if name not in columns:
                column.missing += rows
        self.rows += rows

    def _column(self, name):
        column = self.columns.get(name)
        if column is None:
            column = self.columns[name] = ColumnProfile(name, *self._sketch)
            column.missing += self.rows  # rows before its first appearance lacked it
        return column

    def flush(self):
        block = self._block
        if not block:
            return
        self._block = []
        first = block[0].keys()
        names = set(first)
        if not all(row.keys() == first for row in block):
            names = set().union(*block)
        self.add_columns({name: [row.get(name) for row in block] for name in names}, len(block))

    def statistics(self):
        self.flush()
        return {
            "version": 0.0,
            "dataset": {"item_count": self.rows},
            "features": [self.columns[name].statistics(self.rows) for name in sorted(self.columns)],
        }
