"""The deploy engine's errors, and how a failed AWS call becomes one.

Every failure the engine reports is a :class:`DeployError` whose message is one or more lines meant for
a person: it names the stack, keeps AWS's own error code and message, and says what to do next. It is a
:class:`deployer.tool_error.ToolError`, the one base of the tool's errors (``mmtool``'s too), so both CLI
boundaries (``mmtool``'s ``main``, ``python -m deployer``'s ``boundary``) catch it as they catch any other:
they print ``str(error)`` on stderr and exit with ``error.exit_code``; ``--debug`` re-raises instead.

Exit codes: the one table of the tool is :mod:`deployer.exit_codes` (and docs/deploying.md, 'Exit codes').
"""

from __future__ import annotations

from botocore.parsers import ResponseParserError
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from .aws_errors import error_code, error_message  # noqa: F401 (the engine's modules import them from here)
from .exit_codes import (  # noqa: F401 (the engine's modules import the codes from here)
    EXIT_CHANGES,
    EXIT_DRIFTED,
    EXIT_FAILED,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_TIMEOUT,
)
from .tool_error import ToolError

#: Everything boto3 raises for a failed call: API errors, transport errors, and answers that are not an
#: API response at all (an HTTP 500 page; botocore's ResponseParserError is not a BotoCoreError).
AWS_ERRORS = (ClientError, BotoCoreError, ResponseParserError)

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "AuthFailure",
    }
)


class DeployError(ToolError):
    """The one exception type the engine raises; ``exit_code`` says which kind of failure it is."""

    exit_code = EXIT_FAILED


class InputError(DeployError):
    """The manifest, a template, a parameter file or the local credentials are unusable."""

    exit_code = EXIT_INPUT


class RefusedError(DeployError):
    """A safety rule stopped the command before it changed anything."""

    exit_code = EXIT_REFUSED


class StackFailedError(DeployError):
    """CloudFormation reported a failed operation; the message carries the reasons from the events."""

    exit_code = EXIT_FAILED


class WaitTimeoutError(DeployError):
    """``--wait-timeout`` elapsed; CloudFormation keeps working."""

    exit_code = EXIT_TIMEOUT


class ThrottledError(DeployError):
    """AWS still answered with a throttling error after botocore's own retries. The polling loops
    (:func:`deployer.events.patiently`) slow down and read again instead of giving up."""

    exit_code = EXIT_FAILED


class Interrupted(DeployError):
    """Ctrl-C while waiting; CloudFormation keeps working."""

    exit_code = EXIT_INTERRUPTED


class Cancelled(Exception):
    """Internal: a worker thread stops because the user pressed Ctrl-C or another stack timed out. Not a
    :class:`ToolError`: it never reaches the user (the thread that raised it ends; the run reports the Ctrl-C or
    the timeout), and an ``except DeployError`` must not catch it."""


def is_throttling(exc: BaseException) -> bool:
    return error_code(exc) in THROTTLING_CODES


def is_not_found(exc: BaseException) -> bool:
    """CloudFormation answers ``ValidationError: Stack with id X does not exist`` for a missing stack."""
    return (
        isinstance(exc, ClientError)
        and error_code(exc) == "ValidationError"
        and "does not exist" in error_message(exc)
    )


def aws_error(
    exc: BaseException,
    *,
    action: str,
    stack: str | None = None,
    next_step: str | None = None,
    nothing_changed: bool = False,
) -> DeployError:
    """Turn a boto3/botocore exception into a :class:`DeployError` that keeps AWS's words.

    ``nothing_changed`` is for callers that know no change was made yet (the account check): only they
    may say so. Credentials can also expire in the middle of a deploy, when stacks were already changed."""
    where = f"{stack}: " if stack else ""
    unchanged = " Nothing was changed." if nothing_changed else ""
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError, ProfileNotFound)):
        return InputError(f"{action}: no usable AWS credentials ({exc}).{unchanged}", where=stack,
                          fix="set AWS_PROFILE (or run `aws sso login --profile P`), or export AWS_ACCESS_KEY_ID and "
                          "AWS_SECRET_ACCESS_KEY, then run the command again.")
    if isinstance(exc, NoRegionError):
        return InputError(f"{action}: no region ({exc}); the manifest's `region` must be set.", where=stack)
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
        return DeployError(f"{action}: cannot reach the AWS endpoint ({exc}).", where=stack,
                           fix="check the network, the region in params/<env>.yaml and AWS_ENDPOINT_URL if it is set.")
    if isinstance(exc, ReadTimeoutError):
        return DeployError(f"{action}: AWS did not answer in time ({exc}).", where=stack,
                           fix="run the command again; it re-reads the stack state before doing anything.")
    if isinstance(exc, ClientError):
        code = error_code(exc) or "Unknown"
        message = error_message(exc)
        if code in THROTTLING_CODES:
            attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts")
            tries = f" after {attempts + 1} attempts" if isinstance(attempts, int) else ""
            return ThrottledError(f"{action} was throttled by AWS{tries}: {code}: {message}", where=stack,
                                  fix="wait a minute and run the command again (it resumes where it stopped), or "
                                  "raise the retry budget with --max-attempts.")
        if code in CREDENTIAL_CODES:
            return InputError(f"{action}: AWS rejected the credentials: {code}: {message}.{unchanged}", where=stack,
                              fix="refresh them (e.g. `aws sso login`) or pick another AWS_PROFILE, then run the "
                              "command again.")
        # "403": S3 refuses a HEAD request with no error document, so botocore names it by the HTTP status
        if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403"}:
            return DeployError(
                f"{where}{action}: {code}: {message}\n"
                + (next_step or "Next: grant the deploying principal this action (see docs/deploying.md, "
                   "'Permissions'), or set deploy.cloudformation_role_arn / assume_role_arn in params.")
            )
        return DeployError(f"{where}{action} failed: {code}: {message}" + (f"\n{next_step}" if next_step else ""))
    if isinstance(exc, ResponseParserError):
        first = str(exc).splitlines()[0]
        return DeployError(
            f"{where}{action}: the endpoint answered with something that is not an AWS API response "
            f"(an HTTP 500 page?): {first}\n" + (next_step or "Next: run the command again; it re-reads the state first.")
        )
    if isinstance(exc, BotoCoreError):
        return DeployError(f"{where}{action} failed: {exc}" + (f"\n{next_step}" if next_step else ""))
    return DeployError(f"{where}{action} failed: {exc!r}" + (f"\n{next_step}" if next_step else ""))
