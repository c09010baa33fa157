"""Build side of the Model Monitor deployer: params model, synthesis, lint and the CLI.

`templates/` turns a validated model into CloudFormation; `deployer/` (which never imports
troposphere) applies the result. This package sits between the two and is what `build.py` runs.
"""
