# Everyday entry points. `make help` lists them. Every target creates .venv from the pinned
# requirements on first use, so a fresh machine needs only python3 and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_SYS ?= python3
VENV       := .venv
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.installed
ENV        ?=
# Values given on the command line (ENV, ENDPOINT, ARGS, DATASET, ...) reach the recipes as environment variables,
# which bash expands without reading them as shell code: `make plan ENV='dev; echo x'` is an unknown environment,
# never a command. `$(value ENV)` takes the value as written (`$(ENV)` would expand a `$(shell ...)` inside it). A
# recipe writes "$$MM_ENV", never $$(ENV). ARGS is split into words, nothing more (no quotes, no commands).
export MM_ENV         = $(value ENV)
export MM_ENDPOINT    = $(value ENDPOINT)
export MM_ARGS        = $(value ARGS)
export MM_DATASET     = $(value DATASET)
export MM_FORMAT      = $(value FORMAT)
export MM_ENGINE      = $(value ENGINE)
export MM_LOCAL       = $(value LOCAL)
export MM_CAPTURE     = $(value CAPTURE)
export MM_CONSTRAINTS = $(value CONSTRAINTS)
export MM_STATISTICS  = $(value STATISTICS)
export MM_MONITOR     = $(value MONITOR)
export MM_OUTPUT      = $(value OUTPUT)
export MM_OFFERS      = $(value OFFERS)
export MM_LIVE        = $(value LIVE)
export MM_CDK_PEER_SRC = $(value CDK_PEER_SRC)
# a default must be set before `unexport` below, which defines a variable that is not yet defined (empty)
CDK_PEER_SRC ?= ../shared/peers/cdk
# make would export a command-line variable itself, expanding it (and running a $(shell ...) in it) to do so
unexport ENV ENDPOINT ARGS DATASET FORMAT ENGINE LOCAL CAPTURE CONSTRAINTS STATISTICS MONITOR OUTPUT OFFERS LIVE AUTO_APPROVE CDK_PEER_SRC
ENV_FLAG    = $(if $(value ENV),--env "$$MM_ENV",)
ENV_ARG     = --env "$$MM_ENV"
ARGS_WORDS  = $$MM_ARGS
# ENDPOINT=key: one fleet endpoint's stacks (plan, deploy, destroy, drift, outputs) or monitors (status); default the
# whole environment. run-now, baseline, dry-run and verify-notifications act on one endpoint: ENDPOINT= is required for a
# fleet of more than one
ENDPOINT   ?=
ENDPOINT_FLAG = $(if $(value ENDPOINT),--endpoint "$$MM_ENDPOINT",)
ARGS       ?=
# Security scanners, each in its own folder under .tools/ (ignored); `make test` needs them too.
CHECKOV_VENV    := .tools/checkov
CHECKOV_STAMP   := $(CHECKOV_VENV)/.installed
CFN_GUARD_DIR   := .tools/cfn-guard
CFN_GUARD_STAMP := $(CFN_GUARD_DIR)/.installed
SECURITY_TOOLS  := $(CHECKOV_STAMP) $(CFN_GUARD_STAMP)
# The SageMaker Python SDK for the fidelity test (tests/test_sdk_fidelity.py), in a folder of its own too.
SDK_VENV        := .tools/sagemaker-sdk
SDK_STAMP       := $(SDK_VENV)/.installed

# The pinned requirements, then this checkout itself (editable, no dependencies): the console command
# .venv/bin/mmtool, which pipelines call directly so the exit codes reach them (docs/deploying.md).
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON_SYS) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check pip==26.3
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

.PHONY: venv
venv: $(STAMP) ## Create .venv from requirements.txt, with the console command .venv/bin/mmtool (done automatically by every target)

# `make help` lists these apart, after the everyday commands.
MAINTAINER_TARGETS := venv test security-tools sdk-tools snapshots docs bench prices lock lock-security lock-sdk clean distclean

