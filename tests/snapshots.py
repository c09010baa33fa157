"""`make snapshots`: regenerate the golden files under tests/snapshots/ from params/*.yaml.

Tests only compare; this is the one place that writes the expected output. Review the diff before
committing it: every changed line is a change to what gets deployed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from mmtool.generate import catalog_synth
from mmtool.config.workspace import Paths, validate
from mmtool.generate.synth import dump_json, synthesize

REPO = Path(__file__).resolve().parent.parent
SNAPSHOTS = REPO / "tests" / "snapshots"


def expected_files(paths: Paths) -> dict[str, bytes]:
    """One template per stack (identical in every environment) and every environment's parameter files."""
    files: dict[str, bytes] = {}
    for env, params in validate(paths, paths.environments()).items():
        synthesis = synthesize(params, paths.root)
        for stack in synthesis.stacks:
            files[stack.template_file] = dump_json(stack.template)
            files[f"{env}/{stack.parameters_file}"] = dump_json(stack.parameter_file_body())
        files[f"{env}/manifest.json"] = dump_json(synthesis.manifest())
        catalog = catalog_synth.synthesize_catalog(params)
        files[catalog.template_file] = dump_json(catalog.template)
        files[f"{env}/{catalog.parameters_file}"] = dump_json(catalog.parameter_file_body())
        files[f"{env}/{catalog_synth.MANIFEST_FILE}"] = catalog_synth.manifest_bytes(params, catalog)
        # The endpoint-monitoring product names its environment (Defaults, the nested template's hash): one each.
        product = catalog_synth.synthesize_self_service(params, synthesis.files()["monitoring.template.json"],
                                                        synthesis.analyzer_prefix)
        files[f"{env}/{product.template_file}"] = dump_json(product.template)
    return files


def main() -> int:
    if SNAPSHOTS.exists():
        shutil.rmtree(SNAPSHOTS)
    for relative, content in sorted(expected_files(Paths(REPO)).items()):
        path = SNAPSHOTS / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    print(f"wrote {SNAPSHOTS.relative_to(REPO)}/; review with: git diff --stat tests/snapshots")
    return 0


if __name__ == "__main__":
    sys.exit(main())
