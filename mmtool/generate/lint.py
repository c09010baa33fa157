"""cfn-lint, in-process, over every generated template together with its environment's parameter file.

Environments and fleet endpoints share their templates, so each distinct template is linted once per
region with the parameter files of every environment and endpoint that uses it: cfn-lint sees one file
per lint class (files that differ only in values the template constrains, such as an endpoint's name
and prefixes, lint alike; mmtool.generate.parameter_sets), and every file's values are checked against
the template's parameter constraints, so lint cost follows the stack kinds, not the endpoints. Once
more alone, without any parameter file, as a platform team runs `cfn-lint -c I <template>` on the
hand-off bundle: in the environment's region and in cfn-lint's default region (us-east-1). cfn-lint's
rules are loaded once per build. Informational rules are on: zero errors, zero warnings, zero
informational findings, in both passes, or the build fails.

Speed: importing cfn-lint and loading its rules costs about as much as synthesizing everything, so
`Linter.start()` forks a process that does it while the parent validates and synthesizes; when the
jobs arrive it forks one worker per core, which inherit the loaded rules (copy-on-write). Where
fork is unavailable the same code runs in-process. Clean results are cached under `.cache/lint/` per
pass: the standalone pass by template, regions, rules configuration and cfn-lint version; the
parameter-file pass per lint class (LintCache), so a rebuild after a one-value edit lints at most
the one class whose values changed, and nothing when the edit stays within a class already linted.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import signal
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable

from mmtool.config.monitor_kinds import KINDS
from mmtool.config.params import image_accounts
from mmtool.config.workspace import Paths
from mmtool.generate import parameter_sets
from mmtool.errors import ToolError

LINT_CONFIG = {"include_checks": ["I"]}  # every informational rule, I3011, I3510 and I3042 among them
# The standalone pass: what `cfn-lint -c I template.json` checks with no parameter file (its defaults
# then stand for every value), in cfn-lint's default region as well as the environment's.
CLI_DEFAULT_REGION = "us-east-1"
STANDALONE_NOTE = " (linted alone, without a parameter file)"
SCHEME = "lint-classes-2+per-pass-cache"  # part of every cache key: change it when what a clean entry means changes

# cfn-lint cannot resolve `AWS::SSM::Parameter::Value<...>` parameters: given a parameter file it
# treats the SSM parameter *name* as the value (and a List type as needing an array), so every
# property fed from another stack would be checked against a path. For linting, each SSM-typed
# parameter gets a value of the shape the upstream stack really writes there; every other value
# comes from the environment's parameter file unchanged.
SSM_STAND_INS: dict[str, object] = {
    "bucket-name": "churn-dev-foundation-bucket-1a2b3c4d5e6f",
    "kms-key-arn": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "monitoring-role-arn": "arn:aws:iam::111122223333:role/churn-dev-monitoring",
    "monitoring-role-name": "churn-dev-monitoring",
    "vpc-id": "vpc-0123456789abcdef0",
    "subnet-ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    "job-security-group-id": "sg-0123456789abcdef0",
    "endpoint-name": "churn-dev",
    "model-name": "churn-dev-model-0123456789ab",
}


@dataclass(frozen=True)
class LintJob:
    template_path: Path  # where the template is written (for messages)
    template: bytes
    parameters_path: Path
    parameters: bytes  # CloudFormation parameter-file JSON
    region: str


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    rule: str
    message: str

    def render(self) -> str:
        return f"{self.file}:{self.line}: {self.rule}: {self.message}"


@functools.cache
def cfn_lint_version() -> str:
    return version("cfn-lint")  # reads the package's metadata from disk: a few ms, asked for every cache key


def _key(*parts: str) -> str:
    """A cache entry's name: every input of a cfn-lint result besides the template and its values."""
    digest = hashlib.sha256()
    for part in [cfn_lint_version(), json.dumps(LINT_CONFIG, sort_keys=True), SCHEME, *parts]:
        digest.update(part.encode() + b"\n")
    return digest.hexdigest()


