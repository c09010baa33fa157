"""`python build.py <command> [--env E] [--debug]`: the one error boundary of the tool.

Every user-caused failure is a `ToolError`; `main` prints its message (one line per problem) on
stderr and returns its exit code: 2 for bad input, 1 for other failures, 130 on Ctrl-C. `--debug`
re-raises so the traceback is visible.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Callable, Sequence

from mmtool.errors import EXIT_INTERRUPTED, LintError, ParamsError, ToolError, UsageError

REPO_ROOT = Path(__file__).resolve().parent.parent


class Paths:
    def __init__(self, root: Path = REPO_ROOT):
        self.root = root
        self.params = root / "params"
        self.build = root / "build"
        self.cache = root / ".cache"

    def environments(self) -> list[str]:
        return sorted(p.stem for p in self.params.glob("*.yaml"))


def _environments(paths: Paths, env: str | None) -> list[str]:
    known = paths.environments()
    if env is None:
        if not known:
            raise ToolError(f"no params files in {paths.params}/; create params/<env>.yaml")
        return known
    if env not in known:
        choices = ", ".join(known) or "none yet"
        raise UsageError(f"no params file params/{env}.yaml (environments: {choices}); create it or fix ENV=")
    return [env]


def validate(paths: Paths, envs: list[str]):
    """Load every environment; raise one ParamsError with the problems of all of them."""
    from mmtool.loader import load_params

    loaded, problems = {}, []
    for env in envs:
        try:
            loaded[env] = load_params(paths.params / f"{env}.yaml", paths.root)
        except ParamsError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ParamsError(problems)
    return loaded


def build(paths: Paths, envs: list[str], *, run_lint: bool = True, out=print) -> list[Path]:
    """validate -> synth -> write -> lint -> manifest, for each environment. Returns the manifests.

    An environment whose inputs and outputs are unchanged since its last successful build is skipped.
    """
    from mmtool import fingerprint
    from mmtool.lint import Linter

    stale = [e for e in envs if not fingerprint.up_to_date(paths.root, paths.cache, paths.build, e, run_lint)]
    for env in envs:
        if env not in stale:
            out(f"{env}: up to date -> {_rel(paths.build / env, paths)}/")
    if not stale:
        return [paths.build / e / "manifest.json" for e in envs]
    for env in stale:
        fingerprint.forget(paths.cache, env)
    linter = Linter.start() if run_lint else None  # loads cfn-lint on another core meanwhile
    try:
        _build(paths, stale, linter, out)
    finally:
        if linter:
            linter.stop()
    for env in stale:
        fingerprint.remember(paths.root, paths.cache, paths.build, env, run_lint)
    return [paths.build / e / "manifest.json" for e in envs]


def _build(paths: Paths, envs: list[str], linter, out) -> None:
    from mmtool import catalog_synth
    from mmtool.lint import LintJob, lint
    from mmtool.synth import dump_json, synthesize

    run_lint = linter is not None
    loaded = validate(paths, envs)
    syntheses = {env: synthesize(params, paths.root) for env, params in loaded.items()}
    catalogs = {env: catalog_synth.synthesize_catalog(params) for env, params in loaded.items()}
    jobs = []
    for env, synthesis in syntheses.items():
        target = paths.build / env
        _write_tree(target, {**synthesis.files(), **catalog_synth.files(catalogs[env])})
        for stack in [*synthesis.stacks, catalogs[env]]:
            jobs.append(LintJob(
                template_path=_rel(target / stack.template_file, paths),
                template=(target / stack.template_file).read_bytes(),
                parameters_path=_rel(target / stack.parameters_file, paths),
                parameters=(target / stack.parameters_file).read_bytes(),
                region=synthesis.params.region,
            ))
    if run_lint:
        findings = lint(jobs, cache_dir=paths.cache / "lint", linter=linter)
        if findings:
            raise LintError("\n".join(f.render() for f in findings) + f"\ncfn-lint: {len(findings)} finding(s); "
                            "fix the template module (or the params value it names) and rebuild")
    for env, synthesis in syntheses.items():
        (paths.build / env / catalog_synth.MANIFEST_FILE).write_bytes(
            catalog_synth.manifest_bytes(synthesis.params, catalogs[env]))
        (paths.build / env / "manifest.json").write_bytes(dump_json(synthesis.manifest()))
        lint_note = "lint clean" if run_lint else "not linted"
        out(f"{env}: {len(synthesis.stacks)} stacks, {len(synthesis.assets)} assets -> "
            f"{_rel(paths.build / env, paths)}/ ({lint_note})")


def lint_existing(paths: Paths, envs: list[str], out=print) -> None:
    """Lint what `build` wrote earlier (build/<env>/), without synthesizing."""
    from mmtool.lint import LintJob, lint

    jobs = []
    for env in envs:
        folder = paths.build / env
        templates = sorted(folder.glob("*.template.json"))
        if not templates:
            raise ToolError(f"nothing to lint in {_rel(folder, paths)}/; run `make build ENV={env}` first")
        region = _region_of(paths, env)
        for template in templates:
            parameters = template.with_name(template.name.replace(".template.json", ".parameters.json"))
            jobs.append(LintJob(_rel(template, paths), template.read_bytes(), _rel(parameters, paths),
                                parameters.read_bytes() if parameters.exists() else b"[]", region))
    findings = lint(jobs)
    if findings:
        raise LintError("\n".join(f.render() for f in findings) + f"\ncfn-lint: {len(findings)} finding(s)")
    out(f"cfn-lint: {len(jobs)} templates clean")


def _region_of(paths: Paths, env: str) -> str:
    return validate(paths, [env])[env].region


def _rel(path: Path, paths: Paths) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        try:
            return path.relative_to(paths.root)
        except ValueError:
            return path


def _write_tree(target: Path, files: dict[str, bytes]) -> None:
    """Replace `target` with exactly `files` (stale files from an earlier build disappear)."""
    staging = target.with_name(f".{target.name}.tmp")
    if staging.exists():
        shutil.rmtree(staging)
    for relative, content in sorted(files.items()):
        path = staging / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)


# --- argument parsing ---------------------------------------------------------------------------


def _parser(selected: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="build.py", description="SageMaker Model Monitor infrastructure as code.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    def command(name: str, help_text: str, handler: Callable[[argparse.Namespace, Paths], int]):
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--env", help="environment (params/<env>.yaml); default: all for build commands")
        cmd.add_argument("--debug", action="store_true", help="show tracebacks")
        cmd.set_defaults(handler=handler)
        return cmd

    command("validate", "check params/<env>.yaml", _cmd_validate)
    command("synth", "write templates and parameter files to build/<env>/ without linting", _cmd_synth)
    command("lint", "lint build/<env>/ with cfn-lint", _cmd_lint)
    command("build", "validate, synthesize and lint", _cmd_build)
    from mmtool import deploy_cli

    deploy_cli.register(command, selected)
    command("security", "scan build/<env>/ with checkov, cfn-guard (Control Tower rules) and our own checks",
            _cmd_security)
    from mmtool import baseline, dryrun_cli, runnow, status  # light imports: each loads boto3 etc. only when it runs

    baseline.add_arguments(command("baseline", "start the baselining job: statistics.json and constraints.json "
                                   "from a dataset (ENV required)", baseline.cmd_baseline))
    dryrun_cli.add_arguments(command("dry-run", "run the environment's pre-processor over captured data and "
                                     "check it against the baseline (ENV required)", dryrun_cli.cmd_dry_run))
    status.add_arguments(command("status", "monitoring schedules, last runs, failures explained with the fix, "
                                 "Data Capture files (ENV required)", status.cmd_status))
    runnow.add_arguments(command("run-now", "one monitoring run now over recent capture data, then its outcome "
                                 "(ENV required)", runnow.cmd_run_now))
    from mmtool import verify_notifications

    verify_notifications.add_arguments(command("verify-notifications", "force one alarm into ALARM and show which "
                                               "subscriptions should receive it (ENV required)",
                                               verify_notifications.cmd_verify_notifications))
    from mmtool import catalog, package  # light imports: boto3 and cfn-lint load only when they run

    command("package", "the hand-off bundle dist/<project>-<version>-<env>.zip: templates, parameter files, "
            "assets, DEPLOY.md, parameter reference, lint report, diagram, SHA256SUMS (ENV required)",
            package.cmd_package)
    catalog.add_arguments(command("catalog", "publish the templates as AWS Service Catalog products: upload, "
                                  "catalog stack, tag options, versions (ENV required)", catalog.cmd_catalog))
    return parser


def _cmd_validate(args: argparse.Namespace, paths: Paths) -> int:
    envs = _environments(paths, args.env)
    validate(paths, envs)
    print(f"valid: {', '.join(f'params/{e}.yaml' for e in envs)}")
    return 0


def _cmd_synth(args: argparse.Namespace, paths: Paths) -> int:
    build(paths, _environments(paths, args.env), run_lint=False)
    return 0


def _cmd_lint(args: argparse.Namespace, paths: Paths) -> int:
    lint_existing(paths, _environments(paths, args.env))
    return 0


def _cmd_build(args: argparse.Namespace, paths: Paths) -> int:
    build(paths, _environments(paths, args.env))
    return 0


def _cmd_security(args: argparse.Namespace, paths: Paths) -> int:
    from mmtool.security import SecurityError, load_subjects, scan

    envs = _environments(paths, args.env)
    report = scan(load_subjects(paths.build, envs, display=lambda p: _rel(p, paths)), REPO_ROOT)
    if report.findings:
        raise SecurityError("\n".join(f.render() for f in report.findings) + f"\nsecurity: {len(report.findings)} "
                            "finding(s); fix the template module, or waive a checkov check in the resource's Metadata "
                            "with its reason (docs/security.md)")
    print(report.summary())
    return 0


def main(argv: Sequence[str] | None = None, paths: Paths | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser(selected=next((a for a in argv if not a.startswith("-")), None)).parse_args(argv)
    debug = args.debug or os.environ.get("MM_DEBUG") == "1"
    try:
        return args.handler(args, paths or Paths())
    except ToolError as exc:
        if debug:
            raise
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        if debug:
            raise
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