.PHONY: help
help: ## List the targets
	@echo "Everyday commands (ENV=e, ENDPOINT=key, AUTO_APPROVE=1, ARGS=...; in pipelines .venv/bin/mmtool, docs/deploying.md):"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -v skip=" $(MAINTAINER_TARGETS) " \
	  'BEGIN {FS = ":.*## "} index(skip, " " $$1 " ") == 0 {printf "  %-22s %s\n", $$1, $$2}'
	@echo
	@echo "Maintainers (tests, snapshots, docs, benchmarks, dependencies):"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -v keep=" $(MAINTAINER_TARGETS) " \
	  'BEGIN {FS = ":.*## "} index(keep, " " $$1 " ") > 0 {printf "  %-22s %s\n", $$1, $$2}'

.PHONY: build
build: $(STAMP) ## Validate and synthesize templates and parameter files into build/ (all environments, or ENV=e), like `cdk synth`: no cfn-lint
	@$(PY) build.py build $(ENV_FLAG) $(ARGS_WORDS)

.PHONY: validate
validate: $(STAMP) ## Check params/<env>.yaml only (ENV=e or all)
	@$(PY) build.py validate $(ENV_FLAG) $(ARGS_WORDS)

.PHONY: lint
lint: $(STAMP) ## Build, then lint every template with cfn-lint: the offline check for a pipeline (ENV=e or all)
	@$(PY) build.py lint $(ENV_FLAG) $(ARGS_WORDS)

.PHONY: plan deploy destroy drift outputs unlock
AUTO_APPROVE ?=
YES_FLAG = $(if $(filter 1 yes true,$(value AUTO_APPROVE)),--yes,)
plan: $(STAMP) ## Show what a deploy would change, like terraform plan (ENV=e [ENDPOINT=key]; ARGS=--json)
	@$(PY) build.py plan $(ENV_ARG) $(ENDPOINT_FLAG) $(ARGS_WORDS)

deploy: $(STAMP) ## Build and lint, plan, confirm and deploy ENV=e [ENDPOINT=key] (AUTO_APPROVE=1 skips the question)
	@$(PY) build.py deploy $(ENV_ARG) $(ENDPOINT_FLAG) $(YES_FLAG) $(ARGS_WORDS)

destroy: $(STAMP) ## Delete ENV=e's [ENDPOINT=key's] stacks in reverse order; keeps the bucket, its data and the key
	@$(PY) build.py destroy $(ENV_ARG) $(ENDPOINT_FLAG) $(YES_FLAG) $(ARGS_WORDS)

drift: $(STAMP) ## Detect drift of ENV=e's stacks [ENDPOINT=key]
	@$(PY) build.py drift $(ENV_ARG) $(ENDPOINT_FLAG) $(ARGS_WORDS)

OUTPUT ?=
outputs: $(STAMP) ## Print ENV=e's stack outputs [ENDPOINT=key] (ARGS=--json); OUTPUT=BucketName: that value alone
	@$(PY) build.py outputs $(ENV_ARG) $(if $(value OUTPUT),"$$MM_OUTPUT",) $(ENDPOINT_FLAG) $(ARGS_WORDS)

unlock: $(STAMP) ## Remove ENV=e's deploy lock (ENDPOINT=key: that endpoint's) left by a run that died: shows who held it, asks (AUTO_APPROVE=1 skips)
	$(if $(value ENV),,$(error ENV is required: make unlock ENV=dev))
	@$(PY) build.py unlock $(ENV_ARG) $(ENDPOINT_FLAG) $(YES_FLAG) $(ARGS_WORDS)

.PHONY: cost prices
cost: $(STAMP) ## Monthly estimate of ENV=e: per endpoint and monitor, per environment, each price with its source (ARGS=--json)
	$(if $(value ENV),,$(error ENV is required: make cost ENV=dev))
	@$(PY) build.py cost $(ENV_ARG) $(ARGS_WORDS)

