"""Kubernetes workload hardening: privileges, limits, images, and namespace hygiene."""
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet")


def containers(args):
    spec = (args.props.get("spec") or {}).get("template", {}).get("spec", {})
    return list(spec.get("containers", [])) + list(spec.get("initContainers", []))


def no_privileged(args, report_violation):
    if args.resource_type not in WORKLOADS:
        return
    for c in containers(args):
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            report_violation(f"Container '{c['name']}' runs privileged.")
        if sc.get("runAsUser") == 0:
            report_violation(f"Container '{c['name']}' runs as root (uid {sc['runAsUser']}).")


def limits(args, report_violation):
    if args.resource_type not in WORKLOADS:
        return
    for c in containers(args):
        lim = (c.get("resources") or {}).get("limits") or {}
        if "memory" not in lim or "cpu" not in lim:
            report_violation(f"Container '{c['name']}' has no cpu/memory limits.")


def pinned_images(args, report_violation):
    if args.resource_type not in WORKLOADS:
        return
    registries = args.get_config()["registries"]
    for c in containers(args):
        image = c.get("image", "")
        if image.endswith(":latest") or ":" not in image.split("/")[-1]:
            report_violation(f"Image {image} is not pinned to a tag.")
        if not any(image.startswith(r) for r in registries):
            report_violation(f"Image {image} is not from an approved registry.")


def replicas(args, report_violation):
    if args.resource_type != "kubernetes:apps/v1:Deployment":
        return
    n = (args.props.get("spec") or {}).get("replicas", 1)
    if n < args.get_config()["minReplicas"]:
        report_violation(f"{n} replica(s); at least {args.get_config()['minReplicas']} are required.")


def no_default_namespace(args, report_violation):
    for r in args.resources:
        if not r.resource_type.startswith("kubernetes:") or r.resource_type.startswith("kubernetes:core/v1:Namespace"):
            continue
        ns = (r.props.get("metadata") or {}).get("namespace", "default")
        if ns == "default":
            report_violation(f"{r.resource_type.split(':')[-1]} {r.name} is in the default namespace.", r.urn)
        if r.provider is not None and r.provider.props.get("enableServerSideApply") is False:
            report_violation(f"{r.name} uses a provider without server-side apply.", r.urn)


PolicyPack(
    name="k8s-guard",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="no-privileged-containers", description="Containers must not run privileged or as root.",
                                 severity=Severity.CRITICAL, validate=no_privileged),
        ResourceValidationPolicy(name="resource-limits", description="Containers declare cpu and memory limits.",
                                 severity=Severity.MEDIUM, enforcement_level=EnforcementLevel.ADVISORY, validate=limits),
        ResourceValidationPolicy(name="pinned-images", description="Images are pinned and come from approved registries.",
                                 severity=Severity.HIGH,
                                 config_schema=PolicyConfigSchema(properties={
                                     "registries": {"type": "array", "items": {"type": "string"},
                                                    "default": ["ghcr.io/acme/", "registry.acme.internal/"]}}),
                                 validate=pinned_images),
        ResourceValidationPolicy(name="min-replicas", description="Deployments run enough replicas.",
                                 config_schema=PolicyConfigSchema(properties={"minReplicas": {"type": "integer", "default": 2}}),
                                 validate=replicas),
        StackValidationPolicy(name="no-default-namespace", description="Workloads live in dedicated namespaces.",
                              enforcement_level=EnforcementLevel.ADVISORY, validate=no_default_namespace),
    ],
    initial_config={"min-replicas": {"minReplicas": 3}},
)
