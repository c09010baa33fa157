#!/usr/bin/env python3
"""Command line of the Model Monitor deployer; `python build.py --help`. The logic lives in mmtool/."""

import sys

from mmtool.cli import main

if __name__ == "__main__":
    sys.exit(main())
