"""network: private networking for the endpoint and the monitoring jobs.

Resources
  Vpc, PrivateSubnet1..3, PrivateRouteTable(+associations)
                        only when no existing VPC is given: private subnets, no internet or NAT gateway
  VpcFlowLog            flow logs (all traffic) of that VPC into the project bucket under vpc-flow-logs/
                        (SSE-KMS; the foundation stack's bucket and key policies admit log delivery)
  JobSecurityGroup      used by the endpoint's model containers and by monitoring jobs: HTTPS to the
                        interface endpoints and to S3 (prefix list) only; all traffic between its own
                        members only when a job runs on more than one instance
  EndpointSecurityGroup for the interface endpoints: HTTPS in from JobSecurityGroup, nothing out
  *Endpoint             interface endpoints sagemaker.api, sagemaker.runtime, logs, monitoring, sts,
                        ecr.api, ecr.dkr, kms with private DNS; an S3 gateway endpoint whose policy
                        allows only the project bucket, the regional ECR image-layer bucket and the
                        exact external object the stacks read (the model artifact; baselines are
                        copied into the project bucket)
Rules
  NewVpcNeedsCidrsAndZones  without ExistingVpcId, the VPC and first two subnet CIDRs and zones are
                        required: CloudFormation refuses the stack before any change otherwise
Outputs (also written to SSM)
  VpcId, SubnetIds, JobSecurityGroupId
"""

from __future__ import annotations

from awacs import s3
from awacs.aws import Allow, PolicyDocument, Principal, Statement
from troposphere import And, Condition, Equals, GetAtt, If, Join, Not, Ref, Sub, Tags
from troposphere.ec2 import (
    FlowLog,
    RouteTable,
    SecurityGroup,
    SecurityGroupEgress,
    SecurityGroupIngress,
    SecurityGroupRule,
    Subnet,
    SubnetRouteTableAssociation,
    VPC,
    VPCEndpoint,
)

from mmtool.config.monitor_kinds import KINDS, settings
from mmtool.config.params import Params
from templates.common import Inputs, StackTemplate, name, s3_object_arn
from templates.foundation import FLOW_LOGS_PREFIX

STACK = "network"
DEPENDS_ON = ("foundation",)
PROTECTED_RESOURCES: tuple[str, ...] = ()

INTERFACE_ENDPOINTS = {
    # logical id prefix: service suffix
    "SageMakerApi": "sagemaker.api",
    "SageMakerRuntime": "sagemaker.runtime",
    "Logs": "logs",
    "Monitoring": "monitoring",
    "Sts": "sts",
    "EcrApi": "ecr.api",
    "EcrDkr": "ecr.dkr",
    "Kms": "kms",
}
MAX_CREATED_SUBNETS = 3
HTTPS = 443


