"""Deequ's KLL quantile sketch and the distances Model Monitor's drift check computes over it.

Model Monitor's analyzer is Deequ on Spark; its `statistics.json` stores, per numerical feature, the
state of Deequ's KLL sketch (`distribution.kll.sketch`: `parameters.c` the shrinking factor,
`parameters.k` the sketch size, `data` one list of items per compactor level, level i weighing 2**i)
and ten equal-width buckets derived from it. This module keeps a sketch the same way, so a sketch read
from a Model Monitor baseline and one we build compare as Deequ compares them.

Behaviour follows Deequ's public sources (github.com/awslabs/deequ, Apache-2.0), read, not copied:

* `src/main/scala/com/amazon/deequ/analyzers/QuantileNonSample.scala` and `NonSampleCompactor.scala`:
  level capacities `2 * (ceil(k * c**h / 2) + 1)`, condense the lowest full level when the item count
  exceeds the total capacity, a compaction sorts the even prefix of the buffer and keeps every other
  item starting at an offset that flips on every other compaction, the odd last item stays behind;
* `src/main/scala/com/amazon/deequ/analyzers/KLLSketch.scala`: defaults k=2048, c=0.64, ten buckets
  between the global minimum and maximum, counts from exclusive ranks (the last bucket inclusive);
* `src/main/scala/com/amazon/deequ/analyzers/Distance.scala`: the L-infinity distance between the two
  sketches' CDFs at every item of either sketch (`linf_simple`), the robust variant
  `max(0, linf_simple - 1.8 * sqrt((n + m) / (n * m)))` (two-sample Kolmogorov-Smirnov bound), the
  categorical L-infinity distance, and the chi-squared test with Yates/Cochran regrouping of small
  categories.

Items are fed in blocks (numpy), but a block is split exactly where Deequ's one-item-at-a-time loop
would condense, so the sketch state equals Deequ's for the same input order.
"""

import math

import numpy as np

DEFAULT_SKETCH_SIZE = 2048
DEFAULT_SHRINKING_FACTOR = 0.64
NUMBER_OF_BUCKETS = 10
# Distance.scala's default c(alpha) for alpha = 0.003 (Knuth, TAOCP vol. 2, section 3.3.1, eq. 15).
DEFAULT_C_ALPHA = 1.8