def standalone_key(job: LintJob) -> str:
    """The standalone pass reads the template and the regions, nothing else."""
    regions = ",".join(sorted({job.region, CLI_DEFAULT_REGION}))
    return _key("standalone", regions, hashlib.sha256(job.template).hexdigest())


def class_key(job: LintJob, signature: str) -> str:
    """One lint class of one template in one region (mmtool.generate.parameter_sets.signature)."""
    return _key("class", job.region, hashlib.sha256(job.template).hexdigest(), signature)


def _lengths(values: dict[str, object]) -> dict[str, int]:
    return {name: len(json.dumps(value)) for name, value in values.items()}


def _dominated(lengths: dict[str, int], linted: list[dict[str, int]], blind: frozenset[str] = frozenset()) -> bool:
    """Some clean-linted member of the class has the same parameters and every value at least as long (a value
    whose length cannot change a finding, parameter_sets.length_blind, of any length)."""
    return any(entry.keys() == lengths.keys() and all(n in blind or lengths[n] <= entry[n] for n in lengths)
               for entry in linted)


class LintCache:
    """Clean cfn-lint results under `.cache/lint/`, one file per pass of a template (docs/build.md#lint-cache).

    - the standalone pass: `standalone_key` (cfn-lint's version and configuration, the scheme, the regions, the
      template's bytes); the file says "clean";
    - the parameter-file pass, per lint class: `class_key` (the same, the region and the class's signature,
      which holds every value cfn-lint's findings can depend on beyond the constrained ones); the file lists,
      for each parameter file of the class seen clean, the length of each of its values. A file is covered
      when an entry has the same parameters and every value at least as long: the lint-class argument
      (parameter_sets.py), which already lets one linted file stand for its whole class, with length kept
      as the worst case. A parameter whose length cannot change any finding (a number cfn-lint only checks as a
      number: parameter_sets.length_blind) is not compared, so a schedule's alarm period growing from
      3600 to 86400 is covered like 3600 to 9999 always was.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _read(self, key: str) -> list[dict[str, int]] | None:
        try:
            return json.loads((self.folder / key).read_text())
        except (OSError, ValueError):
            return None

    def _write(self, key: str, content: object) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = self.folder / f".{key}.{os.getpid()}"
        staging.write_text(json.dumps(content))
        staging.replace(self.folder / key)

    def standalone_clean(self, job: LintJob) -> bool:
        return self._read(standalone_key(job)) == "clean"

    def remember_standalone(self, job: LintJob) -> None:
        self._write(standalone_key(job), "clean")

    def class_clean(self, job: LintJob, signature: str, members: list[dict[str, object]],
                    blind: Callable[[], frozenset[str]] = frozenset) -> bool:
        """`blind` gives the template's length-blind parameters (asked only when the class has an entry)."""
        linted = self._read(class_key(job, signature))
        if not isinstance(linted, list) or not linted:
            return False
        if all(_dominated(_lengths(values), linted) for values in members):
            return True
        return all(_dominated(_lengths(values), linted, blind()) for values in members)

    def remember_class(self, job: LintJob, signature: str, members: list[dict[str, object]]) -> None:
        linted = self._read(class_key(job, signature))
        linted = linted if isinstance(linted, list) else []
        linted += [lengths for lengths in map(_lengths, members) if lengths not in linted]
        self._write(class_key(job, signature), linted)


def group_jobs(jobs: list[LintJob]) -> list[list[LintJob]]:
    groups: dict[tuple[bytes, str], list[LintJob]] = {}
    for job in jobs:
        groups.setdefault((job.template, job.region), []).append(job)
    return list(groups.values())


@dataclass
class _Pass:
    group: list[LintJob]
    payload: dict[str, Any]
    classes: list[tuple[str, list[dict[str, object]]]]  # (signature, values of each member); [] standalone


