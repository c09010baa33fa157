"""Handing the build to a platform team: the bundle (`package`, with `diagram`) and Service Catalog publishing
(`catalog`). Depends on `mmtool.generate` and `mmtool.config`, never on the CLI."""
