"""${DESCRIPTION}

Azure guard rails (azure-native): HTTPS-only storage without public blob access,
a minimum TLS version, and approved locations for everything in the stack.
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

STORAGE = "azure-native:storage:StorageAccount"


def storage_secure(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type != STORAGE:
        return
    if args.props.get("enableHttpsTrafficOnly") is False:
        report_violation("Storage accepts plain HTTP; set enableHttpsTrafficOnly=True.")
    if args.props.get("allowBlobPublicAccess", False):
        report_violation("Blobs can be made public; set allowBlobPublicAccess=False.")


def min_tls(args: ResourceValidationArgs, report_violation: ReportViolation):
    if args.resource_type not in (STORAGE, "azure-native:web:WebApp", "azure-native:sql:Server"):
        return
    version = args.props.get("minimumTlsVersion") or args.props.get("minimalTlsVersion") or \
        (args.props.get("siteConfig") or {}).get("minTlsVersion")
    if version not in ("TLS1_2", "1.2", "TLS1_3", "1.3"):
        report_violation(f"Minimum TLS version is {version or 'unset'}; require 1.2 or later.")


def approved_locations(args: StackValidationArgs, report_violation: ReportViolation):
    allowed = [loc.lower().replace(" ", "") for loc in args.get_config()["locations"]]
    for r in args.resources:
        location = r.props.get("location")
        if isinstance(location, str) and location.lower().replace(" ", "") not in allowed:
            report_violation(f"{r.name} is deployed to {location}, outside {', '.join(allowed)}.", r.urn)


PolicyPack(
    name="${PACK_NAME}",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="storage-account-secure",
            description="Storage accounts are HTTPS-only and keep blobs private.",
            severity=Severity.HIGH,
            validate=storage_secure,
        ),
        ResourceValidationPolicy(
            name="minimum-tls",
            description="Services require TLS 1.2 or later.",
            severity=Severity.MEDIUM,
            validate=min_tls,
        ),
        StackValidationPolicy(
            name="approved-locations",
            description="Resources are deployed only to approved Azure locations.",
            config_schema=PolicyConfigSchema(properties={
                "locations": {"type": "array", "items": {"type": "string"}, "default": ["westeurope", "northeurope"]},
            }),
            validate=approved_locations,
        ),
    ],
)