def lint(jobs: list[LintJob], cache_dir: Path | None = None, linter: Linter | None = None) -> list[Finding]:
    """Lint every job; return all findings (empty when clean). Clean cfn-lint results are cached per pass
    and lint class (LintCache); every parameter file's values are checked every time (cheap)."""
    cache = LintCache(cache_dir) if cache_dir else None
    findings: list[Finding] = []
    passes: list[_Pass] = []
    for group in group_jobs(jobs):
        findings += _value_findings(group)
        template = json.loads(group[0].template)
        sets = [_parameter_values(json.loads(job.parameters), template) for job in group]
        blind = functools.cache(lambda: parameter_sets.length_blind(template, group[0].region))
        pending = []
        for members in parameter_sets.lint_classes(template, sets):
            signature = parameter_sets.signature(template, sets[members[0]])
            values = [sets[i] for i in members]
            if not (cache and cache.class_clean(group[0], signature, values, blind)):
                pending.append((members, signature, values))
        if pending:  # one cfn-lint run for every class not yet seen clean
            passes.append(_Pass(group, _payload(group, [m for m, _, _ in pending], sets),
                                [(signature, values) for _, signature, values in pending]))
        if not (cache and cache.standalone_clean(group[0])):
            passes.append(_Pass(group, _standalone_payload(group), []))
    if not passes:
        if linter:
            linter.stop()
        return _sorted(findings)
    linter = linter or Linter()
    # Separate payloads for the two passes of a template, so they can run on different cores.
    results = linter.run([p.payload for p in passes])
    for one_pass, result in zip(passes, results):
        result = [f for f in result if not _absent_model_monitor_type(f)]
        findings += [Finding(**f) for f in result]
        if result or not cache:
            continue
        if one_pass.classes:
            for signature, values in one_pass.classes:
                cache.remember_class(one_pass.group[0], signature, values)
        else:
            cache.remember_standalone(one_pass.group[0])
    return _sorted(findings)


# A Model Monitor resource type in a region that has none (ap-south-2, ca-west-1, ...; the processing engine runs
# there with the scikit-learn image): the params refuse `engine: model-monitor` and `both` in such a region
# (mmtool/config/params/environment.py), so every one of these resources has a false Condition, and CloudFormation
# skips a resource whose Condition is false, its type included (the AWS CDK's AWS::CDK::Metadata relies on it:
# aws/aws-cdk issue 25634). cfn-lint's E3006 does not evaluate the Condition (aws-cloudformation/cfn-lint issue 3495).
_ABSENT_TYPE = re.compile(r"Resource type '(AWS::SageMaker::[A-Za-z]+)' does not exist in '([a-z0-9-]+)'")
_MODEL_MONITOR_TYPES = {kind.resource_type for kind in KINDS} | {"AWS::SageMaker::MonitoringSchedule"}


def _absent_model_monitor_type(finding: dict[str, Any]) -> bool:
    found = _ABSENT_TYPE.match(finding["message"]) if finding["rule"] == "E3006" else None
    return bool(found) and found.group(1) in _MODEL_MONITOR_TYPES and found.group(2) not in image_accounts()


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(set(findings), key=lambda f: (f.file, f.line, f.rule, f.message))


def _payload(group: list[LintJob], classes: list[list[int]] | None = None,
             sets: list[dict[str, object]] | None = None) -> dict[str, Any]:
    """A JSON-able description of one cfn-lint run: one template, one region, one parameter file per lint
    class (mmtool.generate.parameter_sets: files that differ only in constrained values lint alike); ``classes``
    limits it to those classes (default: every class of the group)."""
    first = group[0]
    template = json.loads(first.template)
    if sets is None:
        sets = [_parameter_values(json.loads(job.parameters), template) for job in group]
    if classes is None:
        classes = parameter_sets.lint_classes(template, sets)
    return {
        "template": first.template.decode(),
        "template_path": str(first.template_path),
        "regions": [first.region],
        "parameter_sets": [{"source": str(group[members[0]].parameters_path), "values": sets[members[0]]}
                           for members in classes],
    }


