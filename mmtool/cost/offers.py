"""Rebuild the price snapshot from AWS's Price List: offer files on disk (`make prices OFFERS=DIR`) or, with
credentials, the Price List API (`make prices LIVE=1`).

Offer files are the bulk JSON AWS publishes per service and region
(https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/reading-service-price-list-file-for-services.html):
``formatVersion``, ``offerCode``, ``publicationDate``, ``products`` (sku -> productFamily, attributes) and
``terms.OnDemand`` (sku -> offer term -> ``priceDimensions`` (rate code -> unit, ``pricePerUnit.USD``,
``beginRange``, ``endRange``, description)). The Price List API's GetProducts
(https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html) answers the
same product and terms per SKU, one JSON string each. Both are read by :func:`prices_from_products`.

Which products map to which key (mmtool/cost/prices.py ``KEYS``) is the table ``RULES`` below; only the first
tier of a tiered price (``beginRange`` 0) is taken, and a product with no USD On-Demand rate is skipped. A
key whose products are not recognised here stays unpriced (docs/cost.md says which).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from mmtool.cost.prices import KEYS, Price, PricesError


@dataclass(frozen=True)
class Rule:
    """Products of one offer that price one key. ``match`` reads (productFamily, attributes) and returns the
    dimension (e.g. the instance type; "" when the key has none) or None when the product is not this key's."""

    offer: str  # offerCode of the offer file / ServiceCode of the API
    key: str
    match: Callable[[str, dict[str, str]], str | None]
    filters: tuple[tuple[str, str], ...] = ()  # GetProducts TERM_MATCH filters narrowing the API's answer


def _usage_ends(suffix: str) -> Callable[[str, dict[str, str]], str | None]:
    return lambda family, a: "" if a.get("usagetype", "").endswith(suffix) else None


def _processing_instance(family: str, a: dict[str, str]) -> str | None:
    # e.g. {"instanceType": "ml.m5.xlarge-Processing", "usagetype": "USE1-Processing:ml.m5.xlarge",
    #       "component": "Processing"}: an On-Demand SageMaker Processing instance.
    instance = a.get("instanceType", "")
    if a.get("component") == "Processing" and instance.endswith("-Processing"):
        return instance[: -len("-Processing")]
    return None


RULES = (
    Rule("AmazonSageMaker", "sagemaker.processing.instance-hour", _processing_instance,
         (("component", "Processing"),)),
    Rule("AmazonVPC", "vpc.interface-endpoint.az-hour", _usage_ends("VpcEndpoint-Hours"),
         (("productFamily", "VpcEndpoint"),)),
    Rule("awskms", "kms.key-month", _usage_ends("KMS-Keys")),
    Rule("AmazonCloudWatch", "cloudwatch.metric-month", _usage_ends("CW:MetricMonitorUsage")),
    Rule("AmazonCloudWatch", "cloudwatch.alarm-month", _usage_ends("CW:AlarmMonitorUsage")),
    Rule("AmazonS3", "s3.standard.gb-month", _usage_ends("TimedStorage-ByteHrs")),
)
OFFERS = tuple(dict.fromkeys(r.offer for r in RULES))


def _first_tier_usd(terms: dict[str, Any]) -> tuple[Decimal, str] | None:
    """(USD per unit, unit) of the On-Demand rate whose range starts at 0; None when there is none."""
    for term in (terms or {}).values():
        for dimension in (term.get("priceDimensions") or {}).values():
            usd = (dimension.get("pricePerUnit") or {}).get("USD")
            if usd is None or str(dimension.get("beginRange", "0")) not in ("0", "0.0"):
                continue
            try:
                return Decimal(usd).normalize(), str(dimension.get("unit", ""))
            except InvalidOperation:
                continue
    return None


