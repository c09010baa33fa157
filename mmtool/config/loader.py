"""Read `params/<env>.yaml` into a validated `Params`, or raise one `ParamsError` listing every problem.

Each problem names the file, the line, the field, the value and the fix. Hostile input (a file that
is not UTF-8, a huge file, an alias bomb, duplicate keys, non-string keys) is refused with the same
kind of message, never a traceback.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from mmtool.config.baselines import baseline_copies
from mmtool.config.layout import MAX_OBJECT_KEY_IN_URI, MAX_OBJECT_URI
from mmtool.config.params import FieldError, Params
from mmtool.errors import ParamsError, Problem

MAX_BYTES = 256 * 1024  # a real params file is a few KB
MAX_NODES = 20_000  # after alias expansion
MAX_DEPTH = 32

Path_ = tuple  # a location inside the document: keys and list indexes


def display_path(path: Path) -> str:
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_params(path: Path, repo_root: Path | None = None) -> Params:
    """Load and validate one environment's params file. `repo_root` is where scripts/ lives."""
    name = display_path(path)
    data, lines = read_yaml(path, name)
    return params_from_data(data, name, lines, path.stem, repo_root or path.absolute().parent.parent)


def params_from_data(data: Any, name: str, lines: dict[Path_, int] | None, environment: str | None,
                     repo_root: Path) -> Params:
    """Validate already-read YAML data. Returns Params or raises ParamsError, never anything else."""
    lines = lines or {}
    if not isinstance(data, dict):
        raise ParamsError([Problem(name, "", "the file must be a YAML mapping of keys (project:, region:, ...)",
                                   value=type(data).__name__, line=1)])
    try:
        params = Params.model_validate(data, context={"environment": environment})
    except ValidationError as exc:
        raise ParamsError(_problems(exc, name, lines)) from None
    problems = _check_files(params, name, lines, repo_root) + _check_copy_keys(params, name, lines)
    if problems:
        raise ParamsError(problems)
    return params


# --- YAML ---------------------------------------------------------------------------------------


def read_yaml(path: Path, name: str) -> tuple[Any, dict[Path_, int]]:
    raw = read_params_bytes(path, name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ParamsError([Problem(name, "", f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                                   "save the file as UTF-8", line=line, show_value=False)]) from None
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> tuple[Any, dict[Path_, int]]:
    """A params file's text as Python data, with the line of every key and list item."""
    if not text.strip() or all(l.strip().startswith("#") or not l.strip() for l in text.splitlines()):
        raise ParamsError([Problem(name, "", "the file is empty; start from params/dev.yaml", show_value=False)])
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # raised while reading, before any parsing
        line = text[: exc.position].count("\n") + 1
        raise ParamsError([Problem(name, "", f"the file contains the control character #x{exc.character:04x}, "
                                   "which YAML does not allow; remove it", line=line, show_value=False)]) from None
    try:
        node = _libyaml_node(text)
        if node is None:  # libyaml did not read it (or it is empty): PyYAML's own parser does, and words any error
            node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise ParamsError([Problem(name, "", f"YAML syntax error: {detail}",
                                   line=mark.line + 1 if mark else None, show_value=False)]) from None
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())  # one line
        raise ParamsError([Problem(name, "", f"YAML error: {detail}", show_value=False)]) from None
    except RecursionError:  # PyYAML's parser recurses per level: a few hundred levels (libyaml refuses 1,000)
        raise ParamsError([Problem(name, "", f"nested deeper than {MAX_DEPTH} levels (hundreds of brackets or "
                                   "indented levels); a params file is a few levels deep", show_value=False)]) from None
    finally:
        loader.dispose()
    if node is None:
        raise ParamsError([Problem(name, "", "the file is empty; start from params/dev.yaml", show_value=False)])
    builder = _Builder(name)
    return builder.build(node, ()), builder.lines


