"""The change `make demo` shows (mmtool/cli/demo.py): the environment built a second time, in a scratch folder,
with the data-quality job's instance type changed, so its job definition is replaced. params/ is never written."""


from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from mmtool.generate.pipeline import build
from mmtool.config.workspace import Paths
from mmtool.errors import ToolError

# The change the demo makes: the data-quality job's instance type (every property of a SageMaker job
# definition is create-only, so CloudFormation replaces it).
CHANGED_SETTING = ("monitoring", "data_quality", "instance_type")
OTHER_INSTANCE_TYPE = {"ml.m5.large": "ml.m5.xlarge"}  # anything else becomes ml.m5.large


def changed_params(text: str, source: str) -> tuple[str, str, str]:
    """params/<env>.yaml text with the data-quality instance type changed; returns (text, before, after)."""
    data = yaml.safe_load(text)
    section = data
    try:
        for key in CHANGED_SETTING[:-1]:
            section = section[key]
    except (KeyError, TypeError):
        raise ToolError(f"{source}: {'.'.join(CHANGED_SETTING[:-1])} is missing; the demo changes "
                        f"{'.'.join(CHANGED_SETTING)}, so the environment needs a data-quality monitor") from None
    before = section.get(CHANGED_SETTING[-1]) or "ml.m5.xlarge"  # the params model's default
    after = OTHER_INSTANCE_TYPE.get(before, "ml.m5.large")
    section[CHANGED_SETTING[-1]] = after
    return yaml.safe_dump(data, sort_keys=False), before, after


def build_changed(paths: Paths, env: str, scratch: Path, *, run_lint: bool = True, out=print) -> Path:
    """Build `env` with the demo's change into `scratch` (params/ and scripts/ copied); return its manifest."""
    source = paths.params / f"{env}.yaml"
    text, before, after = changed_params(source.read_text(), f"params/{env}.yaml")
    (scratch / "params").mkdir(parents=True)
    (scratch / "params" / f"{env}.yaml").write_text(text)
    shutil.copytree(paths.root / "scripts", scratch / "scripts")
    manifest = build(Paths(scratch), [env], run_lint=run_lint, out=lambda *_: None)[0]
    out(f"{env} with {'.'.join(CHANGED_SETTING)} {before} -> {after}: {manifest.parent}/ "
        f"({'lint clean' if run_lint else 'not linted'}; built from a copy of params/{env}.yaml)")
    return manifest
