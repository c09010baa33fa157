"""The one strict model of `params/<env>.yaml`, a module per section.

Every field has a description (the parameter reference in docs/parameters.md is generated from them), unknown
keys are rejected, and the cross-field rules SageMaker enforces only at deploy time (schedule forms,
runtime versus schedule period, subnets in two availability zones, capture modes, a region with a
Model Monitor image) are checked here, before anything is generated.

  base.py         Strict (the base of every section), FieldError, checked strings, region tables
  deploy.py       deploy:                     network.py   network:
  storage.py      encryption:, storage:       endpoint.py  endpoint: (a fleet's create:) and its Data Capture
  monitoring.py   monitoring: (one JobSettings model that every monitor extends)
  alarms.py       alarms:                     catalog.py   catalog:
  fleet.py        endpoints:, defaults:, FleetEndpoint (one endpoint with the defaults merged in)
  environment.py  Params, the root, and the rules that cross sections

The rest of the code imports from here: `from mmtool.config.params import Params`.
"""

from __future__ import annotations

from pydantic import BaseModel  # noqa: F401  (re-exported: the models' base, for code that walks them)

from mmtool.config.params.base import (  # noqa: F401
    FieldError,
    InstanceType,
    JsonObjectUri,
    ROLE_ARN,
    S3ObjectUri,
    S3Prefix,
    ScriptPath,
    Strict,
    bucket_name_problem,
    image_accounts,
    region_partition,
)
from mmtool.config.params.deploy import (  # noqa: F401
    DeploySettings,
)
from mmtool.config.params.network import (  # noqa: F401
    CreateVpc,
    CreatedSubnet,
    ExistingSubnet,
    ExistingVpc,
    NetworkSettings,
)
from mmtool.config.params.storage import (  # noqa: F401
    EncryptionSettings,
    StorageSettings,
)
from mmtool.config.params.endpoint import (  # noqa: F401
    DataCaptureSettings,
    EndpointSettings,
)
from mmtool.config.params.monitoring import (  # noqa: F401
    AnalysisWindow,
    Baseline,
    ClarifySettings,
    DataQualityMonitor,
    Facet,
    LabelValue,
    ModelBiasMonitor,
    ModelExplainabilityMonitor,
    ModelQualityMonitor,
    MonitorInput,
    MonitorJob,
    MonitoringSettings,
    PreprocessorSettings,
    ProblemType,
    RESPONSE_ATTRIBUTE,
    ShapSettings,
    TimeOffsets,
)
from mmtool.config.params.alarms import (  # noqa: F401
    AlarmSettings,
    DriftAlarm,
    MAX_DRIFT_ALARMS,
    MAX_SUBSCRIPTIONS,
)
from mmtool.config.params.catalog import (  # noqa: F401
    CatalogSettings,
    MAX_CATALOG_PRINCIPALS,
)
from mmtool.config.params.fleet import (  # noqa: F401
    ENDPOINT_KEY,
    ExistingEndpoint,
    FIND_MODEL_NAME,
    FleetDefaults,
    FleetEndpoint,
    FleetEntry,
    LEGACY_KEY,
    MAX_PARAMETER_VALUE_BYTES,
    SELF_SERVICE_KEY_PREFIX,
    SHADOW_ENDPOINT_SUFFIX,
    merge,
)
from mmtool.config.params.environment import (  # noqa: F401
    ISOLATION_CONFLICT,
    Params,
    RESERVED_TAG_KEYS,
)