# Where libyaml and PyYAML's own parser are known to read a text differently (found by comparing the two on
# mutated params files, tests/config/test_yaml_parsers.py): tabs, which PyYAML refuses in places YAML allows them;
# tags (a lone '!' is null to one, a string to the other); a byte-order mark after the start; an explicit key ('?'
# starting a line or following '- ', '? ', ': ') with no value, whose empty value each places on another line; a
# block scalar's header with a '#' right after it (`|#`, `>-#`: libyaml takes a comment, PyYAML refuses it).
_LIBYAML_UNSAFE = re.compile(r"[\t!]|.\ufeff|(?:^|[\n\r\x85\u2028\u2029])[ ?:-]*\?(?:[ \n\r\x85\u2028\u2029]|$)"
                             r"|[|>][-+0-9]*#", re.DOTALL)


def _libyaml_node(text: str) -> yaml.Node | None:
    """The document's node tree composed by libyaml, PyYAML's C extension (ten times faster than its pure-Python
    parser on a 200-endpoint file), the same tree as PyYAML's own parser composes, line numbers included; or None
    when libyaml is not installed, the text holds something the two read differently (`_LIBYAML_UNSAFE`, a '?' in
    a plain scalar of a flow collection) or libyaml refuses it: PyYAML's parser then reads it, and words any error
    as the messages have always been worded."""
    c_loader = getattr(yaml, "CSafeLoader", None)
    if c_loader is None or _LIBYAML_UNSAFE.search(text):
        return None
    loader = c_loader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()
    return node if node is not None and not _flow_question_mark(node) else None


def _flow_question_mark(root: yaml.Node) -> bool:
    """Whether a plain scalar inside a flow collection ([...], {...}) holds a '?': PyYAML's parser ends the scalar
    there and refuses the text, libyaml keeps it (outside brackets, as in cron(0 * ? * * *), both read it alike).
    A node an alias repeats counts where either of them stands."""
    seen: set[tuple[int, bool]] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]  # a loop, not recursion: libyaml nests 1,000 levels deep
    while stack:
        node, in_flow = stack.pop()
        if (id(node), in_flow) in seen:  # an alias: the same node again
            continue
        seen.add((id(node), in_flow))
        if isinstance(node, yaml.ScalarNode):
            if in_flow and not node.style and "?" in node.value:
                return True
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, in_flow or bool(node.flow_style)) for item in node.value)
        else:
            flow = in_flow or bool(node.flow_style)
            stack.extend((part, flow) for pair in node.value for part in pair)
    return False


def read_params_bytes(path: Path, name: str) -> bytes:
    """The file's bytes, refusing without reading what is not a regular file (a directory; a FIFO, which would
    block; a device such as a symlink to /dev/zero, which never ends) and reading at most MAX_BYTES + 1 bytes (a
    file that grows after the check is cut off and refused)."""
    try:
        info = path.stat()  # follows a symlink: what matters is what it points at
    except FileNotFoundError:
        raise ParamsError([Problem(name, "", "file not found; create it from params/dev.yaml", show_value=False)]) from None
    except OSError as exc:
        raise ParamsError([Problem(name, "", f"cannot read the file ({exc.strerror}); check it and its permissions",
                                   show_value=False)]) from None
    if not stat.S_ISREG(info.st_mode):
        raise ParamsError([Problem(name, "", f"not a regular file but {_file_kind(info.st_mode)}; a params file is a "
                                   "YAML text file (replace it with one, e.g. a copy of params/dev.yaml)",
                                   show_value=False)])
    if info.st_size > MAX_BYTES:
        raise ParamsError([Problem(name, "", f"the file is {info.st_size} bytes; a params file is at most {MAX_BYTES}",
                                   show_value=False)])
    try:
        # O_NONBLOCK: if the file was swapped for a FIFO since the check, opening it must not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ParamsError([Problem(name, "", f"cannot open the file ({exc.strerror}); check it and its permissions",
                                   show_value=False)]) from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # swapped between the check and the open
            raise ParamsError([Problem(name, "", "not a regular file (it changed while being read); a params file is "
                                       "a YAML text file", show_value=False)])
        raw = handle.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ParamsError([Problem(name, "", f"the file is more than {MAX_BYTES} bytes (it grew while being read); a "
                                   f"params file is at most {MAX_BYTES}", show_value=False)])
    return raw


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a special file"


