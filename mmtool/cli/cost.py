"""`build.py cost --env E [--json]`: the monthly estimate of an environment (docs/cost.md);
`build.py prices --offers DIR | --live-prices [--region R]`: rebuild the dated price snapshot (maintainers)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from deployer.flags import add_flag
from mmtool.config.workspace import Paths, environments, validate
from mmtool.errors import UsageError


def add_cost_arguments(parser: argparse.ArgumentParser) -> None:
    add_flag(parser, "json", use="build/<env>/cost.json instead of the table")
    parser.add_argument("--brief", action="store_true", help="leave out each line's basis and prices")
    parser.add_argument("--read-baselines", action="store_true",
                        help="read each data-quality baseline's statistics.json from S3 to count its features "
                             "(needs s3:GetObject on it); prices the per-feature custom metrics")
    add_flag(parser, "profile", use="for --read-baselines")
    add_flag(parser, "endpoint-url", use="for --read-baselines")


def cmd_cost(args: argparse.Namespace, paths: Paths) -> int:
    if not args.env:
        raise UsageError("cost needs an environment: --env <name> (make cost ENV=<name>)")
    from mmtool.generate.pipeline import build
    from mmtool.cost import report
    from mmtool.cost.counts import count_build
    from mmtool.cost.estimate import estimate
    from mmtool.cost.prices import load_table

    # the estimate reads the templates and values as `make build` writes them: no cfn-lint needed (a linted build
    # serves as well)
    build(paths, environments(paths, args.env), run_lint=False, out=lambda line: print(line, file=sys.stderr))
    params = validate(paths, [args.env])[args.env]
    features = None
    if args.read_baselines:
        from mmtool.operate.awsenv import connect
        from mmtool.operate.baseline_features import baseline_feature_counts

        clients = connect(params, profile=args.profile, endpoint_url=args.endpoint_url)
        features = baseline_feature_counts(params, clients.s3, lambda line: print(f"warning: {line}", file=sys.stderr))
    result = estimate(params, load_table(), count_build(paths.build / args.env), features)
    if args.json_output:
        print(json.dumps(result.to_json(), indent=2, sort_keys=True))
    else:
        for line in report.render(result, verbose=not args.brief):
            print(line)
    return 0


def add_prices_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--offers", type=Path, metavar="DIR",
                        help="a folder of AWS Price List offer files (index.json of each service and region)")
    source.add_argument("--live-prices", action="store_true",
                        help="ask the Price List API (pricing:GetProducts in us-east-1; needs credentials)")
    parser.add_argument("--region", action="append", default=[],
                        help="price this region (repeatable); default: the regions of params/*.yaml")
    parser.add_argument("--out", type=Path, default=None,
                        help="the snapshot to update (default: mmtool/cost/data/prices.json)")
    add_flag(parser, "profile", use="for --live-prices")


def cmd_prices(args: argparse.Namespace, paths: Paths) -> int:
    from mmtool.cost.offers import live_prices, read_offer_folder
    from mmtool.cost.prices import dump_table, load_table

    regions = set(args.region) or {p.region for p in validate(paths, environments(paths, None)).values()}
    out = args.out or paths.root / "mmtool" / "cost" / "data" / "prices.json"
    if args.offers:
        if not args.offers.is_dir():
            raise UsageError(f"--offers {args.offers}: not a folder of offer files")
        found = read_offer_folder(args.offers, regions)
    else:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        from mmtool.cost.prices import PricesError

        try:
            session = boto3.Session(profile_name=args.profile) if args.profile else boto3.Session()
            # The Price List API answers from us-east-1 (and two other regions), whatever region is priced.
            found = live_prices(session.client("pricing", region_name="us-east-1"), regions)
        except (BotoCoreError, ClientError) as exc:
            raise PricesError(f"--live-prices: the Price List API did not answer: {exc}; it needs credentials "
                              "allowed pricing:GetProducts (or use --offers DIR, docs/cost.md)") from None
    table = load_table(out if out.exists() else None)
    updated = table.merged(found)
    out.write_text(dump_table(updated))
    for price in found:
        print(f"{price.key} {price.dimension or '-'} {price.region}: ${price.usd}/{price.unit} ({price.date})")
    print(f"{len(found)} price(s) for {', '.join(sorted(regions))} -> {out}")
    return 0
