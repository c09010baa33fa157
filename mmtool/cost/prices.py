"""The dated price snapshot (mmtool/cost/data/prices.json): what each price is, where it was read and when.

A price is looked up by key (what is billed, e.g. ``sagemaker.processing.instance-hour``), dimension (the
instance type, or empty) and region. An entry with region ``*`` holds in every region (only where AWS's page
states the figure without a regional variation). Nothing found means *unpriced*: the estimate shows the line
as such and never sums it as $0. docs/cost.md lists the keys and how the snapshot is rebuilt.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from mmtool.errors import ToolError

FORMAT_VERSION = 1

# What is billed -> the unit a price of it is in. One place for the keys the estimate and the offer-file
# reader share.
KEYS = {
    "sagemaker.processing.instance-hour": "instance-hour",  # dimension: the instance type
    "sagemaker.processing.storage-gb-month": "GB-month",
    "vpc.interface-endpoint.az-hour": "endpoint-AZ-hour",
    "kms.key-month": "key-month",
    "cloudwatch.metric-month": "metric-month",
    "cloudwatch.alarm-month": "alarm-metric-month",
    "cloudwatch.dashboard-month": "dashboard-month",
    "s3.standard.gb-month": "GB-month",
}


class PricesError(ToolError):
    """The price snapshot (or an offer file) cannot be read; the message says which file and why."""


@dataclass(frozen=True)
class Price:
    key: str
    dimension: str
    region: str
    usd: Decimal
    unit: str
    source: str
    date: str
    note: str = ""

    def to_json(self) -> dict[str, str]:
        body = asdict(self)
        body["usd"] = str(self.usd)
        return body

    @property
    def cite(self) -> str:
        return f"{self.source}, {self.date}"


@dataclass(frozen=True)
class PriceTable:
    prices: tuple[Price, ...]
    path: str = "mmtool/cost/data/prices.json"

    def find(self, key: str, region: str, dimension: str = "") -> Price | None:
        exact = [p for p in self.prices if p.key == key and p.dimension == dimension and p.region == region]
        anywhere = [p for p in self.prices if p.key == key and p.dimension == dimension and p.region == "*"]
        found = exact or anywhere
        return found[0] if found else None

    @property
    def newest_date(self) -> str:
        return max((p.date[:10] for p in self.prices), default="(empty)")

    def merged(self, new: list[Price]) -> "PriceTable":
        """This table with `new` replacing the entries of the same key, dimension and region."""
        replaced = {(p.key, p.dimension, p.region) for p in new}
        kept = [p for p in self.prices if (p.key, p.dimension, p.region) not in replaced]
        ordered = sorted([*kept, *new], key=lambda p: (p.key, p.region, p.dimension))
        return PriceTable(tuple(ordered), self.path)

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "currency": "USD",
            "note": NOTE,
            "prices": [p.to_json() for p in self.prices],
        }


NOTE = ("Every price names where it was read and when. Keys without an entry for a region are unpriced there (the "
        "estimate says so; it never counts them as $0). Rebuild with `make prices OFFERS=DIR` from AWS's Price List "
        "offer files, or `make prices LIVE=1` with credentials (docs/cost.md).")


def parse_table(data: Any, where: str) -> PriceTable:
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        raise PricesError(f"{where}: not a price snapshot of format_version {FORMAT_VERSION}; rebuild it with "
                          "`make prices` (docs/cost.md)")
    prices = []
    for index, entry in enumerate(data.get("prices") or []):
        at = f"{where}: prices[{index}]"
        if not isinstance(entry, dict):
            raise PricesError(f"{at}: expected an object")
        missing = [f for f in ("key", "region", "usd", "unit", "source", "date") if not entry.get(f)]
        if missing:
            raise PricesError(f"{at}: missing {', '.join(missing)}: every price names its source and date")
        if entry["key"] not in KEYS:
            raise PricesError(f"{at}: key {entry['key']!r} is not one the estimate uses ({', '.join(sorted(KEYS))})")
        try:
            usd = Decimal(str(entry["usd"]))
        except InvalidOperation:
            raise PricesError(f"{at}: usd={entry['usd']!r} is not a number") from None
        prices.append(Price(entry["key"], entry.get("dimension", ""), entry["region"], usd, entry["unit"],
                            entry["source"], entry["date"], entry.get("note", "")))
    return PriceTable(tuple(prices), where)


def load_table(path: Path | None = None) -> PriceTable:
    """The repository's snapshot, or the file at `path`."""
    if path is None:
        text = resources.files("mmtool.cost.data").joinpath("prices.json").read_text()
        where = "mmtool/cost/data/prices.json"
    else:
        try:
            text = path.read_text()
        except OSError as exc:
            raise PricesError(f"{path}: cannot read the price snapshot ({exc.strerror})") from None
        where = str(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PricesError(f"{where}:{exc.lineno}: not JSON ({exc.msg})") from None
    return parse_table(data, where)


def dump_table(table: PriceTable) -> str:
    return json.dumps(table.to_json(), indent=2) + "\n"