def _value_findings(group: list[LintJob]) -> list[Finding]:
    """Every parameter file of the group checked against the template's parameter constraints."""
    template = json.loads(group[0].template)
    findings = []
    for job in group:
        text = job.parameters.decode()
        for problem in parameter_sets.check_values(template, json.loads(text)):
            findings.append(Finding(str(job.parameters_path), parameter_sets.line_of(text, problem.parameter),
                                    parameter_sets.RULE, f"{problem.render()} (declared in {job.template_path})"))
    return findings


def _standalone_payload(group: list[LintJob]) -> dict[str, Any]:
    """The template alone: no parameter set (cfn-lint then resolves each Ref to the Parameter's Default)."""
    first = group[0]
    return {
        "template": first.template.decode(),
        "template_path": str(first.template_path),
        "regions": sorted({first.region, CLI_DEFAULT_REGION}),
        "parameter_sets": [],
        "note": STANDALONE_NOTE,
    }


def _parameter_values(entries: list[dict[str, str]], template: dict) -> dict[str, object]:
    """Parameter-file entries as cfn-lint's parameter sets want them (list types as lists)."""
    declared = template.get("Parameters", {})
    values: dict[str, object] = {}
    for entry in entries:
        name, value = entry["ParameterKey"], entry["ParameterValue"]
        kind = declared.get(name, {}).get("Type", "String")
        if kind.startswith("AWS::SSM::Parameter::Value"):
            key = value.rsplit("/", 1)[-1]
            if key not in SSM_STAND_INS:
                raise KeyError(f"mmtool/generate/lint.py: add a stand-in value for SSM key {key!r} to SSM_STAND_INS")
            values[name] = SSM_STAND_INS[key]
        elif "List" in kind:
            values[name] = value.split(",")
        else:
            values[name] = value
    return values


# --- running cfn-lint ---------------------------------------------------------------------------


