"""validate -> synth -> write -> lint -> manifest, for each environment: what `make lint` runs (`make build`: without
the lint; plan, deploy, package, catalog and dry-run: with it)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from deployer.progress import Step, to_stderr
from mmtool.config.workspace import Paths, display_path, validate
from mmtool.errors import LintError


def build(paths: Paths, envs: list[str], *, run_lint: bool = True, out=print) -> list[Path]:
    """validate -> synth -> write -> lint -> manifest, for each environment. Returns the manifests.

    An environment whose inputs and outputs are unchanged since its last successful build is skipped.
    """
    from mmtool.generate import fingerprint
    from mmtool.generate.lint import Linter

    stale = [e for e in envs if not fingerprint.up_to_date(paths.root, paths.cache, paths.build, e, run_lint)]
    for env in envs:
        if env not in stale:
            out(f"{env}: up to date -> {display_path(paths.build / env, paths)}/")
    if not stale:
        return [paths.build / e / "manifest.json" for e in envs]
    for env in stale:
        fingerprint.forget(paths.cache, env)
    linter = Linter.start() if run_lint else None  # loads cfn-lint on another core meanwhile
    try:
        written = _build(paths, stale, linter, out)
    finally:
        if linter:
            linter.stop()
    for env in stale:
        fingerprint.remember(paths.root, paths.cache, paths.build, env, run_lint, written[env])
    return [paths.build / e / "manifest.json" for e in envs]


def _build(paths: Paths, envs: list[str], linter, out) -> dict[str, dict[str, bytes]]:
    """Everything is written to a staging folder next to build/<env>/ and linted there; only when every environment
    is clean does each staging folder replace its build/<env>/. A failing build leaves the last good build/<env>/
    exactly as it was (what a deploy would read) and keeps the rejected output in build/<env>.rejected/, which the
    findings name. Returns what each build/<env>/ now holds (relative path -> bytes)."""
    from mmtool.cost.report import COST_FILE
    from mmtool.generate import catalog_synth, limits_check
    from mmtool.generate.lint import lint
    from mmtool.generate.synth import dump_json, synthesize

    run_lint = linter is not None
    loaded = validate(paths, envs)
    syntheses = {env: synthesize(params, paths.root) for env, params in loaded.items()}
    for env, synthesis in syntheses.items():  # the AWS limits the environment meets (docs/fleet.md)
        limits_check.check(synthesis, str(display_path(paths.params / f"{env}.yaml", paths)))
    catalogs = {env: catalog_synth.synthesize_catalog(params) for env, params in loaded.items()}
    jobs = []
    staged: dict[str, Path] = {}
    written: dict[str, dict[str, bytes]] = {}
    try:
        for env, synthesis in syntheses.items():
            files = synthesis.files()
            self_service = catalog_synth.synthesize_self_service(synthesis.params, files["monitoring.template.json"],
                                                                 synthesis.analyzer_prefix, synthesis)
            written[env] = files = {
                **files, **catalog_synth.files(catalogs[env]), **catalog_synth.files(self_service),
                catalog_synth.MANIFEST_FILE: catalog_synth.manifest_bytes(synthesis.params, catalogs[env]),
                "manifest.json": dump_json(synthesis.manifest()),
                COST_FILE: cost_file(synthesis),  # the estimate the plan shows
            }
            staged[env] = stage_tree(paths.build / env, files)
            if run_lint:
                jobs += _lint_jobs(paths, env, synthesis, [catalogs[env], self_service], files)
        findings = []
        if run_lint:
            with Step(f"cfn-lint: {len(jobs)} templates of {', '.join(envs)}", to_stderr):
                findings = lint(jobs, cache_dir=paths.cache / "lint", linter=linter)
    except BaseException:
        for folder in staged.values():
            shutil.rmtree(folder, ignore_errors=True)
        raise
    if findings:
        for env, folder in staged.items():
            reject(folder, rejected_folder(paths.build / env))
        kept = ", ".join(f"{display_path(paths.build / env, paths)}/" for env in staged)
        raise LintError("\n".join(f.render() for f in findings) + f"\ncfn-lint: {len(findings)} finding(s); "
                        "fix the template module (or the params value it names) and rebuild; "
                        f"{kept} unchanged (the last good build), the rejected output is beside it in <env>.rejected/")
    for env, folder in staged.items():
        swap(folder, paths.build / env)
        lint_note = "lint clean" if run_lint else "not linted"
        out(f"{env}: {len(syntheses[env].stacks)} stacks, {len(syntheses[env].assets)} assets -> "
            f"{display_path(paths.build / env, paths)}/ ({lint_note})")
    return written


def _lint_jobs(paths: Paths, env: str, synthesis, more_stacks: list, files: dict[str, bytes]) -> list:
    """One LintJob per stack of the environment (its own and `more_stacks`, the catalog's)."""
    from mmtool.generate.lint import LintJob

    shown = rejected_folder(paths.build / env)  # findings exist only when the output is rejected
    return [LintJob(template_path=display_path(shown / stack.template_file, paths), template=files[stack.template_file],
                    parameters_path=display_path(shown / stack.parameters_file, paths),
                    parameters=files[stack.parameters_file], region=synthesis.params.region)
            for stack in [*synthesis.stacks, *more_stacks]]


def cost_file(synthesis) -> bytes:
    """build/<env>/cost.json: the monthly estimate the plan shows (docs/cost.md), counted from the templates and
    parameter values the build writes (the same data, not read back: a fleet has hundreds of files)."""
    from mmtool.cost import report
    from mmtool.cost.counts import count_stacks
    from mmtool.cost.estimate import estimate
    from mmtool.cost.prices import load_table

    stacks = synthesis.stacks
    counts = count_stacks([(s.name, s.stack_name, s.template, s.parameters) for s in stacks], synthesis.params.region)
    return report.file_bytes(estimate(synthesis.params, load_table(), counts), {s.name: s.parameters for s in stacks})


LINK_ABOVE = 4096  # bytes: a smaller file takes one block either way


def stage_tree(target: Path, files: dict[str, bytes]) -> Path:
    """Write exactly `files` into a fresh staging folder beside `target` (build/.<env>.staging/); return it."""
    staging = target.with_name(f".{target.name}.staging")
    if staging.exists():
        shutil.rmtree(staging)
    made: set[Path] = set()  # each folder created once (a fleet has a folder of assets per endpoint)
    # A fleet's endpoints mostly load the same scripts, rendered once (one bytes object): the first file is written
    # and the others are hard links to it (200 endpoints: 3.8 MB less to write), where the file system has them.
    # Build outputs are never edited in place: the fingerprint rebuilds an edited one.
    first: dict[int, Path] = {}  # id(content) -> the file written with it
    for relative, content in sorted(files.items()):
        path = staging / relative
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        if id(content) in first and len(content) > LINK_ABOVE:
            try:
                os.link(first[id(content)], path)
                continue
            except OSError:
                pass
        path.write_bytes(content)
        first.setdefault(id(content), path)
    return staging


def rejected_folder(target: Path) -> Path:
    return target.with_name(f"{target.name}.rejected")


def reject(staging: Path, rejected: Path) -> None:
    """Keep a failed build's output for inspection, replacing an earlier rejected one."""
    if rejected.exists():
        shutil.rmtree(rejected)
    staging.rename(rejected)


def swap(staging: Path, target: Path) -> None:
    """Replace `target` with `staging` (stale files from an earlier build disappear); the old tree is moved aside
    first and removed last, so an interruption never leaves a half-written build/<env>/."""
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(rejected_folder(target), ignore_errors=True)  # the rejected output of an earlier build is stale

