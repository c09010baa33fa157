"""validate -> synth -> write -> lint -> manifest, for each environment: what `make build` runs."""

from __future__ import annotations

import shutil
from pathlib import Path

from deployer.progress import Step, to_stderr
from mmtool.config.workspace import Paths, display_path, template_parameter_pairs, validate
from mmtool.errors import LintError, ToolError


def build(paths: Paths, envs: list[str], *, run_lint: bool = True, out=print) -> list[Path]:
    """validate -> synth -> write -> lint -> manifest, for each environment. Returns the manifests.

    An environment whose inputs and outputs are unchanged since its last successful build is skipped.
    """
    from mmtool.build import fingerprint
    from mmtool.build.lint import Linter

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
        _build(paths, stale, linter, out)
    finally:
        if linter:
            linter.stop()
    for env in stale:
        fingerprint.remember(paths.root, paths.cache, paths.build, env, run_lint)
    return [paths.build / e / "manifest.json" for e in envs]


def _build(paths: Paths, envs: list[str], linter, out) -> None:
    from mmtool.build import catalog_synth
    from mmtool.build.lint import LintJob, lint
    from mmtool.build.synth import dump_json, synthesize

    run_lint = linter is not None
    loaded = validate(paths, envs)
    syntheses = {env: synthesize(params, paths.root) for env, params in loaded.items()}
    catalogs = {env: catalog_synth.synthesize_catalog(params) for env, params in loaded.items()}
    jobs = []
    for env, synthesis in syntheses.items():
        target = paths.build / env
        files = synthesis.files()
        self_service = catalog_synth.synthesize_self_service(synthesis.params, files["monitoring.template.json"])
        write_tree(target, {**files, **catalog_synth.files(catalogs[env]), **catalog_synth.files(self_service)})
        for stack in [*synthesis.stacks, catalogs[env], self_service]:
            jobs.append(LintJob(
                template_path=display_path(target / stack.template_file, paths),
                template=(target / stack.template_file).read_bytes(),
                parameters_path=display_path(target / stack.parameters_file, paths),
                parameters=(target / stack.parameters_file).read_bytes(),
                region=synthesis.params.region,
            ))
    if run_lint:
        with Step(f"cfn-lint: {len(jobs)} templates of {', '.join(envs)}", to_stderr):
            findings = lint(jobs, cache_dir=paths.cache / "lint", linter=linter)
        if findings:
            raise LintError("\n".join(f.render() for f in findings) + f"\ncfn-lint: {len(findings)} finding(s); "
                            "fix the template module (or the params value it names) and rebuild")
    for env, synthesis in syntheses.items():
        (paths.build / env / catalog_synth.MANIFEST_FILE).write_bytes(
            catalog_synth.manifest_bytes(synthesis.params, catalogs[env]))
        (paths.build / env / "manifest.json").write_bytes(dump_json(synthesis.manifest()))
        write_cost(synthesis.params, paths.build / env)
        lint_note = "lint clean" if run_lint else "not linted"
        out(f"{env}: {len(synthesis.stacks)} stacks, {len(synthesis.assets)} assets -> "
            f"{display_path(paths.build / env, paths)}/ ({lint_note})")


def write_cost(params, folder: Path) -> None:
    """build/<env>/cost.json: the monthly estimate the plan shows (docs/cost.md)."""
    from mmtool.cost import report
    from mmtool.cost.counts import count_build
    from mmtool.cost.estimate import estimate
    from mmtool.cost.prices import load_table

    report.write(estimate(params, load_table(), count_build(folder)), folder)


def lint_existing(paths: Paths, envs: list[str], out=print) -> None:
    """Lint what `build` wrote earlier (build/<env>/), without synthesizing."""
    from mmtool.build.lint import LintJob, lint

    jobs = []
    for env in envs:
        folder = paths.build / env
        templates = sorted(folder.glob("*.template.json"))
        if not templates:
            raise ToolError(f"nothing to lint in {display_path(folder, paths)}/; run `make build ENV={env}` first")
        region = validate(paths, [env])[env].region
        for template, parameters in template_parameter_pairs(folder, templates):
            jobs.append(LintJob(display_path(template, paths), template.read_bytes(),
                                display_path(parameters, paths),
                                parameters.read_bytes() if parameters.exists() else b"[]", region))
    findings = lint(jobs)
    if findings:
        raise LintError("\n".join(f.render() for f in findings) + f"\ncfn-lint: {len(findings)} finding(s)")
    out(f"cfn-lint: {len(jobs)} templates clean")


def write_tree(target: Path, files: dict[str, bytes]) -> None:
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