class KLLSketch:
    """A Deequ-compatible KLL sketch of float values (streaming: memory bounded by k / (1 - c))."""

    def __init__(self, sketch_size=DEFAULT_SKETCH_SIZE, shrinking_factor=DEFAULT_SHRINKING_FACTOR):
        self.k = int(sketch_size)
        self.c = float(shrinking_factor)
        self.levels = [np.empty(0)]
        self.num_compress = [0]
        self.offsets = [0]
        self._pending = []  # level-0 blocks not yet concatenated
        self._pending_len = 0
        self._capacities = [self._capacity(0)]
        self._total_capacity = self._capacities[0]
        self._items = 0

    def _capacity(self, height):
        return 2 * (int(math.ceil(self.k * self.c ** height / 2)) + 1)

    @classmethod
    def from_data(cls, data, sketch_size=DEFAULT_SKETCH_SIZE, shrinking_factor=DEFAULT_SHRINKING_FACTOR):
        """Rebuild a sketch from `statistics.json`'s `sketch.data` (QuantileNonSample.reconstruct)."""
        sketch = cls(sketch_size, shrinking_factor)
        sketch.levels = [np.asarray(level, dtype=float) for level in data] or [np.empty(0)]
        height = len(sketch.levels)
        sketch.num_compress = [0] * height
        sketch.offsets = [0] * height
        sketch._capacities = [sketch._capacity(h) for h in range(height)]
        sketch._total_capacity = sum(sketch._capacities)
        sketch._items = sum(len(level) for level in sketch.levels)
        return sketch

    # ---------------------------------------------------------------- updates

    def update(self, values):
        """Add values (any iterable of floats, in arrival order)."""
        values = np.asarray(values, dtype=float).ravel()
        start = 0
        total = len(values)
        while start < total:
            # Deequ condenses as soon as the item count exceeds the total capacity: insert up to there.
            room = self._total_capacity - self._items + 1
            take = min(room, total - start) if room > 0 else 1
            block = values[start:start + take]
            self._pending.append(block)
            self._pending_len += len(block)
            self._items += len(block)
            start += take
            if self._items > self._total_capacity:
                self._condense()

    def _flush(self):
        if self._pending:
            self.levels[0] = np.concatenate([self.levels[0]] + self._pending)
            self._pending = []
            self._pending_len = 0

    def _expand(self):
        self.levels.append(np.empty(0))
        self.num_compress.append(0)
        self.offsets.append(0)
        self._capacities.append(self._capacity(len(self.levels) - 1))
        self._total_capacity += self._capacities[-1]

    def _condense(self):
        self._flush()
        for height in range(len(self.levels)):
            if len(self.levels[height]) >= self._capacities[height]:
                if height + 1 >= len(self.levels):
                    self._expand()
                self.levels[height + 1] = np.concatenate([self.levels[height + 1], self._compact(height)])
                self._items = sum(len(level) for level in self.levels)
                return

    def _compact(self, height):
        buffer = self.levels[height]
        items = len(buffer)
        even = items - items % 2
        if self.num_compress[height] % 2 == 1:
            self.offsets[height] = 1 - self.offsets[height]
        output = np.sort(buffer[:even])[self.offsets[height]:even:2]
        self.levels[height] = buffer[even:].copy()  # the odd last item stays
        self.num_compress[height] += 1
        return output

    # ---------------------------------------------------------------- queries

    def data(self):
        """The compactor levels as lists (`sketch.data` of statistics.json)."""
        self._flush()
        return [level.tolist() for level in self.levels]

    def weighted(self):
        """(sorted items, cumulative weights) of every item in the sketch."""
        self._flush()
        items = np.concatenate(self.levels) if self.levels else np.empty(0)
        weights = np.concatenate([np.full(len(level), 1 << h, dtype=np.int64) for h, level in enumerate(self.levels)])
        order = np.argsort(items, kind="mergesort")
        return items[order], np.cumsum(weights[order])

    def count(self):
        """The weight the sketch represents (Deequ's maximal rank)."""
        self._flush()
        return int(sum(len(level) << h for h, level in enumerate(self.levels)))

    def rank(self, value, inclusive=True):
        items, cumulative = self.weighted()
        index = np.searchsorted(items, value, side="right" if inclusive else "left")
        return int(cumulative[index - 1]) if index > 0 else 0

    def buckets(self, minimum, maximum, number=NUMBER_OF_BUCKETS):
        """KLLSketch.computeMetricFrom's equal-width buckets between the global min and max."""
        items, cumulative = self.weighted()

        def rank(value, side):
            index = np.searchsorted(items, value, side=side)
            return int(cumulative[index - 1]) if index > 0 else 0

        result = []
        for i in range(number):
            low = minimum + (maximum - minimum) * i / float(number)
            high = minimum + (maximum - minimum) * (i + 1) / float(number)
            upper_rank = rank(high, "right") if i == number - 1 else rank(high, "left")
            result.append({"lower_bound": low, "upper_bound": high, "count": float(upper_rank - rank(low, "left"))})
        return result


# -------------------------------------------------------------------- distances


def _robust(linf_simple, n, m, alpha=None):
    """Distance.selectMetrics: subtract the two-sample KS critical value (c(alpha) * sqrt((n+m)/(n*m)))."""
    c_alpha = DEFAULT_C_ALPHA if alpha is None else math.sqrt(-math.log(alpha / 2.0) * 0.5)
    return max(0.0, linf_simple - c_alpha * math.sqrt((n + m) / (n * m)))