_PLAIN_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


class _Builder:
    """Turn a composed YAML node graph into Python data, recording the line of every key."""

    def __init__(self, name: str):
        self.name = name
        self.lines: dict[Path_, int] = {}
        self.remaining = MAX_NODES
        self.constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node, path: Path_, message: str) -> ParamsError:
        return ParamsError([Problem(self.name, _dotted(path), message, line=node.start_mark.line + 1,
                                    show_value=False)])

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.remaining -= 1
        if self.remaining < 0:
            raise self.fail(node, path, f"the document expands to more than {MAX_NODES} values "
                            "(an alias/anchor bomb?); write the values out")
        if len(path) > MAX_DEPTH:
            raise self.fail(node, path, f"nested deeper than {MAX_DEPTH} levels")
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_COLLECTION_TAGS:
            # a tag such as !!python/object on a list or mapping would otherwise be dropped silently
            raise self.fail(node, path, f"the YAML tag {node.tag!r} is not allowed in a params file; write plain "
                            "values without tags")
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    merged = self.build(value_node, path)
                    for item in merged if isinstance(merged, list) else [merged]:
                        if not isinstance(item, dict):
                            raise self.fail(value_node, path, "'<<' merges only mappings")
                        for key, value in item.items():
                            result.setdefault(key, value)
                    continue
                key = self.constructor.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
                if not isinstance(key, str):
                    raise self.fail(key_node, path, f"keys must be plain strings, not {key!r}")
                if key in result and key_node.tag != "tag:yaml.org,2002:merge":
                    raise self.fail(key_node, path + (key,), f"duplicate key {key!r}; YAML would silently keep "
                                    "only the last one: remove one of them")
                self.lines[path + (key,)] = key_node.start_mark.line + 1
                result[key] = self.build(value_node, path + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (index,)) for index, item in enumerate(node.value)]
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            # the problem alone: str(exc) spans several lines (a code excerpt) and errors are one line each
            detail = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise self.fail(node, path, f"cannot read this value: {detail}") from None


# --- validation errors -> problems --------------------------------------------------------------


def _dotted(path: Path_) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _field_path(field: str) -> Path_:
    parts: list[Any] = []
    for chunk in field.replace("]", "").split("."):
        name, *indexes = chunk.split("[")
        if name:
            parts.append(name)
        parts.extend(int(i) for i in indexes)
    return tuple(parts)


def _line(lines: dict[Path_, int], path: Path_) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _problems(exc: ValidationError, name: str, lines: dict[Path_, int]) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        value = error.get("input")
        message = error["msg"].removeprefix("Value error, ")
        show_value = True
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, FieldError):
            loc = loc + _field_path(cause.field)
            value = cause.value
            message = str(cause)
        elif error["type"] == "extra_forbidden":
            message = _unknown_key_message(loc)
            show_value = False
        elif error["type"] == "missing":
            message = f"required key is missing: {_description(loc)}"
            show_value = False
        line = _line(lines, loc)
        inherited = _from_defaults(loc, lines)
        if inherited is not None:  # the value came from defaults: point at it there
            message += f" (inherited from {_dotted(inherited)})"
            line = _line(lines, inherited)
        problem = Problem(name, _dotted(loc), message, value=value, line=line, show_value=show_value)
        if problem not in problems:
            problems.append(problem)
    return problems


def _from_defaults(loc: Path_, lines: dict[Path_, int]) -> Path_ | None:
    """The defaults: key an endpoint's value was merged from, when the endpoint does not set it itself."""
    if len(loc) < 3 or loc[0] != "endpoints" or loc in lines:
        return None
    if loc[2] == "monitoring":
        inherited = ("defaults", "monitoring") + loc[3:]
    elif len(loc) > 3 and loc[2] in ("create", "existing") and loc[3] == "data_capture":
        inherited = ("defaults", "data_capture") + loc[4:]
    else:
        return None
    for end in range(len(inherited), 1, -1):
        if inherited[:end] in lines and loc[:end + (1 if loc[2] == "monitoring" else 2)] not in lines:
            return inherited[:end]
    return None


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    """A model's fields by the key a params file uses (the alias where one is set)."""
    return {field.alias or name: field for name, field in model.model_fields.items()}


