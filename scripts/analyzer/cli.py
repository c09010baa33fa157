"""Command line: `python scripts/analyzer <verb> ...` (also `python -m scripts.analyzer`).

Verbs:
  baseline --dataset FILE.csv [--header] --out DIR
      statistics.json and suggested constraints.json of a CSV dataset.
  check --capture FILE|DIR [...] [--statistics FILE] [--constraints FILE] [--preprocessor FILE]
        [--start TIME --end TIME] --out DIR
      statistics.json and constraint_violations.json of Data Capture files against a baseline.
  check-model-quality --capture FILE|DIR --ground-truth FILE|DIR --problem-type TYPE
        [--constraints FILE] [--inference-attribute A] [--probability-attribute A]
        [--probability-threshold X] --out DIR
      model-quality statistics.json and constraint_violations.json.
  baseline-model-quality --dataset FILE.csv [--header] --problem-type TYPE --ground-truth-attribute COL
        [--inference-attribute COL] [--probability-attribute COL] [--probability-threshold X] --out DIR
      model-quality statistics.json and suggested constraints.json of a labelled CSV dataset.
  pack --out FILE.pyz
      the analyzer as one file (a zip application): `python3 FILE.pyz <verb> ...`.
  job
      the processing job's entry (settings from the environment; docs/engine.md).

Exit status: 0 done (violations are results, written to constraint_violations.json); 1 no data to
analyze; 2 bad input (one line on stderr: what, where, how to fix).
"""

import argparse
import sys

from . import capture, job, pack, run
from .errors import EXIT_FAILED, EXIT_OK, InputError


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise InputError("%s (see: %s --help)" % (message, self.prog))


def _parser():
    parser = _Parser(prog="analyzer", description="Model Monitor's data- and model-quality analyses, "
                     "standard library + numpy + pandas (docs/engine.md).")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    base = verbs.add_parser("baseline", help="statistics.json and constraints.json of a CSV dataset")
    base.add_argument("--dataset", required=True, help="CSV file (the flat shape the pre-processor emits)")
    base.add_argument("--header", action="store_true", help="the first line names the columns "
                      "(without it the columns are _c0, _c1, ...)")
    base.add_argument("--out", required=True, help="output folder")

    check = verbs.add_parser("check", help="check Data Capture files against a baseline")
    check.add_argument("--capture", required=True, nargs="+", help=".jsonl file(s) or folder(s) of them")
    check.add_argument("--statistics", help="baseline statistics.json (KLL sketches: drift)")
    check.add_argument("--constraints", help="baseline constraints.json")
    check.add_argument("--preprocessor", help="record pre-processor .py (Model Monitor's contract)")
    check.add_argument("--start", help="window start, ISO-8601 UTC (inclusive)")
    check.add_argument("--end", help="window end, ISO-8601 UTC (exclusive)")
    check.add_argument("--out", required=True, help="output folder")

    quality = verbs.add_parser("check-model-quality", help="model quality of captured predictions")
    quality.add_argument("--capture", required=True, nargs="+", help="capture .jsonl file(s) or folder(s)")
    quality.add_argument("--ground-truth", required=True, nargs="+", help="ground-truth .jsonl file(s) or folder(s)")
    quality.add_argument("--problem-type", required=True,
                         choices=("BinaryClassification", "MulticlassClassification", "Regression"))
    quality.add_argument("--constraints", help="model-quality constraints.json")
    quality.add_argument("--inference-attribute", help="CSV index or JSON key path of the prediction")
    quality.add_argument("--probability-attribute", help="CSV index or JSON key path of the probability")
    quality.add_argument("--probability-threshold", type=float, default=0.5)
    quality.add_argument("--out", required=True, help="output folder")

    mq_base = verbs.add_parser("baseline-model-quality", help="model-quality baseline of a labelled CSV dataset")
    mq_base.add_argument("--dataset", required=True, help="CSV file or folder of CSV files")
    mq_base.add_argument("--header", action="store_true", help="the first line names the columns")
    mq_base.add_argument("--problem-type", required=True,
                         choices=("BinaryClassification", "MulticlassClassification", "Regression"))
    mq_base.add_argument("--ground-truth-attribute", required=True, help="the label column (name, or _c<i>)")
    mq_base.add_argument("--inference-attribute", help="the prediction column (name, or _c<i>)")
    mq_base.add_argument("--probability-attribute", help="the probability column (binary)")
    mq_base.add_argument("--probability-threshold", type=float, default=0.5)
    mq_base.add_argument("--out", required=True, help="output folder")

    packer = verbs.add_parser("pack", help="write the analyzer as one zip application (the job's asset)")
    packer.add_argument("--out", required=True, help="the .pyz file to write")
    verbs.add_parser("job", help="the processing job's entry (settings from the environment)")
    return parser


def _window(args):
    if bool(args.start) != bool(args.end):
        raise InputError("give both --start and --end, or neither")
    if not args.start:
        return None
    window = (capture.parse_time(args.start, "--start"), capture.parse_time(args.end, "--end"))
    if not window[0] < window[1]:
        raise InputError("--start must precede --end")
    return window


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = _parser().parse_args(argv)
        if args.verb == "job":
            return job.main()
        if args.verb == "pack":
            print("pack: %s" % pack.pack(args.out))
            return EXIT_OK
        if args.verb == "baseline":
            statistics, constraints = run.baseline(args.dataset, args.out, args.header)
            print("baseline: %d rows, %d columns -> %s/statistics.json, constraints.json"
                  % (statistics["dataset"]["item_count"], len(statistics["features"]), args.out))
            return EXIT_OK
        if args.verb == "baseline-model-quality":
            statistics, _ = run.baseline_model_quality(
                args.dataset, args.out, args.problem_type, args.ground_truth_attribute, args.inference_attribute,
                args.probability_attribute, args.header, args.probability_threshold)
            print("baseline-model-quality: %d rows -> %s/statistics.json, constraints.json"
                  % (statistics["dataset"]["item_count"], args.out))
            return EXIT_OK
        if args.verb == "check":
            if not args.statistics and not args.constraints:
                raise InputError("give --statistics and/or --constraints (the baseline to check against)")
            window = _window(args)
            events = capture.local_events(capture.local_files(args.capture, window), window)
            result = run.check_data_quality(events, args.out, args.statistics, args.constraints, args.preprocessor)
            print("check: %d records, %d rows, %d violation(s) -> %s/constraint_violations.json"
                  % (result.records, result.profile.rows, len(result.violations), args.out))
            return EXIT_OK
        events = capture.local_events(capture.local_files(args.capture))
        truth = capture.local_events(capture.local_files(args.ground_truth))
        statistics, violations = run.check_model_quality(
            events, truth, args.out, args.problem_type, args.constraints, args.inference_attribute,
            args.probability_attribute, args.probability_threshold)
        print("check-model-quality: %d labelled predictions, %d violation(s) -> %s/constraint_violations.json"
              % (statistics["dataset"]["item_count"], len(violations), args.out))
        return EXIT_OK
    except InputError as exc:
        print("analyzer: %s" % exc, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        print("analyzer: unexpected %s: %s" % (type(exc).__name__, exc), file=sys.stderr)
        return EXIT_FAILED
