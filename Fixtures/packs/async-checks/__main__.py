"""Async validators and remediations, each run on a fresh event loop as the SDK does."""
import asyncio

from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy


async def lookup_allowed_amis():
    await asyncio.sleep(0)
    return {"ami-0a8e758f5e873d1c1"}


async def approved_ami(args, report_violation):
    if args.resource_type != "aws:ec2/instance:Instance":
        return
    allowed = await lookup_allowed_amis()
    if args.props.get("ami") not in allowed:
        report_violation(f"AMI {args.props.get('ami')} is not approved.")
    else:
        loop = asyncio.get_running_loop()
        report_violation(f"checked on a running loop: {loop.is_running()}")


async def gather_counts(args, report_violation):
    async def count(kind):
        await asyncio.sleep(0)
        return sum(1 for r in args.resources if r.resource_type == kind)
    buckets, instances = await asyncio.gather(count("aws:s3/bucket:Bucket"), count("aws:ec2/instance:Instance"))
    report_violation(f"{buckets} buckets and {instances} instances")


async def async_fix(args):
    await asyncio.sleep(0)
    if args.resource_type == "aws:ec2/instance:Instance" and args.props.get("instanceType") == "t3.micro":
        return {**args.props, "instanceType": "t3.small", "monitoring": True}
    return None


PolicyPack(
    name="async-checks",
    policies=[
        ResourceValidationPolicy(name="approved-ami", description="Instances use approved AMIs.",
                                 enforcement_level=EnforcementLevel.MANDATORY, validate=approved_ami),
        StackValidationPolicy(name="inventory", description="Counts resources asynchronously.", validate=gather_counts),
        ResourceValidationPolicy(name="upsize-micro", description="Micro instances are upsized.",
                                 enforcement_level=EnforcementLevel.REMEDIATE, remediate=async_fix),
    ],
)
