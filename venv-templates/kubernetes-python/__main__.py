"""${DESCRIPTION}

Kubernetes guard rails: no privileged containers, images pinned to a tag,
resource limits, and no LoadBalancer services unless allowed.
"""
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet",
             "kubernetes:apps/v1:DaemonSet", "kubernetes:batch/v1:Job", "kubernetes:core/v1:Pod")


def pod_spec(args: ResourceValidationArgs):
    spec = args.props.get("spec") or {}
    if args.resource_type == "kubernetes:core/v1:Pod":
        return spec
    return (spec.get("template") or {}).get("spec") or {}


def containers(args: ResourceValidationArgs):
    spec = pod_spec(args)
    return list(spec.get("containers") or []) + list(spec.get("initContainers") or [])


def no_privileged(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type not in WORKLOADS:
        return
    for c in containers(args):
        if (c.get("securityContext") or {}).get("privileged"):
            report_violation(f"Container '{c.get('name')}' runs privileged.")


def pinned_images(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type not in WORKLOADS:
        return
    for c in containers(args):
        image = c.get("image", "")
        last = image.rsplit("/", 1)[-1]
        if "@sha256:" not in image and (":" not in last or last.endswith(":latest")):
            report_violation(f"Image '{image}' is not pinned to a version.")


def limits(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type not in WORKLOADS:
        return
    for c in containers(args):
        if not ((c.get("resources") or {}).get("limits") or {}):
            report_violation(f"Container '{c.get('name')}' sets no resource limits.")


def load_balancers(args: StackValidationArgs, report_violation: ReportViolation):
    allowed = args.get_config()["maxLoadBalancers"]
    lbs = [r for r in args.resources
           if r.resource_type == "kubernetes:core/v1:Service" and (r.props.get("spec") or {}).get("type") == "LoadBalancer"]
    if len(lbs) > allowed:
        for r in lbs:
            report_violation(f"Service {r.name} is one of {len(lbs)} LoadBalancers; at most {allowed} are allowed.", r.urn)


PolicyPack(
    name="${PACK_NAME}",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="no-privileged-containers",
            description="Containers do not run privileged.",
            severity=Severity.CRITICAL,
            validate=no_privileged,
        ),
        ResourceValidationPolicy(
            name="pinned-images",
            description="Container images are pinned to a tag or digest.",
            severity=Severity.MEDIUM,
            validate=pinned_images,
        ),
        ResourceValidationPolicy(
            name="resource-limits",
            description="Containers set resource limits.",
            enforcement_level=EnforcementLevel.ADVISORY,
            validate=limits,
        ),
        StackValidationPolicy(
            name="load-balancer-budget",
            description="A stack exposes a bounded number of LoadBalancer services.",
            config_schema=PolicyConfigSchema(properties={"maxLoadBalancers": {"type": "integer", "minimum": 0, "default": 1}}),
            validate=load_balancers,
        ),
    ],
)