def prices_from_products(offer: str, products: Iterable[tuple[dict[str, Any], dict[str, Any]]], *,
                         source: str, date: str, regions: set[str] | None = None) -> list[Price]:
    """Prices of the products (each: the product with sku, productFamily, attributes; its OnDemand terms)."""
    rules = [r for r in RULES if r.offer == offer]
    found: dict[tuple[str, str, str], Price] = {}
    for product, terms in products:
        attributes = {k: str(v) for k, v in (product.get("attributes") or {}).items()}
        region = attributes.get("regionCode", "")
        if not region or (regions and region not in regions):
            continue
        for rule in rules:
            dimension = rule.match(str(product.get("productFamily", "")), attributes)
            if dimension is None:
                continue
            rate = _first_tier_usd(terms)
            if rate is None:
                continue
            usd, unit = rate
            ident = (rule.key, dimension, region)
            if ident in found:
                continue  # the first product seen wins: the snapshot must not depend on dict order
            found[ident] = Price(rule.key, dimension, region, usd, KEYS[rule.key], source=(
                f"{source}, SKU {product.get('sku', '?')}, usagetype {attributes.get('usagetype', '?')}"),
                date=date, note=f"Price List unit: {unit}")
    return sorted(found.values(), key=lambda p: (p.key, p.region, p.dimension))


def read_offer_file(path: Path, regions: set[str] | None = None) -> list[Price]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise PricesError(f"{path}: cannot read the offer file ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise PricesError(f"{path}:{exc.lineno}: not JSON ({exc.msg}); expected an AWS Price List offer file") from None
    if not isinstance(data, dict) or not {"offerCode", "products", "terms"} <= set(data):
        raise PricesError(f"{path}: not an AWS Price List offer file (offerCode, products and terms expected)")
    offer = str(data["offerCode"])
    on_demand = (data.get("terms") or {}).get("OnDemand") or {}
    products = ((body, on_demand.get(sku) or {}) for sku, body in (data.get("products") or {}).items())
    date = str(data.get("publicationDate", ""))[:10] or "unknown"
    source = f"AWS Price List offer file {offer} ({path.name}, publicationDate {data.get('publicationDate', '?')})"
    return prices_from_products(offer, products, source=source, date=date, regions=regions)


def read_offer_folder(folder: Path, regions: set[str] | None = None) -> list[Price]:
    files = sorted(p for p in folder.rglob("*.json") if p.is_file())
    if not files:
        raise PricesError(f"{folder}: no offer files (*.json); download them from "
                          "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/index.json (docs/cost.md)")
    prices: list[Price] = []
    for path in files:
        prices.extend(read_offer_file(path, regions))
    return prices


def _api_products(client: Any, rule: Rule, region: str) -> Iterator[tuple[dict[str, Any], dict[str, Any], str]]:
    filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
    filters += [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in rule.filters]
    token = None
    while True:
        kwargs: dict[str, Any] = {"ServiceCode": rule.offer, "Filters": filters, "FormatVersion": "aws_v1"}
        if token:
            kwargs["NextToken"] = token
        answer = client.get_products(**kwargs)
        for item in answer.get("PriceList", []):
            body = json.loads(item) if isinstance(item, str) else item
            yield body.get("product") or {}, (body.get("terms") or {}).get("OnDemand") or {}, \
                str(body.get("publicationDate", ""))
        token = answer.get("NextToken")
        if not token:
            return


def live_prices(client: Any, regions: set[str]) -> list[Price]:
    """Ask the Price List API (a boto3 ``pricing`` client; its endpoint is in us-east-1) for every rule."""
    prices: list[Price] = []
    for region in sorted(regions):
        for offer in OFFERS:
            rows = []
            dates = set()
            for rule in (r for r in RULES if r.offer == offer):
                for product, terms, published in _api_products(client, rule, region):
                    rows.append((product, terms))
                    dates.add(published[:10])
            date = max(d for d in dates if d) if any(dates) else "unknown"
            prices.extend(prices_from_products(offer, rows, source=f"AWS Price List API GetProducts {offer}",
                                               date=date, regions={region}))
    return prices
