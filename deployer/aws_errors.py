"""AWS's error code and message of a failed call, read in one place for the engine and for mmtool.

botocore raises a ``ClientError`` (or one of the service-specific subclasses in a client's ``exceptions``)
when AWS answers with an error; its ``response["Error"]`` holds AWS's ``Code`` and ``Message``
(https://boto3.amazonaws.com/v1/documentation/api/latest/guide/error-handling.html). Every other exception
(a ``BotoCoreError`` such as missing credentials or an unreachable endpoint, or a bug) carries no code.

Standard library only, so mmtool's commands can import it without loading botocore.
"""

from __future__ import annotations

from typing import Any

# What S3 answers for an object that is not there: HeadObject has no body, so its code is the HTTP status
# ("404", "NotFound"); GetObject says "NoSuchKey" (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
S3_NOT_FOUND = ("404", "NoSuchKey", "NotFound")


def _error(exc: BaseException) -> dict[str, Any]:
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    return error if isinstance(error, dict) else {}


def error_code(exc: BaseException) -> str:
    """AWS's error code (``NoSuchKey``, ``ValidationError``...); ``""`` for an exception that carries none."""
    return str(_error(exc).get("Code") or "")


def error_message(exc: BaseException) -> str:
    """AWS's error message; the exception's own text for an exception that carries none."""
    return str(_error(exc).get("Message") or exc)
