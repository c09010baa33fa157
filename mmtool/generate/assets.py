"""Assets uploaded next to the templates: render the record pre-processor with its settings.

`scripts/record_preprocessor.py` runs inside AWS's analyzer container and cannot read our params
file, so the build writes the settings into the script itself: the module's single line starting
with ``CONFIG = `` is replaced by ``CONFIG = <repr of a dict with sorted keys>``. The result is a
pure function of (source, config), so the content hash in the asset's S3 key changes exactly when
the script or its settings change.

Standard library only (and `mmtool.errors`): no third-party imports here.
"""

from __future__ import annotations

import ast
import math

from mmtool.errors import EXIT_INPUT, ToolError

MARKER = "CONFIG = "


class AssetError(ToolError):
    """A script asset cannot be rendered (marker line missing, duplicated or settings not JSON-like)."""

    exit_code = EXIT_INPUT


def config_literal(config: dict, *, where: str = "config") -> str:
    """`repr()` of `config` with dict keys sorted at every level; only JSON-compatible values.

    Raises AssetError naming the offending key for anything `ast.literal_eval` could not read back
    identically (sets, tuples, objects) or JSON could not hold (NaN, infinity, non-string keys).
    """
    if not isinstance(config, dict):
        raise AssetError(f"{where}: the pre-processor settings must be a mapping, got {type(config).__name__}")
    literal = repr(_normalise(config, where))
    if ast.literal_eval(literal) != config:  # pragma: no cover - _normalise already refuses what would differ
        raise AssetError(f"{where}: settings do not survive repr()/literal_eval; use JSON-like values only")
    return literal


def _normalise(value: object, where: str) -> object:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AssetError(f"{where}={value!r}: not a JSON number; use a finite number")
        return value
    if isinstance(value, list):
        return [_normalise(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        bad = [key for key in value if not isinstance(key, str)]
        if bad:
            raise AssetError(f"{where}: key {bad[0]!r} is not a string; settings keys must be strings")
        return {key: _normalise(value[key], f"{where}.{key}") for key in sorted(value)}
    raise AssetError(
        f"{where}={value!r}: {type(value).__name__} is not JSON-compatible; "
        "use str, int, float, bool, None, lists or mappings"
    )


def render_preprocessor(source: str, config: dict, *, source_name: str = "scripts/record_preprocessor.py") -> str:
    """Return `source` with its one ``CONFIG = ...`` line replaced by ``CONFIG = <config literal>``.

    `source_name` is only used in error messages. Line endings and every other byte are kept.
    """
    lines = source.splitlines(keepends=True)
    hits = [number for number, line in enumerate(lines) if line.startswith(MARKER)]
    if not hits:
        raise AssetError(
            f"{source_name}: no line starts with {MARKER!r}; the pre-processor must keep exactly one "
            "module-level line 'CONFIG = {}' (at column 0) for the build to fill in its settings"
        )
    if len(hits) > 1:
        where = ", ".join(str(number + 1) for number in hits)
        raise AssetError(
            f"{source_name}: {len(hits)} lines start with {MARKER!r} (lines {where}); keep exactly one "
            "module-level 'CONFIG = {}' line and indent or reword the others"
        )
    number = hits[0]
    line = lines[number]
    body = line.rstrip("\r\n")
    try:
        ast.literal_eval(body[len(MARKER):].strip())
    except (ValueError, SyntaxError):
        raise AssetError(
            f"{source_name}:{number + 1}: {body!r} is not a complete literal on one line; write the default "
            "settings on that single line, e.g. 'CONFIG = {}'"
        ) from None
    ending = line[len(body):]
    lines[number] = MARKER + config_literal(config, where=f"{source_name} settings") + ending
    rendered = "".join(lines)
    try:  # a fleet's build renders each script once per settings (mmtool/generate/synth.py `_assets`)
        compile(rendered, source_name, "exec")
    except SyntaxError as exc:  # the literal line is valid by construction: the rest of the script is not
        raise AssetError(f"{source_name}: rendered script does not compile: {exc}") from None
    return rendered