OFFERS ?=
LIVE   ?=
prices: $(STAMP) ## Maintainers: rebuild mmtool/cost/data/prices.json from offer files (OFFERS=DIR) or the Price List API (LIVE=1)
	@$(PY) build.py prices $(if $(value OFFERS),--offers "$$MM_OFFERS",) $(if $(filter 1 yes true,$(value LIVE)),--live-prices,) $(ARGS_WORDS)

.PHONY: local-up local-down
local-up: $(STAMP) ## Start a local moto server in the background: until local-down, plan/deploy/status/destroy... go to it
	@$(PY) -m mmtool.cli.local up

local-down: $(STAMP) ## Stop the local moto server of local-up (its state goes with it): AWS calls go to AWS again
	@$(PY) -m mmtool.cli.local down

.PHONY: demo
demo: $(STAMP) ## Whole lifecycle of dev on a local moto server: deploy, no-op, a replacing change, destroy (data kept)
	@$(PY) -m mmtool.cli.demo --env dev

.PHONY: test
test: $(STAMP) $(SECURITY_TOOLS) $(SDK_STAMP) ## Run the whole test suite (includes the security scans and the SDK comparison)
	@$(PY) -m pytest -n auto --dist loadfile $(ARGS_WORDS)

# --- security scanners: each in its own folder under .tools/ (ignored), pinned, installed on first use
# checkov's own pins clash with requirements.txt (see requirements-security.in): separate virtualenv.
$(CHECKOV_STAMP): requirements-security.txt
	@rm -rf $(CHECKOV_VENV) && $(PYTHON_SYS) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check pip==26.3
	@$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-security.txt
	@touch $@

# cfn-guard binary and the AWS Control Tower rules from @cdklabs/cdk-validator-cfnguard, exactly as
# tools/cfn-guard/package-lock.json pins it (integrity hash); its aws-cdk-lib peer is not needed.
$(CFN_GUARD_STAMP): tools/cfn-guard/package.json tools/cfn-guard/package-lock.json
	@rm -rf $(CFN_GUARD_DIR) && mkdir -p $(CFN_GUARD_DIR)
	@cp tools/cfn-guard/package.json tools/cfn-guard/package-lock.json $(CFN_GUARD_DIR)/
	@npm ci --prefix $(CFN_GUARD_DIR) --legacy-peer-deps --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

