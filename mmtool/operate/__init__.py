"""Operating the monitors against AWS: the session helper (`awsenv`), what is deployed and what it did (`facts`),
the known failure modes as rules with the fix (`rules`), `status`, `runnow`, `baseline` and the dry run
(`dryrun`, `capture_download`). Depends on `mmtool.config` and `mmtool.build`, never on the CLI."""
