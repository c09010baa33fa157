"""`python scripts/analyzer ...` (a folder run as a program), `python -m scripts.analyzer ...`, and in the
processing job `python3 /opt/ml/processing/input/code/analyzer job`.

Run as a folder, this file is a top-level script (no parent package), so the package is loaded from
its own folder by location (importlib), the way the pre-processor is loaded: no sys.path edit.
"""

import importlib.util
import os
import sys


def _package():
    if __package__:
        return sys.modules[__package__]
    folder = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "analyzer", os.path.join(folder, "__init__.py"), submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    sys.modules["analyzer"] = module
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    package = _package()
    cli = importlib.import_module(package.__name__ + ".cli")
    sys.exit(cli.main())
