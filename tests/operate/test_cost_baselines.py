"""`make cost ARGS=--read-baselines`: the features of each data-quality baseline, read from S3 (the moto server),
price the per-feature custom metrics; a baseline that cannot be read is a warning and its line stays unpriced."""

from __future__ import annotations

from decimal import Decimal

from mmtool.config.workspace import Paths, validate
from mmtool.cost.estimate import metric_lines
from mmtool.cost.prices import Price, PriceTable
from mmtool.operate.baseline_features import baseline_feature_counts

from .conftest import REPO, client

# Model Monitor's own sample statistics (tests/data/reference, see its SOURCES): 6 features, _c0 .. _c5
SAMPLE = REPO / "tests" / "data" / "reference" / "baseline-samples" / "data-quality-statistics.json"


def test_features_counted_from_the_baseline_price_the_custom_metrics(aws):
    params = validate(Paths(REPO), ["staging"])["staging"]
    s3 = client("s3", aws)
    s3.create_bucket(Bucket="churn-baselines-444455556666",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="churn-baselines-444455556666", Key="data-quality/2026-11-20/statistics.json",
                  Body=SAMPLE.read_bytes())  # churn's; fraud's baseline is not there
    warnings: list[str] = []

    counts = baseline_feature_counts(params, s3, warnings.append)

    assert counts == {"churn": 6}
    (warning,) = warnings
    assert warning.startswith("s3://churn-baselines-444455556666/fraud/data-quality/2026-11-28/statistics.json: ")
    assert "NoSuchKey" in warning and "stays unpriced" in warning

    price = Price("cloudwatch.metric-month", "", "eu-west-1", Decimal("0.30"), "metric-month", "test fixture", "x")
    churn = params.endpoint("churn")
    (dq, *_) = metric_lines(params, churn, PriceTable((price,)), counts.get("churn"))
    # 6 features x 11 metrics = 66 x $0.30 = 19.80
    assert dq.monthly_usd == Decimal("19.80") and "statistics.json" in dq.basis
    (fraud_dq, *_) = metric_lines(params, params.endpoint("fraud"), PriceTable((price,)), counts.get("fraud"))
    assert fraud_dq.monthly_usd is None
