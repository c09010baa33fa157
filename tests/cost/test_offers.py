"""The price snapshot is rebuilt from AWS's Price List: offer files (fixtures in tests/data/offers/, written by
hand in the documented format, see its README) and the Price List API (botocore's Stubber checks each
GetProducts request against botocore's own model of the pricing service; moto has no pricing service)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from mmtool.cost.offers import RULES, live_prices, read_offer_file, read_offer_folder
from mmtool.cost.prices import PricesError, PriceTable, load_table, parse_table

OFFERS = Path(__file__).resolve().parent.parent / "data" / "offers"


def by_ident(prices):
    return {(p.key, p.dimension, p.region): p for p in prices}


def test_sagemaker_offer_file_gives_processing_instance_prices_of_the_regions_asked_for():
    found = by_ident(read_offer_file(OFFERS / "AmazonSageMaker.json", {"us-east-1", "eu-west-1"}))
    # The Processing records of the two regions asked for; the training record and ap-south-1 are not taken.
    assert sorted(found) == [("sagemaker.processing.instance-hour", "ml.m5.large", "eu-west-1"),
                             ("sagemaker.processing.instance-hour", "ml.m5.xlarge", "us-east-1")]
    xlarge = found[("sagemaker.processing.instance-hour", "ml.m5.xlarge", "us-east-1")]
    assert xlarge.usd == Decimal("0.23")
    assert xlarge.unit == "instance-hour"
    assert xlarge.date == "2026-11-01"  # the file's publicationDate
    assert "AmazonSageMaker" in xlarge.source and "SKU1PROC" in xlarge.source
    assert "USE1-Processing:ml.m5.xlarge" in xlarge.source


def test_tiered_price_takes_the_first_tier():
    found = by_ident(read_offer_file(OFFERS / "AmazonCloudWatch.json"))
    assert found[("cloudwatch.metric-month", "", "eu-west-1")].usd == Decimal("0.3333")
    assert found[("cloudwatch.alarm-month", "", "eu-west-1")].usd == Decimal("0.1234")


def test_folder_reads_every_offer_file_and_the_table_keeps_what_it_does_not_replace(tmp_path):
    found = read_offer_folder(OFFERS, {"eu-west-1"})
    assert {p.key for p in found} == {"sagemaker.processing.instance-hour", "cloudwatch.metric-month",
                                      "cloudwatch.alarm-month"}
    merged = load_table().merged(found)
    # the hand-sourced KMS price stays; the new figures are in
    assert merged.find("kms.key-month", "eu-west-1").source == "https://aws.amazon.com/kms/pricing/"
    assert merged.find("sagemaker.processing.instance-hour", "eu-west-1", "ml.m5.large").usd == Decimal("0.128")
    # what is written reads back the same
    again = parse_table(json.loads(json.dumps(merged.to_json())), "round trip")
    assert again.prices == merged.prices


@pytest.mark.parametrize("content, expected", [
    ("{", "not JSON"),
    ('{"formatVersion": "v1.0"}', "not an AWS Price List offer file"),
])
def test_a_file_that_is_not_an_offer_file_is_refused_with_its_name(tmp_path, content, expected):
    path = tmp_path / "index.json"
    path.write_text(content)
    with pytest.raises(PricesError) as err:
        read_offer_file(path)
    assert str(path) in str(err.value) and expected in str(err.value)


def test_an_empty_folder_says_where_offer_files_come_from(tmp_path):
    with pytest.raises(PricesError, match="pricing.us-east-1.amazonaws.com/offers"):
        read_offer_folder(tmp_path)


def _price_item(offer: str, sku: str, attributes: dict, usd: str, published: str = "2026-11-20T00:00:00Z") -> str:
    return json.dumps({
        "product": {"sku": sku, "productFamily": "x", "attributes": attributes},
        "serviceCode": offer,
        "terms": {"OnDemand": {f"{sku}.T": {"priceDimensions": {f"{sku}.T.R": {
            "unit": "Hrs", "beginRange": "0", "endRange": "Inf", "description": "stub",
            "pricePerUnit": {"USD": usd}}}}}},
        "publicationDate": published,
        "version": "1",
    })


def test_live_prices_ask_get_products_per_rule_with_region_filter_and_follow_next_token():
    import botocore.session
    from botocore.stub import Stubber

    client = botocore.session.get_session().create_client(
        "pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    region = "eu-west-1"
    processing = {"regionCode": region, "instanceType": "ml.m5.large-Processing",
                  "usagetype": "EU-Processing:ml.m5.large", "component": "Processing"}
    for rule in RULES:
        filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
        filters += [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in rule.filters]
        expected = {"ServiceCode": rule.offer, "Filters": filters, "FormatVersion": "aws_v1"}
        if rule.key == "sagemaker.processing.instance-hour":  # two pages
            stub.add_response("get_products", {"PriceList": [], "FormatVersion": "aws_v1", "NextToken": "page2"},
                              expected)
            stub.add_response("get_products", {"PriceList": [_price_item(rule.offer, "S1", processing, "0.1280")],
                                               "FormatVersion": "aws_v1"}, {**expected, "NextToken": "page2"})
        elif rule.key == "kms.key-month":
            stub.add_response("get_products", {"PriceList": [_price_item(
                rule.offer, "K1", {"regionCode": region, "usagetype": "eu-west-1-KMS-Keys"}, "1.0000")],
                "FormatVersion": "aws_v1"}, expected)
        else:
            stub.add_response("get_products", {"PriceList": [], "FormatVersion": "aws_v1"}, expected)
    with stub:
        found = by_ident(live_prices(client, {region}))
    stub.assert_no_pending_responses()
    assert found[("sagemaker.processing.instance-hour", "ml.m5.large", region)].usd == Decimal("0.128")
    assert found[("kms.key-month", "", region)].usd == Decimal("1")
    assert found[("kms.key-month", "", region)].date == "2026-11-20"
    assert len(found) == 2  # nothing is made up for the rules the API answered nothing for


def test_every_price_of_the_repository_snapshot_names_its_source_and_date():
    table = load_table()
    assert table.prices
    for price in table.prices:
        assert price.source and price.date, price
        assert price.source.startswith("https://aws.amazon.com/") or "AWS Price List" in price.source, price


def test_a_price_without_source_is_refused():
    with pytest.raises(PricesError, match="source"):
        parse_table({"format_version": 1, "prices": [{"key": "kms.key-month", "region": "*", "usd": "1",
                                                       "unit": "key-month", "date": "2026-01-01"}]}, "x.json")


def test_a_region_star_price_holds_everywhere_and_a_regional_one_only_in_its_region():
    table = load_table()
    assert table.find("kms.key-month", "ap-south-1") is not None
    assert table.find("sagemaker.processing.instance-hour", "us-east-1", "ml.m5.xlarge") is not None
    assert table.find("sagemaker.processing.instance-hour", "eu-west-1", "ml.m5.xlarge") is None
    assert PriceTable(()).find("kms.key-month", "us-east-1") is None
