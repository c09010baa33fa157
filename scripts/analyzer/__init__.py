"""The analyzer of the processing engine: Model Monitor's data- and model-quality analyses in plain Python.

Standard library + numpy + pandas only (what the SageMaker scikit-learn image has; numpy 1.2x/2.x,
pandas 1.x/2.x), no import of mmtool: the same folder runs in a SageMaker Processing job, in local
baselining and in tests. It reads and writes Model Monitor's files (statistics.json with KLL sketches,
constraints.json, constraint_violations.json), so a baseline made by Model Monitor is used as it is.

Modules: `kll` (Deequ's KLL sketch and distances), `profile` (streaming column statistics),
`constraints` (suggestions and data-quality checks), `capture` (Data Capture layout, the record
pre-processor contract, windows, S3), `model_quality`, `metrics` (CloudWatch), `run` (the analyses),
`job` (the processing job's entry), `pack` (one-file asset), `cli`.

Processing-job contract (docs/engine.md, section "The analyzer", is the full version):

* `pack.pack(path)` writes this package as one zip application (byte-identical for the same sources);
  upload it as an asset and run `python3 /opt/ml/processing/input/code/analyzer.pyz job`
  (ContainerEntrypoint), the file being a ProcessingInput with LocalPath /opt/ml/processing/input/code
  (the folder itself, run as `python3 <folder> job`, works too);
* environment: `analysis_type` (DATA_QUALITY | MODEL_QUALITY | BASELINE_DATA_QUALITY |
  BASELINE_MODEL_QUALITY), `scheduled_time` (ISO-8601, from
  `<aws.scheduler.scheduled-time>`), `window_start_offset` (-PT1H) / `window_end_offset` (PT0H) or
  `start_time` / `end_time`, `capture_s3_uri` (s3://bucket/<capture prefix>/<endpoint>, read by hour
  folder) or a local `dataset_source`, `baseline_statistics` / `baseline_constraints` /
  `record_preprocessor_script` (local paths), `output_path`, `publish_cloudwatch_metrics`,
  `metrics_namespace`, `sagemaker_endpoint_name`, `sagemaker_monitoring_schedule_name`; model quality
  adds `problem_type`, `ground_truth_s3_uri` (or `ground_truth_source`), `inference_attribute`,
  `probability_attribute`, `probability_threshold_attribute`, `ground_truth_end_offset`
  (`job.CONTRACT` lists every name with its default); baselining reads `baseline_dataset`
  (`dataset_header`, `ground_truth_attribute`);
* outputs: `<output_path>/statistics.json` and `constraint_violations.json`; one summary line in
  /opt/ml/output/message (the job's ExitMessage); exit 0 analysed, 1 no data / run-time failure,
  2 bad setting or input.
"""