def numerical_distance(sketch1, sketch2, method="Robust"):
    """Deequ's Distance.numericalDistance: `Simple` is linf_simple, `Robust` the KS-corrected one."""
    items1, cumulative1 = sketch1.weighted()
    items2, cumulative2 = sketch2.weighted()
    if not len(items1) or not len(items2):
        return float("nan")
    keys = np.union1d(items1, items2)
    n = float(cumulative1[-1])
    m = float(cumulative2[-1])

    def cdf(items, cumulative, total):
        index = np.searchsorted(items, keys, side="right")
        ranks = np.where(index > 0, cumulative[np.maximum(index - 1, 0)], 0)
        return ranks / total

    linf = float(np.max(np.abs(cdf(items1, cumulative1, n) - cdf(items2, cumulative2, m))))
    return linf if method == "Simple" else _robust(linf, n, m)


def categorical_linf(counts1, counts2, method="Robust"):
    """Deequ's categoricalLInfinityDistance over two {category: count} maps."""
    n = float(sum(counts1.values()))
    m = float(sum(counts2.values()))
    if not n or not m:
        return float("nan")
    linf = 0.0
    for key in set(counts1) | set(counts2):
        linf = max(linf, abs(counts1.get(key, 0) / n - counts2.get(key, 0) / m))
    return linf if method == "Simple" else _robust(linf, n, m)


def _regroup(sample, expected, abs_yates=5, perc_yates=0.2, abs_cochran=10):
    """Distance.regroupCategories: merge the smallest expected category into the next smallest."""
    while len(expected) >= 2:
        if len(expected) > 2:
            threshold, allowed = abs_yates, int(perc_yates * len(expected))
        else:
            threshold, allowed = abs_cochran, 0
        if sum(1 for value in expected.values() if value < threshold) <= allowed:
            break
        smallest = min(expected, key=lambda key: (expected[key], key))
        smallest_expected = expected.pop(smallest)
        smallest_sample = sample.pop(smallest, 0.0)
        second = min(expected, key=lambda key: (expected[key], key))
        expected[second] += smallest_expected
        sample[second] = sample.get(second, 0.0) + smallest_sample
    return sample, expected


def chi_squared(sample_counts, baseline_counts):
    """Deequ's categoricalChiSquareTest: (statistic, p-value, degrees of freedom), NaNs below 2 categories.

    The baseline counts are scaled to the sample's total over the baseline's categories, small
    categories are regrouped (Cochran for 2 categories, Yates beyond), then Pearson's goodness-of-fit
    test runs over the baseline's categories (Spark's Statistics.chiSqTest).
    """
    sample_sum = float(sum(count for key, count in sample_counts.items() if key in baseline_counts))
    expected_sum = float(sum(baseline_counts.values()))
    if not expected_sum:
        return float("nan"), float("nan"), 0
    expected = {key: count / expected_sum * sample_sum for key, count in baseline_counts.items()}
    sample = {key: float(count) for key, count in sample_counts.items()}
    sample, expected = _regroup(sample, expected)
    if len(expected) < 2 or not sample_sum:
        return float("nan"), float("nan"), 0
    statistic = 0.0
    for key, expected_count in expected.items():
        if expected_count > 0:
            statistic += (sample.get(key, 0.0) - expected_count) ** 2 / expected_count
    dof = len(expected) - 1
    return statistic, chi2_sf(statistic, dof), dof


def chi2_sf(statistic, dof):
    """P(X > statistic) for a chi-squared variable: the regularized upper incomplete gamma Q(dof/2, x/2)."""
    if statistic <= 0:
        return 1.0
    a = dof / 2.0
    x = statistic / 2.0
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:  # series for P(a, x) (Numerical Recipes, gser)
        term = total = 1.0 / a
        denominator = a
        for _ in range(10000):
            denominator += 1.0
            term *= x / denominator
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    # continued fraction for Q(a, x) (modified Lentz, Numerical Recipes gcf)
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 10000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return min(1.0, math.exp(log_prefix) * h)
