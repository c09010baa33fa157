"""Trying the tool by hand against the local moto server: `make local-up` (docs/deploying.md, 'Trying it
locally').

`make local-up` starts the project's moto server (deployer/moto_server.py) in the background and writes
:data:`ENV_FILE`, which sets ``AWS_ENDPOINT_URL`` to it (boto3 sends every call there), moto's fake credentials,
and ``MMTOOL_LOCAL=1``. The Makefile reads that file while it exists, so `make plan ENV=dev`, `make deploy`,
`make status`, `make destroy` need no extra flag; `source .local/moto.env` does the same for `mmtool`. moto answers
as its own account (123456789012), so in that mode the account check is skipped, but only while every call goes
to a loopback address: ``MMTOOL_LOCAL=1`` can never switch the check off against AWS. `make local-down` stops the
server and removes the file.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

ENV_FILE = ".local/moto.env"
LOCAL_FLAG = "MMTOOL_LOCAL"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def local_endpoint(endpoint_url: str | None = None) -> str | None:
    """The local server's URL when local mode is on (``MMTOOL_LOCAL=1``) and the calls go to a loopback address
    (``endpoint_url``, else ``AWS_ENDPOINT_URL``); None otherwise."""
    if os.environ.get(LOCAL_FLAG) != "1":
        return None
    url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or ""
    return url if urlparse(url).hostname in LOOPBACK else None
