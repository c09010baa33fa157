"""Operating the monitors against AWS: the session helper (`awsenv`), what is deployed and what it did (`facts`),
the known failure modes as rules with the fix (`rules`), `status`, `runnow`, `baseline` and the dry run
(`dryrun`, `capture_download`), the processing engine's baselining (`analyzer_baseline`) and `compare_engines`.
Depends on `mmtool.config`, `mmtool.generate` and the analyzer (`scripts/analyzer`), never on the CLI."""
