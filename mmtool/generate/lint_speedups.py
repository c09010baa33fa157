"""Memoizations and shortcuts inside cfn-lint that change no result, only its speed (docs/performance.md).

Profiling our templates' lint (cProfile, the monitoring template with five parameter sets) shows hot spots
that recompute the same answer:

- `cfnlint.conditions.Conditions.satisfiable(conditions, parameter_values)` decides, with sympy's SAT solver,
  whether a combination of Condition states can hold for given parameter values. It is a pure function of
  the template's Conditions (fixed for one lint run, one `Conditions` object per template) and its two
  arguments, yet it is asked the same question about seven times over (3,628 calls, 493 distinct, for that
  template): two thirds of the run. The answer is now remembered per `Conditions` object, keyed by both
  arguments in full, in their order (cfn-lint may read the values in it); an exception
  (`UnknownSatisfisfaction`) is not remembered, so it is raised again each time.
- `dataclasses.fields()`, called in every `evolve()` of cfn-lint's Context, Path, Validator and FunctionFilter
  dataclasses (about half a million calls per build), rebuilds a tuple from the class's field table each time.
  A class's fields cannot change once it is defined, so the tuple is kept per class.
- `Context.evolve(**changes)` (about 90,000 calls for the monitoring template's two passes, a tenth of the lint)
  copies a frozen dataclass of 17 fields by calling its generated `__init__`, which sets each field through
  `object.__setattr__`. The shortcut builds the same object directly: a new `Context` whose instance dict holds
  each field, the changed value or the current one (`ref_values` merged first, exactly as the original does).
  Taken only for a plain `Context` and known field names (anything else goes to the original, which raises as
  before); `Context` has no `__post_init__` and every field is an `__init__` argument (checked at install), so
  `__init__` would have done nothing else. A cached property (`module_names`) is not copied: it is computed
  again from the new object's fields, as it is for one made by `__init__`.
- The functions in `_SPEEDUPS` below, each with a docstring saying what it keeps and why the result is the same:
  `create()`'s Validator classes, reused for equal arguments; fewer garbage collections; sympy's answers
  about the conditions' CNFs, kept per set of clauses.

None drops or changes a rule: tests/generate/test_lint_speedups.py lints templates with findings (Conditions,
parameter sets, Fn::Sub, two regions) with and without them and compares every finding. They are installed
only for the cfn-lint version they were checked against (`CHECKED_VERSION`, the pinned one); with another
version cfn-lint runs unchanged (slower) until someone rechecks them and moves the pin here.
"""

from __future__ import annotations

import dataclasses
import json
from importlib.metadata import version
from typing import Any, Callable

CHECKED_VERSION = "1.58.0"  # requirements.txt's cfn-lint; see the docstring before changing it
_FIELDS_MODULES = ("cfnlint.context.context", "cfnlint.jsonschema.validators", "cfnlint.jsonschema._filter")
_MEMO = "_mmtool_satisfiable"  # the attribute of a Conditions object that holds its answers
_installed: list[Callable[[], None]] = []  # the remover of the installed memoizations, if any