def _model_at(path: Path_) -> type[BaseModel] | None:
    model: Any = Params
    keyed = False  # the previous part was a mapping of sections (endpoints:): this part is its key
    for part in path:
        if isinstance(part, int) or model is None:
            continue
        if keyed:
            keyed = False
            continue
        field = _fields(model).get(part)
        model = _inner_model(field.annotation) if field else None
        keyed = field is not None and _is_section_map(field.annotation)
    return model


def _is_section_map(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is dict:
        return _inner_model(typing.get_args(annotation)[1]) is not None
    return origin in (typing.Union, types.UnionType) and any(_is_section_map(a) for a in typing.get_args(annotation))


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is dict:
        return _inner_model(typing.get_args(annotation)[1])
    if origin in (typing.Union, types.UnionType, list, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found:
                return found
    return None


def _unknown_key_message(loc: Path_) -> str:
    model = _model_at(loc[:-1])
    allowed = sorted(_fields(model)) if model else []
    guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    hint = f"did you mean {guess[0]!r}? " if guess else ""
    return f"unknown key; {hint}allowed keys here: {', '.join(allowed)}"


def _description(loc: Path_) -> str:
    model = _model_at(loc[:-1])
    field = _fields(model).get(str(loc[-1])) if model else None
    return (field.description or "") if field else ""


def _check_copy_keys(params: Params, name: str, lines: dict[Path_, int]) -> list[Problem]:
    """The copy `make deploy` makes of a baseline lands under the endpoint's baselines prefix with the source's file
    name (mmtool/config/baselines.py): that key must fit S3's 1,024 bytes too."""
    problems = []
    for copy in baseline_copies(params):
        size = len(copy.key.encode("utf-8"))
        if size > MAX_OBJECT_KEY_IN_URI:
            loc = _field_path(copy.field)
            problems.append(Problem(name, copy.field, f"the copy of this baseline in the project bucket would have the "
                                    f"{size}-byte key {copy.key[:60]}...; the job definition names it in an S3 URI of at "
                                    f"most {MAX_OBJECT_URI} characters, which leaves {MAX_OBJECT_KEY_IN_URI} for the key "
                                    "(S3 keys are at most 1024 bytes): use a shorter file name",
                                    value=copy.source, line=_line(lines, loc)))
    return problems


# --- checks that need the file system -----------------------------------------------------------


MAX_SCRIPT_BYTES = 1024 * 1024  # a pre- or post-processor is a few KB; the build reads it whole


def _script_problem(path: Path) -> str | None:
    """Why a script the jobs load cannot be used (missing, not a regular file, too large), or None."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return f"no such file in the repository ({path})"
    except OSError as exc:
        return f"cannot read it ({exc.strerror})"
    if not stat.S_ISREG(info.st_mode):
        return f"not a regular file but {_file_kind(info.st_mode)} ({path}); name the script's .py file"
    if info.st_size > MAX_SCRIPT_BYTES:
        return f"the file is {info.st_size} bytes; a script the jobs load is at most {MAX_SCRIPT_BYTES}"
    return None


def _check_files(params: Params, name: str, lines: dict[Path_, int], root: Path) -> list[Problem]:
    problems = []
    for endpoint in params.fleet():
        dq = endpoint.monitoring.data_quality
        at = ("monitoring",) if endpoint.legacy else ("endpoints", endpoint.key, "monitoring")
        for key in ("record_preprocessor", "post_analytics_processor"):
            script = getattr(dq, key)
            why = _script_problem(root / script) if script else None
            if why:
                loc = at + ("data_quality", key)
                inherited = _from_defaults(loc, lines)
                problem = Problem(name, _dotted(loc), why + (f" (inherited from {_dotted(inherited)})" if inherited
                                                             else ""),
                                  value=script, line=_line(lines, inherited or loc))
                if problem not in problems:
                    problems.append(problem)
    return problems