# The SageMaker SDK's pins clash with requirements.txt (see requirements-sdk.in): separate virtualenv. About a
# minute and 300 MB (numpy, pandas) on a fresh machine; nothing when requirements-sdk.txt is unchanged.
$(SDK_STAMP): requirements-sdk.txt
	@rm -rf $(SDK_VENV) && $(PYTHON_SYS) -m venv $(SDK_VENV)
	@$(SDK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check pip==26.3
	@$(SDK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sdk.txt
	@touch $@

# The peer CDK app for `make bench` (benchmarks/cdk_compare.py): copied from CDK_PEER_SRC (outside this repository)
# into .tools/cdk-peer/ with its locked packages; about 260 MB. Never part of `make test`.
CDK_PEER_DIR := .tools/cdk-peer
.PHONY: cdk-peer
cdk-peer: ## Install the peer CDK app into .tools/cdk-peer/ for the cold-build comparison (CDK_PEER_SRC=folder)
	@test -f "$$MM_CDK_PEER_SRC/package-lock.json" || { echo "no CDK app in $$MM_CDK_PEER_SRC: set CDK_PEER_SRC=<folder>"; exit 2; }
	@rm -rf $(CDK_PEER_DIR) && mkdir -p $(CDK_PEER_DIR)
	@cp -R "$$MM_CDK_PEER_SRC/." $(CDK_PEER_DIR)/ && chmod -R u+w $(CDK_PEER_DIR)
	@npm ci --prefix $(CDK_PEER_DIR) --no-audit --no-fund --loglevel=error >/dev/null

.PHONY: sdk-tools
sdk-tools: $(SDK_STAMP) ## Install the pinned SageMaker Python SDK into .tools/ (for the SDK comparison test)

.PHONY: lock-sdk
lock-sdk: ## Re-resolve requirements-sdk.in into the pinned requirements-sdk.txt
	$(call lock_tool,sdk,.tools/sagemaker-sdk/,the SDK's)

.PHONY: security-tools
security-tools: $(SECURITY_TOOLS) ## Install checkov and cfn-guard (with the Control Tower rules) into .tools/

.PHONY: security
security: $(STAMP) $(SECURITY_TOOLS) ## Build and lint, then scan build/ with checkov, cfn-guard and our own checks (ENV=e or all)
	@$(PY) build.py lint $(ENV_FLAG)
	@$(PY) build.py security $(ENV_FLAG) $(ARGS_WORDS)

# $(call lock_tool,<name>,<folder under .tools/>,<who>): requirements-<name>.in -> requirements-<name>.txt
define lock_tool
	@rm -rf .lockvenv && $(PYTHON_SYS) -m venv .lockvenv
	@.lockvenv/bin/pip install --quiet pip==26.3 && .lockvenv/bin/pip install --quiet -r requirements-$(1).in
	@{ echo "# Generated by 'make lock-$(1)' from requirements-$(1).in: every package pinned. Do not edit by hand."; \
	   echo "# Installed into $(2) (never into .venv/: $(3) pins clash with requirements.txt, see the .in file)."; \
	   .lockvenv/bin/pip freeze; } > requirements-$(1).txt
	@rm -rf .lockvenv
endef

.PHONY: lock-security
lock-security: ## Re-resolve requirements-security.in into the pinned requirements-security.txt
	$(call lock_tool,security,.tools/checkov/,checkov's)

.PHONY: snapshots
snapshots: $(STAMP) ## Regenerate the golden template snapshots under tests/snapshots/ (review the diff)
	@$(PY) -m tests.snapshots

.PHONY: docs
docs: $(STAMP) ## Regenerate the parameter reference in docs/parameters.md from the params model
	@$(PY) -m mmtool.config.reference

.PHONY: bench
bench: $(STAMP) ## Run the benchmarks and print the figures
	@$(PY) -m benchmarks $(ARGS_WORDS)

.PHONY: clean
clean: ## Remove build/ and dist/ (keeps .venv)
	rm -rf build dist .cache

.PHONY: distclean
distclean: clean ## Remove .venv as well
	rm -rf $(VENV)

.PHONY: lock
lock: ## Re-resolve requirements.in into the pinned requirements.txt
	@rm -rf .lockvenv && $(PYTHON_SYS) -m venv .lockvenv
	@.lockvenv/bin/pip install --quiet pip==26.3 && .lockvenv/bin/pip install --quiet -r requirements.in
	@{ echo "# Generated by 'make lock' from requirements.in: every package pinned. Do not edit by hand."; \
	   .lockvenv/bin/pip freeze; } > requirements.txt
	@rm -rf .lockvenv

.PHONY: baseline
baseline: $(STAMP) ## Start the baselining job: ENV=e [ENDPOINT=key] DATASET=<file|s3://bucket/baselines/...> [FORMAT=csv|jsonl] [ENGINE=processing]; LOCAL=1: here, no AWS
	$(if $(value ENV),,$(error ENV is required: make baseline ENV=dev DATASET=train.csv))
	$(if $(value DATASET),,$(error DATASET is required: a local file or s3://<project bucket>/baselines/..., e.g. make baseline ENV=$(value ENV) DATASET=train.csv))
	@$(PY) build.py baseline $(ENV_ARG) --dataset "$$MM_DATASET" $(if $(value FORMAT),--format "$$MM_FORMAT",) $(if $(value ENGINE),--engine "$$MM_ENGINE",) $(if $(value LOCAL),--local,) $(ENDPOINT_FLAG) $(ARGS_WORDS)

.PHONY: compare-engines
compare-engines: $(STAMP) ## The last data-quality run of both engines of an endpoint with monitoring.engine: both: ENV=e [ENDPOINT=key]
	$(if $(value ENV),,$(error ENV is required: make compare-engines ENV=dev ENDPOINT=churn))
	@$(PY) build.py compare-engines $(ENV_ARG) $(ENDPOINT_FLAG) $(ARGS_WORDS)

.PHONY: dry-run
dry-run: $(STAMP) ## Run ENV's [ENDPOINT's] pre-processor over CAPTURE=<file|folder|s3://prefix> [CONSTRAINTS= STATISTICS=]
	$(if $(value ENV),,$(error ENV is required: make dry-run ENV=dev CAPTURE=path/to/capture))
	$(if $(value CAPTURE),,$(error CAPTURE is required: a .jsonl file, a folder of them or an s3:// prefix, e.g. make dry-run ENV=$(value ENV) CAPTURE=capture/))
	@$(PY) build.py dry-run $(ENV_ARG) --capture "$$MM_CAPTURE" $(if $(value CONSTRAINTS),--constraints "$$MM_CONSTRAINTS",) $(if $(value STATISTICS),--statistics "$$MM_STATISTICS",) $(ENDPOINT_FLAG) $(ARGS_WORDS)

.PHONY: status
status: $(STAMP) ## Monitoring of ENV [ENDPOINT=key]: schedules, last runs, failures explained with the fix, capture files [ARGS=--json]
	$(if $(value ENV),,$(error ENV is required: make status ENV=dev))
	@$(PY) build.py status $(ENV_ARG) $(ENDPOINT_FLAG) $(ARGS_WORDS)

.PHONY: verify-notifications
verify-notifications: $(STAMP) ## Force one alarm into ALARM, show who should receive it: ENV=e [ENDPOINT=key] [ARGS=--alarm notification-delivery]
	$(if $(value ENV),,$(error ENV is required: make verify-notifications ENV=dev))
	@$(PY) build.py verify-notifications $(ENV_ARG) $(ENDPOINT_FLAG) $(ARGS_WORDS)

.PHONY: adopt
adopt: $(STAMP) ## Turn Data Capture on for an endpoint another tool deployed: ENV=e ENDPOINT=key [AUTO_APPROVE=1]
	$(if $(value ENV),,$(error ENV is required: make adopt ENV=prod ENDPOINT=fraud))
	$(if $(value ENDPOINT),,$(error ENDPOINT is required: the key of an existing endpoint under endpoints: in params/$(value ENV).yaml, e.g. make adopt ENV=$(value ENV) ENDPOINT=fraud))
	@$(PY) build.py adopt $(ENV_ARG) --endpoint "$$MM_ENDPOINT" $(YES_FLAG) $(ARGS_WORDS)

.PHONY: run-now
run-now: $(STAMP) ## One monitoring run now over the last hour's capture, then its outcome: ENV=e [ENDPOINT=key] [MONITOR=data-quality] [ENGINE=processing]
	$(if $(value ENV),,$(error ENV is required: make run-now ENV=dev [MONITOR=data-quality]))
	@$(PY) build.py run-now $(ENV_ARG) $(if $(value MONITOR),--monitor "$$MM_MONITOR",) $(if $(value ENGINE),--engine "$$MM_ENGINE",) $(ENDPOINT_FLAG) $(ARGS_WORDS)

.PHONY: package
package: $(STAMP) ## Hand-off bundle dist/<project>-<version>-<env>.zip (templates, DEPLOY.md, reference, lint, diagram, SHA256SUMS): ENV=e [ENDPOINT=key]
	$(if $(value ENV),,$(error ENV is required: make package ENV=dev))
	@$(PY) build.py package $(ENV_ARG) $(ENDPOINT_FLAG) $(ARGS_WORDS)

.PHONY: catalog
catalog: $(STAMP) ## Publish ENV's templates as Service Catalog products (needs the foundation stack): ENV=e [AUTO_APPROVE=1]
	$(if $(value ENV),,$(error ENV is required: make catalog ENV=dev))
	@$(PY) build.py catalog $(ENV_ARG) $(ENDPOINT_FLAG) $(YES_FLAG) $(ARGS_WORDS)