def build(params: Params) -> StackTemplate:
    st = StackTemplate(STACK, "Model Monitor network: private VPC (optional), security groups, VPC endpoints")
    t = st.template
    st.consume("BucketName", "foundation", "bucket-name", "Project bucket name.")

    vpc_cidr = st.param(
        "VpcCidr", "CIDR of the VPC to create; empty when ExistingVpcId is set.", group="New VPC",
        label="VPC CIDR", Default="", AllowedPattern=r"^((\d{1,3}\.){3}\d{1,3}/\d{1,2})?$",
        value=lambda i: i.params.network.create and i.params.network.create.vpc_cidr,
    )
    subnet_cidrs, subnet_zones = [], []
    for index in range(1, MAX_CREATED_SUBNETS + 1):
        optional = " (optional)" if index > 2 else ""
        subnet_cidrs.append(st.param(
            f"PrivateSubnet{index}Cidr", f"CIDR of private subnet {index}{optional}.", group="New VPC",
            label=f"Subnet {index} CIDR{optional}", Default="", AllowedPattern=r"^((\d{1,3}\.){3}\d{1,3}/\d{1,2})?$",
            value=lambda i, index=index: (s := _created_subnet(i, index)) and s.cidr,
        ))
        subnet_zones.append(st.param(
            f"PrivateSubnet{index}Az", f"Availability zone of private subnet {index}{optional}.", group="New VPC",
            label=f"Subnet {index} zone{optional}", Default="", AllowedPattern=r"^([a-z]{2}(-[a-z]+)+-\d[a-z])?$",
            value=lambda i, index=index: (s := _created_subnet(i, index)) and s.availability_zone,
        ))
    existing_vpc = st.param(
        "ExistingVpcId", "Existing VPC to use; empty to create one.", group="Existing VPC",
        label="Existing VPC id", Default="", AllowedPattern=r"^(vpc-[0-9a-f]{8,17})?$",
        value=lambda i: (e := i.params.network.existing) and e.vpc_id,
    )
    existing_subnets = st.param(
        "ExistingSubnetIds", "Private subnets of the existing VPC (two zones at least).", group="Existing VPC",
        label="Existing subnet ids", type="CommaDelimitedList", Default="",
        value=lambda i: (e := i.params.network.existing) and ",".join(s.id for s in e.subnets),
    )
    existing_route_tables = st.param(
        "ExistingRouteTableIds", "Route tables of those subnets (for the S3 gateway endpoint).",
        group="Existing VPC", label="Existing route table ids", type="CommaDelimitedList", Default="",
        value=lambda i: (e := i.params.network.existing) and ",".join(e.route_table_ids),
    )
    create_endpoints = st.flag(
        "CreateVpcEndpoints", "Create the interface endpoints and the S3 gateway endpoint.",
        group="Endpoints and traffic", label="Create VPC endpoints",
        value=lambda i: i.params.network.create_vpc_endpoints,
    )
    prefix_list = st.param(
        "S3PrefixListId", "AWS-managed S3 prefix list of the region (com.amazonaws.<region>.s3).",
        group="Endpoints and traffic", label="S3 prefix list id", AllowedPattern=r"^pl-[0-9a-f]{8,17}$",
        value=lambda i: i.params.network.s3_prefix_list_id,
    )
    external_objects = st.param(
        "ExternalReadObjectArns", "S3 object ARNs outside the project bucket that the stacks read "
        "(the model artifact); the S3 gateway endpoint allows reading exactly these.",
        group="Endpoints and traffic", label="External objects read", type="CommaDelimitedList",
        value=lambda i: ",".join(external_read_objects(i.params)),
    )
    intra_cluster = st.flag(
        "AllowIntraClusterTraffic", "Allow all traffic between members of the job security group "
        "(needed when a monitoring job runs on more than one instance).",
        group="Endpoints and traffic", label="Multi-instance jobs", default="false",
        # any job of any monitor of the environment on more than one instance
        value=lambda i: any(settings(e.monitoring, kind).instance_count > 1
                            for e in i.params.fleet() for kind in KINDS),
    )

    # A new VPC is created when no existing one is given. The condition also names the CIDRs it needs, so
    # a linter reading the template alone (no parameter file) knows they are set whenever Vpc and the
    # subnets exist; the rule below makes CloudFormation refuse, before any change, a stack given neither
    # an existing VPC nor those values (otherwise the security groups would land in the default VPC).
    new_vpc_values = [vpc_cidr, subnet_cidrs[0], subnet_cidrs[1], subnet_zones[0], subnet_zones[1]]
    t.add_condition("CreateVpc", And(
        Equals(Ref(existing_vpc), ""), *[Not(Equals(Ref(p), "")) for p in new_vpc_values[:3]],
    ))
    t.add_rule("NewVpcNeedsCidrsAndZones", {
        "RuleCondition": Equals(Ref(existing_vpc), ""),
        "Assertions": [
            {"Assert": Not(Equals(Ref(p), "")),
             "AssertDescription": f"{p.title} is required when ExistingVpcId is empty (a new VPC is created); "
                                  "set it, or give ExistingVpcId, ExistingSubnetIds and ExistingRouteTableIds"}
            for p in new_vpc_values
        ],
    })
    t.add_condition("CreateThirdSubnet", And(Condition("CreateVpc"), Not(Equals(Ref(subnet_cidrs[2]), ""))))
    t.add_condition("CreateEndpoints", Equals(Ref(create_endpoints), "true"))
    t.add_condition("IntraCluster", Equals(Ref(intra_cluster), "true"))

    vpc = t.add_resource(VPC(
        "Vpc", Condition="CreateVpc", CidrBlock=Ref(vpc_cidr), EnableDnsSupport=True, EnableDnsHostnames=True,
        Tags=[{"Key": "Name", "Value": name()}],
    ))
    route_table = t.add_resource(RouteTable(
        "PrivateRouteTable", Condition="CreateVpc", VpcId=Ref(vpc), Tags=[{"Key": "Name", "Value": name("private")}],
    ))
    created_subnets = []
    for index in range(1, MAX_CREATED_SUBNETS + 1):
        condition = "CreateThirdSubnet" if index == 3 else "CreateVpc"
        subnet = t.add_resource(Subnet(
            f"PrivateSubnet{index}", Condition=condition, VpcId=Ref(vpc), CidrBlock=Ref(subnet_cidrs[index - 1]),
            AvailabilityZone=Ref(subnet_zones[index - 1]), MapPublicIpOnLaunch=False,
            Tags=[{"Key": "Name", "Value": name(f"private-{index}")}],
        ))
        t.add_resource(SubnetRouteTableAssociation(
            f"PrivateSubnet{index}RouteTable", Condition=condition, SubnetId=Ref(subnet), RouteTableId=Ref(route_table),
        ))
        created_subnets.append(Ref(subnet))

    t.add_resource(FlowLog(
        "VpcFlowLog", Condition="CreateVpc", ResourceId=Ref(vpc), ResourceType="VPC", TrafficType="ALL",
        LogDestinationType="s3", LogDestination=Sub(f"arn:${{AWS::Partition}}:s3:::${{BucketName}}/{FLOW_LOGS_PREFIX}"),
        MaxAggregationInterval=600, Tags=Tags(Name=name()),
    ))

    vpc_id = If("CreateVpc", Ref(vpc), Ref(existing_vpc))
    subnet_ids = If(
        "CreateVpc",
        If("CreateThirdSubnet", created_subnets, created_subnets[:2]),
        Ref(existing_subnets),
    )
    route_tables = If("CreateVpc", [Ref(route_table)], Ref(existing_route_tables))

    job_sg = t.add_resource(SecurityGroup(
        "JobSecurityGroup",
        GroupDescription="Model Monitor jobs and endpoint containers",
        VpcId=vpc_id,
        # Declaring an egress rule replaces the default allow-all rule.
        SecurityGroupEgress=[SecurityGroupRule(
            Description="HTTPS to Amazon S3 through the gateway endpoint",
            IpProtocol="tcp", FromPort=HTTPS, ToPort=HTTPS, DestinationPrefixListId=Ref(prefix_list),
        )],
        Tags=[{"Key": "Name", "Value": name("jobs")}],
    ))
    endpoint_sg = t.add_resource(SecurityGroup(
        "EndpointSecurityGroup",
        Condition="CreateEndpoints",
        GroupDescription="Interface VPC endpoints of Model Monitor",
        VpcId=vpc_id,
        SecurityGroupIngress=[SecurityGroupRule(
            Description="HTTPS from monitoring jobs and endpoint containers",
            IpProtocol="tcp", FromPort=HTTPS, ToPort=HTTPS, SourceSecurityGroupId=Ref(job_sg),
        )],
        # Interface endpoints only answer; this rule replaces the default allow-all egress with
        # one that matches no traffic (ICMP type 252 code 86 to the broadcast address).
        SecurityGroupEgress=[SecurityGroupRule(
            Description="No outbound traffic (replaces the default allow-all rule)",
            IpProtocol="icmp", FromPort=252, ToPort=86, CidrIp="255.255.255.255/32",
        )],
        Tags=[{"Key": "Name", "Value": name("vpc-endpoints")}],
    ))
    t.add_resource(SecurityGroupEgress(
        "JobToEndpointsEgress", Condition="CreateEndpoints", GroupId=GetAtt(job_sg, "GroupId"),
        Description="HTTPS to the interface VPC endpoints", IpProtocol="tcp", FromPort=HTTPS, ToPort=HTTPS,
        DestinationSecurityGroupId=GetAtt(endpoint_sg, "GroupId"),
    ))
    t.add_resource(SecurityGroupIngress(
        "IntraClusterIngress", Condition="IntraCluster", GroupId=GetAtt(job_sg, "GroupId"),
        Description="Traffic between the instances of one multi-instance job", IpProtocol="-1",
        SourceSecurityGroupId=GetAtt(job_sg, "GroupId"),
    ))
    t.add_resource(SecurityGroupEgress(
        "IntraClusterEgress", Condition="IntraCluster", GroupId=GetAtt(job_sg, "GroupId"),
        Description="Traffic between the instances of one multi-instance job", IpProtocol="-1",
        DestinationSecurityGroupId=GetAtt(job_sg, "GroupId"),
    ))

    for logical, service in INTERFACE_ENDPOINTS.items():
        t.add_resource(VPCEndpoint(
            f"{logical}Endpoint",
            Condition="CreateEndpoints",
            VpcEndpointType="Interface",
            ServiceName=Sub(f"com.amazonaws.${{AWS::Region}}.{service}"),
            VpcId=vpc_id,
            SubnetIds=subnet_ids,
            SecurityGroupIds=[Ref(endpoint_sg)],
            PrivateDnsEnabled=True,
        ))

    project_bucket = Sub("arn:${AWS::Partition}:s3:::${BucketName}")
    t.add_resource(VPCEndpoint(
        "S3GatewayEndpoint",
        Condition="CreateEndpoints",
        VpcEndpointType="Gateway",
        ServiceName=Sub("com.amazonaws.${AWS::Region}.s3"),
        VpcId=vpc_id,
        RouteTableIds=route_tables,
        PolicyDocument=PolicyDocument(
            Version="2012-10-17",
            Statement=[
                Statement(
                    Sid="ProjectBucket",
                    Effect=Allow,
                    Principal=Principal("*"),
                    Action=[s3.GetObject, s3.PutObject, s3.AbortMultipartUpload, s3.ListBucket, s3.GetBucketLocation],
                    Resource=[project_bucket, Sub("arn:${AWS::Partition}:s3:::${BucketName}/*")],
                ),
                # Image layers of ECR live in this AWS-owned bucket (ECR over PrivateLink docs).
                Statement(
                    Sid="EcrImageLayers",
                    Effect=Allow,
                    Principal=Principal("*"),
                    Action=[s3.GetObject],
                    Resource=[Sub("arn:${AWS::Partition}:s3:::prod-${AWS::Region}-starport-layer-bucket/*")],
                ),
                Statement(
                    Sid="ExternalObjectsRead",
                    Effect=Allow,
                    Principal=Principal("*"),
                    Action=[s3.GetObject],
                    Resource=Ref(external_objects),
                ),
            ],
        ),
    ))

    st.publish("VpcId", "vpc-id", vpc_id, "VPC of the endpoint and the monitoring jobs")
    st.publish("SubnetIds", "subnet-ids", Join(",", subnet_ids), "Private subnets (comma-separated)", list_value=True)
    st.publish("JobSecurityGroupId", "job-security-group-id", GetAtt(job_sg, "GroupId"),
               "Security group of monitoring jobs and endpoint containers")
    return st


def external_read_objects(params: Params) -> list[str]:
    """The objects outside the project bucket read through the endpoint: every created endpoint's model artifact
    (each once). Baselines are read from the copies `make deploy` makes under baselines/ (mmtool/config/baselines.py)."""
    uris = [endpoint.create.model_data_url for endpoint in params.fleet() if endpoint.create]
    return [s3_object_arn(uri, params.region) for uri in dict.fromkeys(uris)]


def _created_subnet(i: Inputs, index: int):
    """Private subnet number `index` (from 1) of the VPC the stack creates; None: none (or an existing VPC)."""
    created = i.params.network.create
    return created.private_subnets[index - 1] if created and index <= len(created.private_subnets) else None
