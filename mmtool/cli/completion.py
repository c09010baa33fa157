"""`mmtool completion`: a bash completion script for the console command (zsh: after `bashcompinit`).

Static: the verbs, each verb's flags and the choices of flags that have them are written into the script from
the same argparse parsers the command uses (so it is never out of step with them after regenerating); the
environments (`--env`) are read from the project's params/ folder when completing. argcomplete would complete
from the live parser instead, at the price of a dependency and of starting Python on every Tab.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any, Callable

from mmtool.config.workspace import Paths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", nargs="?", choices=("bash", "zsh"), default="bash",
                        help="bash (default) or zsh (the same script; zsh loads bashcompinit first)")


def cmd_completion(args: argparse.Namespace, paths: Paths) -> int:
    print(script(args.make_parser, args.prog, paths, zsh=args.shell == "zsh"), end="")
    return 0


ParserFactory = Callable[..., argparse.ArgumentParser]  # mmtool.cli._parser(selected=verb, prog=prog)


def verb_options(make_parser: ParserFactory, prog: str) -> dict[str, tuple[list[str], dict[str, list[str]]]]:
    """verb -> (its flags, flag -> choices), from the parser of each verb (the engine's flags included)."""
    verbs = _subparsers(make_parser(prog=prog))
    found = {}
    for verb in verbs:
        parser = _subparsers(make_parser(selected=verb, prog=prog))[verb]
        flags: list[str] = []
        choices: dict[str, list[str]] = {}
        for action in parser._actions:
            flags += [o for o in action.option_strings if o.startswith("--")]
            if action.option_strings and action.choices:
                choices.update({o: [str(c) for c in action.choices] for o in action.option_strings})
        found[verb] = (flags, choices)
    return found


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, Any]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def script(make_parser: ParserFactory, prog: str, paths: Paths, *, zsh: bool = False) -> str:
    name = prog.replace(".", "_").replace("-", "_")
    options = verb_options(make_parser, prog)
    cases = []
    for verb, (flags, choices) in options.items():
        for flag, values in choices.items():
            cases.append(f"    {verb}:{flag}) words={shlex.quote(' '.join(values))};;")
        cases.append(f"    {verb}:*) words={shlex.quote(' '.join(flags))};;")
    params = shlex.quote(str(paths.params))
    return "\n".join([
        f"# bash completion for {prog}: source <({prog} completion{' zsh' if zsh else ''})",
        *(["autoload -U +X bashcompinit && bashcompinit"] if zsh else []),
        f"_{name}_complete() {{",
        '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" words',
        '  if [ "$COMP_CWORD" -eq 1 ]; then',
        f"    COMPREPLY=($(compgen -W {shlex.quote(' '.join([*options, '--help', '--version']))} -- \"$cur\"))",
        "    return",
        "  fi",
        '  if [ "$prev" = --env ]; then',
        f"    words=$(cd {params} 2>/dev/null && for f in *.yaml; do [ -e \"$f\" ] && echo \"${{f%.yaml}}\"; done)",
        '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
        "    return",
        "  fi",
        '  case "${COMP_WORDS[1]}:$prev" in',
        *cases,
        "    *) words=;;",
        "  esac",
        '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
        "}",
        f"complete -o default -F _{name}_complete {prog}",
        "",
    ])
