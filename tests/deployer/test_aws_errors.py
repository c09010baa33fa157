"""AWS's error code and message are read in one place (deployer/aws_errors.py), for the engine and mmtool alike.

The errors below are raised by real botocore clients (Stubber answers the call with an AWS error response, which
botocore parses as it parses AWS's), so the helper is checked against what botocore really builds."""

from __future__ import annotations

import ast
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError, NoCredentialsError
from botocore.stub import Stubber

from deployer.aws_errors import S3_NOT_FOUND, error_code, error_message

ROOT = Path(__file__).resolve().parents[2]


def _raised(service: str, operation: str, code: str, message: str, status: int, **params: object) -> ClientError:
    client = boto3.client(service, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stub:
        stub.add_client_error(operation, service_error_code=code, service_message=message, http_status_code=status)
        with pytest.raises(ClientError) as caught:
            getattr(client, operation)(**params)
    return caught.value


def test_the_code_and_message_of_a_client_error():
    exc = _raised("ssm", "get_parameter", "ParameterNotFound", "Parameter /a/b not found.", 400, Name="/a/b")
    assert (error_code(exc), error_message(exc)) == ("ParameterNotFound", "Parameter /a/b not found.")


def test_a_service_specific_subclass_keeps_its_code():
    # botocore raises the modeled exception class (client.exceptions.ResourceNotFound), a ClientError subclass
    exc = _raised("sagemaker", "describe_monitoring_schedule", "ResourceNotFound", "Could not find schedule", 400,
                  MonitoringScheduleName="s")
    assert type(exc).__name__ == "ResourceNotFound"
    assert error_code(exc) == "ResourceNotFound"


def test_head_object_of_a_missing_key_is_recognised_as_missing():
    exc = _raised("s3", "head_object", "404", "Not Found", 404, Bucket="b", Key="k")
    assert error_code(exc) in S3_NOT_FOUND


def test_an_exception_aws_did_not_answer_has_no_code_and_keeps_its_own_text():
    exc = NoCredentialsError()
    assert error_code(exc) == ""
    assert error_message(exc) == str(exc) == "Unable to locate credentials"
    assert (error_code(ValueError("bad")), error_message(ValueError("bad"))) == ("", "bad")


def _reads_the_error_response(source: str) -> list[int]:
    """Lines that read `...["Error"]` or `....get("Error", ...)` (the parsed error response of a ClientError)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == "Error":
            lines.append(node.lineno)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == "Error"):
            lines.append(node.lineno)
    return lines


def test_the_finder_finds_both_spellings():
    assert _reads_the_error_response('a = exc.response["Error"]["Code"]\nb = r.get("Error", {}).get("Code")\n') == [1, 2]


def test_no_module_but_the_helper_reads_aws_error_codes():
    allowed = {ROOT / "deployer" / "aws_errors.py"}
    offenders = [f"{path.relative_to(ROOT)}:{line}" for package in ("deployer", "mmtool")
                 for path in sorted((ROOT / package).rglob("*.py")) if path not in allowed
                 for line in _reads_the_error_response(path.read_text())]
    assert offenders == [], "read AWS's error code and message with deployer.aws_errors.error_code / error_message"


def test_s3s_bare_403_to_a_head_request_is_access_denied_with_its_fix():
    """S3 answers a refused HeadObject with no error document; botocore then names the error by the HTTP status
    ("403", "Forbidden"), as for a missing key ("404"). The engine reads that as access denied, with the fix."""
    from deployer.errors import aws_error

    exc = _raised("s3", "head_object", "403", "Forbidden", 403, Bucket="b", Key="k")
    message = str(aws_error(exc, action="read s3://b/k (s3:GetObject)"))
    assert message.startswith("read s3://b/k (s3:GetObject): 403: Forbidden\nNext: grant the deploying principal")
    assert "failed" not in message
    custom = str(aws_error(exc, action="read s3://b/k", next_step="Next: grant s3:GetObject on the bucket."))
    assert custom == "read s3://b/k: 403: Forbidden\nNext: grant s3:GetObject on the bucket."
