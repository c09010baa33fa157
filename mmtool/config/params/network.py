"""`network:` the VPC (created or existing), its subnets and VPC endpoints."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Optional

from pydantic import Field, field_validator, model_validator
from mmtool.config.params.base import FieldError, Strict, resource_id


class CreatedSubnet(Strict):
    cidr: str = Field(description="IPv4 CIDR of the private subnet, inside vpc_cidr.")
    availability_zone: str = Field(
        description="Availability zone name, e.g. eu-west-1a (must belong to the environment's region)."
    )


class CreateVpc(Strict):
    """A new VPC with private subnets only: no internet gateway, no NAT."""

    vpc_cidr: str = Field(description="IPv4 CIDR of the new VPC, /16 to /24.")
    private_subnets: list[CreatedSubnet] = Field(
        min_length=2,
        max_length=3,
        description="Two or three private subnets, in at least two availability zones.",
    )

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        network = _network(value)
        if not 16 <= network.prefixlen <= 24:
            raise ValueError("the VPC CIDR must be between /16 and /24")
        return value

    @model_validator(mode="after")
    def _subnets_fit(self) -> CreateVpc:
        vpc = ipaddress.ip_network(self.vpc_cidr)
        seen: list[ipaddress.IPv4Network] = []
        for index, subnet in enumerate(self.private_subnets):
            where = f"private_subnets[{index}].cidr"
            try:
                net = _network(subnet.cidr)
            except ValueError as exc:
                raise FieldError(where, subnet.cidr, str(exc)) from None
            if not net.subnet_of(vpc):  # type: ignore[arg-type]
                raise FieldError(where, subnet.cidr, f"not inside vpc_cidr {self.vpc_cidr}")
            if not 16 <= net.prefixlen <= 28:
                raise FieldError(where, subnet.cidr, "subnets are /16 to /28")
            for other in seen:
                if net.overlaps(other):
                    raise FieldError(where, subnet.cidr, f"overlaps {other}; subnets must not overlap")
            seen.append(net)
        return self


def _network(value: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"not an IPv4 CIDR with host bits zero, e.g. 10.0.0.0/16 ({exc})") from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError("IPv6 CIDRs are not supported; give an IPv4 CIDR")
    return net


class ExistingSubnet(Strict):
    id: str = Field(pattern=resource_id("subnet"), description="Subnet id, e.g. subnet-0123456789abcdef0.")
    availability_zone: str = Field(
        description="The subnet's availability zone name (checked offline: two zones are required)."
    )


class ExistingVpc(Strict):
    """Use a VPC and private subnets that already exist."""

    vpc_id: str = Field(pattern=resource_id("vpc"), description="Id of the existing VPC.")
    subnets: list[ExistingSubnet] = Field(
        min_length=2, max_length=16, description="Private subnets for jobs, endpoints and VPC endpoints."
    )
    route_table_ids: list[Annotated[str, Field(pattern=resource_id("rtb"))]] = Field(
        default_factory=list,
        max_length=16,
        description="Route tables of those subnets; the S3 gateway endpoint is attached to them.",
    )

    @model_validator(mode="after")
    def _each_once(self) -> ExistingVpc:
        """A subnet is in one availability zone: listed twice (under two zones) it would count as a second zone and
        satisfy the two-zone rule with one subnet."""
        seen: dict[str, int] = {}
        for index, subnet in enumerate(self.subnets):
            if subnet.id in seen:
                raise FieldError(f"subnets[{index}].id", subnet.id, f"already listed as subnets[{seen[subnet.id]}] "
                                 f"({self.subnets[seen[subnet.id]].availability_zone}); a subnet is in one zone: list "
                                 "each subnet once")
            seen[subnet.id] = index
        tables = self.route_table_ids
        for index, table in enumerate(tables):
            if table in tables[:index]:
                raise FieldError(f"route_table_ids[{index}]", table, "listed twice; list each route table once")
        return self


class NetworkSettings(Strict):
    create: Optional[CreateVpc] = Field(None, description="Create a private VPC (set this or existing).")
    existing: Optional[ExistingVpc] = Field(None, description="Use an existing VPC (set this or create).")
    create_vpc_endpoints: bool = Field(
        True,
        description="Create the interface endpoints (sagemaker.api, sagemaker.runtime, logs, monitoring, sts, "
        "ecr.api, ecr.dkr, kms) and the S3 gateway endpoint. Turn off when the VPC already has them.",
    )
    s3_prefix_list_id: str = Field(
        pattern=resource_id("pl"),
        description="Id of the region's AWS-managed S3 prefix list (`aws ec2 describe-managed-prefix-lists "
        "--filters Name=prefix-list-name,Values=com.amazonaws.<region>.s3`). Job security-group egress to S3 "
        "is limited to it instead of 0.0.0.0/0.",
    )

    @model_validator(mode="after")
    def _one_mode(self) -> NetworkSettings:
        if (self.create is None) == (self.existing is None):
            both = "both are set" if self.create else "neither is set"
            raise ValueError(f"set exactly one of create (a new VPC) or existing (your VPC); {both}")
        if self.existing and self.create_vpc_endpoints and not self.existing.route_table_ids:
            raise FieldError(
                "existing.route_table_ids",
                [],
                "empty, but create_vpc_endpoints is true: the S3 gateway endpoint needs the subnets' route tables",
            )
        return self

    @property
    def availability_zones(self) -> list[str]:
        subnets = self.create.private_subnets if self.create else self.existing.subnets  # type: ignore[union-attr]
        return [s.availability_zone for s in subnets]


