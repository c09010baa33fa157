"""One troposphere module per stack, each a pure function from the validated params to a template.

No boto3, no environment variables, no file or network I/O, no clock (a test keeps it so). The
order of STACKS is the deploy order.
"""

from templates import alarms, endpoint, foundation, monitoring, network

STACKS = (foundation, network, endpoint, monitoring, alarms)

__all__ = ["STACKS"]