def install() -> Callable[[], None] | None:
    """Install the memoizations and the shortcut into the loaded cfn-lint; return a function that removes them (None when
    cfn-lint is not the checked version and nothing was changed)."""
    if version("cfn-lint") != CHECKED_VERSION:
        return None
    import importlib

    from cfnlint.conditions.conditions import Conditions

    if _installed:
        return _installed[0]  # already installed (a forked worker inherits the parent's)
    original_satisfiable = Conditions.satisfiable

    def satisfiable(self: Any, conditions: dict[str, bool], parameter_values: dict[str, Any]) -> bool:
        answers = self.__dict__.setdefault(_MEMO, {})
        # in their order, not sorted: an answer may depend on it
        key = (json.dumps(conditions), json.dumps(parameter_values, default=repr))
        if key not in answers:
            answers[key] = original_satisfiable(self, conditions, parameter_values)
        return answers[key]

    Conditions.satisfiable = satisfiable  # type: ignore[method-assign]

    per_class: dict[type, tuple[dataclasses.Field, ...]] = {}

    def fields(class_or_instance: Any) -> tuple[dataclasses.Field, ...]:
        cls = class_or_instance if isinstance(class_or_instance, type) else type(class_or_instance)
        if cls not in per_class:
            per_class[cls] = dataclasses.fields(cls)
        return per_class[cls]

    modules = [importlib.import_module(name) for name in _FIELDS_MODULES]
    patched = [module for module in modules if getattr(module, "fields", None) is dataclasses.fields]
    for module in patched:
        module.fields = fields  # type: ignore[attr-defined]

    from cfnlint.context.context import Context

    original_evolve = Context.evolve
    context_fields = dataclasses.fields(Context)
    order = tuple(f.name for f in context_fields)  # the order __init__ sets them in
    names = frozenset(order)
    plain = all(f.init for f in context_fields) and not hasattr(Context, "__post_init__") and \
        Context.__dataclass_params__.frozen  # type: ignore[attr-defined]

    def evolve(self: Any, **kwargs: Any) -> Any:
        if type(self) is not Context or not names.issuperset(kwargs):
            return original_evolve(self, **kwargs)
        if "ref_values" in kwargs:
            merged = self.ref_values.copy()
            merged.update(kwargs["ref_values"])
            kwargs["ref_values"] = merged
        current = self.__dict__
        new = object.__new__(Context)
        state = new.__dict__
        for name in order:
            state[name] = kwargs[name] if name in kwargs else current[name]
        return new

    if plain:
        Context.evolve = evolve  # type: ignore[method-assign]

    removers = [speedup() for speedup in _SPEEDUPS]

    def remove() -> None:
        for undo in reversed(removers):  # a later one may wrap what an earlier one installed
            undo()
        Context.evolve = original_evolve  # type: ignore[method-assign]
        Conditions.satisfiable = original_satisfiable  # type: ignore[method-assign]
        for module in patched:
            module.fields = dataclasses.fields  # type: ignore[attr-defined]
        _installed.clear()

    _installed.append(remove)
    return remove


def _memoize_validator_classes() -> Callable[[], None]:
    """`cfnlint.jsonschema.validators.create(validators, function_filter, fn_resolvers)` makes a new `Validator`
    dataclass (running `@dataclass`, which compiles its methods: a seventh of the lint) each time a rule extends
    a validator with its keywords, once per resource, Output and Parameter. The class is defined by its three
    arguments alone (its fields' defaults return them; nothing else in its body varies), so a class made
    from equal arguments is reused: the same keyword functions in the same order (bound methods of the same
    rule objects), an equal `FunctionFilter` and the same function resolvers. A `FunctionFilter` (every rule
    makes a new one with `evolve`) is compared by value: its type and its three fields (two flags and the
    keywords it groups), the whole of what `filter` reads; no one changes a filter after making it (cfn-lint
    only reads them and makes new ones with `evolve`), so a validator that holds an equal filter made earlier
    filters the same. No one changes a class, or the mappings it holds, after `create` (cfn-lint only reads
    `validator.validators`; `extend` copies them), so an instance of the reused class behaves as one of a new
    class would. Arguments that cannot be hashed, and a filter of another shape, go to `create` unchanged."""
    import cfnlint.jsonschema.validators as module
    from cfnlint.jsonschema._filter import FunctionFilter

    original = module.create
    classes: dict[tuple[Any, ...], type] = {}
    filter_fields = {"group_functions", "add_cfn_lint_keyword", "validate_dynamic_references"}

    def create(validators: Any = None, function_filter: Any = None, fn_resolvers: Any = None) -> Any:
        try:
            if type(function_filter) is not FunctionFilter or function_filter.__dict__.keys() != filter_fields:
                raise TypeError("not a filter this was checked against")
            key = (tuple(validators.items()) if validators is not None else None,
                   function_filter.add_cfn_lint_keyword, function_filter.validate_dynamic_references,
                   tuple(function_filter.group_functions),
                   tuple(fn_resolvers.items()) if fn_resolvers is not None else None)
            hash(key)
        except (TypeError, AttributeError):
            return original(validators=validators, function_filter=function_filter, fn_resolvers=fn_resolvers)
        if key not in classes:
            classes[key] = original(validators=validators, function_filter=function_filter, fn_resolvers=fn_resolvers)
        return classes[key]

    module.create = create

    def remove() -> None:
        module.create = original
        classes.clear()

    return remove


