"""The analyzer as one file: a Python zip application, byte-identical for the same sources.

`python scripts/analyzer pack --out analyzer.pyz` writes an archive holding this package as
`analyzer/` and a top-level `__main__.py`, so `python3 analyzer.pyz job` runs it (Python puts the
archive first on its path: https://docs.python.org/3/library/zipapp.html). Entries are sorted, stored
uncompressed, dated 1980-01-01 and mode 0644, so the bytes (and a content-hashed S3 key) change only
when a source file does.
"""

import os
import zipfile

MAIN = b'"""Run the analyzer packed in this archive."""\nimport sys\n\nfrom analyzer.cli import main\n\nsys.exit(main())\n'
_EPOCH = (1980, 1, 1, 0, 0, 0)


def sources():
    """(archive name, bytes) of every file of the archive, in order."""
    folder = os.path.dirname(os.path.abspath(__file__))
    entries = [("__main__.py", MAIN)]
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            with open(os.path.join(folder, name), "rb") as stream:
                entries.append(("analyzer/" + name, stream.read()))
    return entries


def pack(destination):
    """Write the zip application to `destination`; return its path."""
    folder = os.path.dirname(os.path.abspath(destination))
    if folder:
        os.makedirs(folder, exist_ok=True)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_STORED) as archive:
        for name, data in sources():
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, data)
    return destination
