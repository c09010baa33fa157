"""From params to `build/<env>/`: synthesis of the templates (`synth`, `catalog_synth`, `clarify`), the monitoring
assets (`assets`), cfn-lint (`lint`), the skip-if-unchanged fingerprint (`fingerprint`) and the pipeline that
runs them in order (`pipeline`). Depends on `mmtool.config` and `templates/`, never on the CLI."""