def _memoize_sat() -> Callable[[], None]:
    """sympy's `satisfiable(cnf)` as cfn-lint's two condition modules call it: always with an `EncodedCNF` and no
    argument but `all_models=False`, and always to test the answer's truth or whether it `is False` (every call
    site: `cfnlint.conditions.conditions`' `build_scenarios`, `check_implies`, `build_scenerios_on_region` and
    `satisfiable`; `cfnlint.context.conditions._conditions`' `evolve` and `is_reachable`). The answer, `False` or
    a model (a dict, empty when there is no variable), depends only on the clauses (a set of sets of numbered
    literals: their order and repeats do not change what satisfies them, and which symbol a number stands for
    does not either) and on the number of variables (an unconstrained variable still gets a value in the model).
    Those two are the key: the same CNF, rebuilt for every resource, Output, Fn::If and scenario under the same
    conditions (2,721 solver runs for a cold build, 722 distinct), is solved once per process. A model is
    returned as a copy of the first one found (its symbols may be those of another CNF with the same clauses;
    no caller reads them). Any other call goes to sympy unchanged."""
    import cfnlint.conditions.conditions as template_conditions
    import cfnlint.context.conditions._conditions as context_conditions
    from sympy.assumptions.cnf import EncodedCNF

    solve = _sympy_satisfiable()
    modules = [m for m in (template_conditions, context_conditions) if m.satisfiable is solve]
    answers: dict[tuple[int, frozenset[frozenset[int]]], Any] = {}

    def satisfiable(expr: Any, all_models: bool = False, **kwargs: Any) -> Any:
        if type(expr) is not EncodedCNF or all_models or kwargs:
            return solve(expr, all_models=all_models, **kwargs)
        key = (len(expr.symbols), frozenset(map(frozenset, expr.data)))
        if key not in answers:
            if len(answers) >= _SAT_ANSWERS:
                answers.clear()
            answers[key] = solve(expr, all_models=False)
        answer = answers[key]
        return dict(answer) if isinstance(answer, dict) else answer

    for module in modules:
        module.satisfiable = satisfiable  # type: ignore[attr-defined]

    def remove() -> None:
        for module in modules:
            module.satisfiable = solve  # type: ignore[attr-defined]
        answers.clear()

    return remove


def _sympy_satisfiable() -> Callable[..., Any]:
    from sympy.logic.inference import satisfiable

    return satisfiable


def _fewer_collections() -> Callable[[], None]:
    """Python's cyclic garbage collector, not cfn-lint: linting makes millions of short-lived objects (validators,
    contexts, errors, schema copies), and every 700 allocations (Python's default) the collector walks the young
    ones, every tenth time the older ones too: a tenth of the lint. The youngest generation now collects every
    `_GC_THRESHOLD` allocations (the older generations' ratios are kept). The collector only frees objects that
    nothing can reach any more, so when it runs cannot change what cfn-lint computes (neither cfn-lint nor sympy
    uses weak references or finalizers; regex's finalizers only drop a reference); the process holds a little
    more garbage between collections (about 10 MB more at the peak of linting a cold build's payloads)."""
    import gc

    before = gc.get_threshold()
    gc.set_threshold(max(before[0], _GC_THRESHOLD), *before[1:])

    def remove() -> None:
        gc.set_threshold(*before)

    return remove


_SAT_ANSWERS = 50_000  # at most this many answers are kept (a build keeps under a thousand)
_GC_THRESHOLD = 10_000  # allocations between collections of the youngest generation (Python's default: 700)
# Each installs one speedup and returns the function that removes it.
_SPEEDUPS: list[Callable[[], Callable[[], None]]] = [_memoize_validator_classes, _fewer_collections, _memoize_sat]
