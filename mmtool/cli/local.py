"""`make local-up` / `make local-down` (`python -m mmtool.cli.local up|down`): the local moto server for trying
plan, deploy, status and destroy by hand, without a flag on every command (docs/deploying.md, 'Trying it locally').

`up` starts the project's moto server (deployer/moto_server.py: moto with the project's fixes) in the background
on a free port of 127.0.0.1 and writes `.local/moto.env` (deployer/local.py says what it sets). While that file
exists, every command of the tool that calls AWS (`make ...` and `mmtool ...` alike) sends its calls there:
`activate` reads the file at the CLI boundary and says so in one line on stderr. `down` stops that server (the
process it started, by its pid) and removes the file; the state of the server goes with it.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
from pathlib import Path

from deployer.local import ENV_FILE, LOCAL_FLAG
from mmtool.config.workspace import Paths
from mmtool.errors import ToolError

PID_VARIABLE = "MMTOOL_LOCAL_PID"
#: The commands that call AWS, and so go to the local server while it is up.
AWS_COMMANDS = frozenset({"plan", "deploy", "destroy", "drift", "outputs", "unlock", "baseline", "dry-run", "status",
                          "run-now", "verify-notifications", "adopt", "catalog"})


def env_file(paths: Paths) -> Path:
    return paths.root / ENV_FILE


def read_env(path: Path) -> dict[str, str]:
    """The `export NAME=value` lines of the file."""
    return dict(re.findall(r"^export ([A-Z_][A-Z0-9_]*)=(\S*)$", path.read_text(), flags=re.M))


def activate(paths: Paths, say) -> str | None:
    """While `make local-up`'s server is up: put its settings into this process's environment and return its URL."""
    from deployer.moto_server import answering

    path = env_file(paths)
    if not path.exists():
        return None
    values = read_env(path)
    url = values.get("AWS_ENDPOINT_URL", "")
    if not answering(url):
        raise ToolError(f"{ENV_FILE}: the local moto server of `make local-up` ({url or 'no URL'}) does not answer. "
                        "Next: `make local-up` to start it again, or `make local-down` to send calls to AWS again.")
    os.environ.update(values)
    say(f"local: every AWS call goes to the moto server at {url} (`make local-down` to use AWS again)")
    return url


def _is_our_server(pid: int) -> bool:
    try:
        return b"deployer.moto_server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # no /proc (macOS): trust the pid the file recorded
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False


def up(paths: Paths) -> int:
    from deployer.moto_server import FAKE_CREDENTIALS, answering, start_detached

    path = env_file(paths)
    if path.exists() and answering(read_env(path).get("AWS_ENDPOINT_URL", "")):
        print(f"the local moto server is already up at {read_env(path)['AWS_ENDPOINT_URL']} ({ENV_FILE})")
        return 0
    path.parent.mkdir(exist_ok=True)
    try:
        pid, url = start_detached(path.parent / "moto.log")
    except RuntimeError as exc:  # it did not start, or did not answer: its log says why
        raise ToolError(f"make local-up: {exc}") from None
    settings = {"AWS_ENDPOINT_URL": url, **FAKE_CREDENTIALS, LOCAL_FLAG: "1", PID_VARIABLE: str(pid)}
    path.write_text(
        "# Written by `make local-up`: while this file exists, every AWS call of the tool goes to the local moto\n"
        "# server below (docs/deploying.md, 'Trying it locally'); `make local-down` stops it and removes the file.\n"
        + "".join(f"export {name}={value}\n" for name, value in settings.items())
    )
    print(f"local moto server up at {url} (pid {pid}, log {ENV_FILE.rsplit('/', 1)[0]}/moto.log).\n"
          "Now `make plan ENV=dev`, `make deploy ENV=dev`, `make status ENV=dev`, `make destroy ENV=dev` (and "
          "`.venv/bin/mmtool ...`) go to it, with moto's account: the account check does not apply.\n"
          "`make local-down` stops it; what it holds goes with it.")
    return 0


def down(paths: Paths) -> int:
    path = env_file(paths)
    if not path.exists():
        print("no local moto server (nothing to stop)")
        return 0
    pid = int(read_env(path).get(PID_VARIABLE, "0") or 0)
    if pid and _is_our_server(pid):
        os.kill(pid, signal.SIGTERM)
        print(f"local moto server stopped (pid {pid}); AWS calls go to AWS again")
    else:
        print("the local moto server had already stopped; AWS calls go to AWS again")
    path.unlink()
    return 0


def main(argv: list[str] | None = None, paths: Paths | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmtool.cli.local", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("up", "down"))
    args = parser.parse_args(argv)
    paths = paths or Paths()
    from mmtool.cli.boundary import boundary

    return boundary(lambda: up(paths) if args.action == "up" else down(paths))


if __name__ == "__main__":
    sys.exit(main())