class _Engine:
    """cfn-lint's rules, loaded once, and a function to lint one payload with them."""

    def __init__(self) -> None:
        import importlib.util
        import sys

        # cfn-lint checks condition satisfiability with sympy, which tries to import each optional
        # SAT solver on every call (a search of sys.path each time when they are not installed):
        # mark the absent ones absent once. This halves the lint time of condition-heavy templates.
        for optional in ("pycosat", "pysat", "z3"):
            if optional not in sys.modules and importlib.util.find_spec(optional) is None:
                sys.modules[optional] = None  # type: ignore[assignment]

        from cfnlint.config import ConfigMixIn
        from cfnlint.runner import Runner

        from mmtool.generate import lint_speedups

        lint_speedups.install()  # memoizations that change no finding (its docstring says why)
        self.rules = Runner(ConfigMixIn(**LINT_CONFIG)).rules

    def run(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        from cfnlint.config import ConfigMixIn
        from cfnlint.context.parameters import ParameterSet
        from cfnlint.decode.decode import decode_str
        from cfnlint.runner import run_template_by_data

        template, errors = decode_str(payload["template"])
        matches = list(errors or [])
        if template is not None:
            parameters = [ParameterSet(source=p["source"], parameters=p["values"]) for p in payload["parameter_sets"]]
            config = ConfigMixIn(
                regions=payload["regions"],
                **({"parameters": parameters} if parameters else {}),
                **LINT_CONFIG,
            )
            matches += list(run_template_by_data(template, config, self.rules))
        note = payload.get("note", "")
        return [
            {"file": str(m.filename) if m.filename else payload["template_path"], "line": m.linenumber,
             "rule": m.rule.id, "message": m.message + note}
            for m in matches
        ]


class Linter:
    """Lints payloads, in a pre-forked process pool where the platform allows it."""

    def __init__(self) -> None:
        self._pid: int | None = None
        self._to_child: int | None = None
        self._from_child: int | None = None

    @classmethod
    def start(cls) -> Linter:
        """Fork a process that loads cfn-lint now, while the caller goes on synthesizing (the one `prestart` forked
        earlier, when there is one)."""
        if _prestarted and cls is Linter:
            return _prestarted.pop()
        linter = cls()
        if not hasattr(os, "fork"):
            return linter
        jobs_r, jobs_w = os.pipe()
        results_r, results_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child; covered by the build tests' results
            os.close(jobs_w)
            os.close(results_r)
            _serve(jobs_r, results_w)
        os.close(jobs_r)
        os.close(results_w)
        linter._pid, linter._to_child, linter._from_child = pid, jobs_w, results_r
        return linter

    def run(self, payloads: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        if self._pid is None:
            engine = _Engine()
            return [engine.run(p) for p in payloads]
        with os.fdopen(self._to_child, "w") as out:
            out.write(json.dumps(payloads))
        self._to_child = None
        with os.fdopen(self._from_child) as inp:
            reply = inp.read()
        self._from_child = None
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        if status != 0 or not reply:
            raise ToolError(f"the cfn-lint worker process failed (wait status {status}); rerun the build")
        answer = json.loads(reply)
        if "error" in answer:
            raise ToolError(f"cfn-lint failed: {answer['error']}")
        return answer["results"]

    def stop(self) -> None:
        """Abandon a started worker (nothing needed linting)."""
        if self._pid is not None:
            for fd in (self._to_child, self._from_child):
                if fd is not None:
                    os.close(fd)
            os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            self._pid = self._to_child = self._from_child = None


_prestarted: list[Linter] = []  # at most one, forked by prestart() and not yet taken by Linter.start()


def prestart(paths: Paths) -> None:
    """Fork the cfn-lint process first thing, before the command's own imports (`mmtool build` calls this before
    parsing its arguments): loading cfn-lint in that process is the cold build's critical path, and it then starts
    about half a second sooner. Not when every environment's last build is up to date (the fingerprint check
    takes milliseconds; `make build` with nothing changed stays as fast as it was). The build's Linter.start()
    takes it; stop_prestarted() ends it when nothing did (an up-to-date environment, an error, --help)."""
    from mmtool.generate import fingerprint

    if _prestarted or all(fingerprint.up_to_date(paths.root, paths.cache, paths.build, env, True)
                          for env in paths.environments()):
        return
    _prestarted.append(Linter.start())


def stop_prestarted() -> None:
    while _prestarted:
        _prestarted.pop().stop()


def _serve(jobs_fd: int, results_fd: int) -> None:  # pragma: no cover - child process
    """Child: load cfn-lint, wait for payloads, lint them on every core, reply, exit."""
    code = 0
    try:
        engine = _Engine()
        with os.fdopen(jobs_fd) as inp:
            text = inp.read()
        payloads = json.loads(text) if text else []
        reply = {"results": _parallel(engine, payloads)}
    except BaseException as exc:  # the parent turns this into a ToolError
        reply, code = {"error": f"{type(exc).__name__}: {exc}"}, 0
    with os.fdopen(results_fd, "w") as out:
        out.write(json.dumps(reply))
    os._exit(code)


def _parallel(engine: _Engine, payloads: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:  # pragma: no cover
    """Split payloads over one forked worker per core (largest templates first, balanced)."""
    workers = min(len(payloads), os.cpu_count() or 1)
    if workers <= 1:
        return [engine.run(p) for p in payloads]
    bins: list[list[int]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for index in sorted(range(len(payloads)), key=lambda i: -len(payloads[i]["template"])):
        target = loads.index(min(loads))
        bins[target].append(index)
        loads[target] += len(payloads[index]["template"])
    children = []
    for indexes in bins:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            try:
                body = json.dumps({str(i): engine.run(payloads[i]) for i in indexes})
            except BaseException as exc:
                body = json.dumps({"error": f"{type(exc).__name__}: {exc}"})
            with os.fdopen(write_fd, "w") as out:
                out.write(body)
            os._exit(0)
        os.close(write_fd)
        children.append((pid, read_fd))
    results: dict[int, list[dict[str, Any]]] = {}
    for pid, read_fd in children:
        with os.fdopen(read_fd) as inp:
            part = json.loads(inp.read() or '{"error": "worker exited without a result"}')
        os.waitpid(pid, 0)
        if "error" in part:
            raise RuntimeError(part["error"])
        results.update({int(k): v for k, v in part.items()})
    return [results[i] for i in range(len(payloads))]
