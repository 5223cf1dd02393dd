"""Policies over assets and archives (Lambda code, S3 objects)."""
import pulumi
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy


def lambda_code(args, report_violation):
    if args.resource_type != "aws:lambda/function:Function":
        return
    code = args.props.get("code")
    if isinstance(code, pulumi.FileArchive):
        if not code.path.endswith(".zip"):
            report_violation(f"Deploy Lambda code as a .zip, not {code.path}.")
    elif isinstance(code, pulumi.AssetArchive):
        names = sorted(code.assets)
        if "handler.py" not in names:
            report_violation(f"Archive lacks handler.py (has {', '.join(names)}).")
        for name, asset in code.assets.items():
            if isinstance(asset, pulumi.StringAsset) and "TODO" in asset.text:
                report_violation(f"{name} still contains TODO.")
    elif isinstance(code, pulumi.RemoteArchive):
        if not code.uri.startswith("https://"):
            report_violation(f"Remote code must be fetched over https: {code.uri}")
    else:
        report_violation(f"Unexpected code value of type {type(code).__name__}.")


def object_sources(args, report_violation):
    if args.resource_type != "aws:s3/bucketObject:BucketObject":
        return
    source = args.props.get("source")
    if isinstance(source, pulumi.RemoteAsset):
        report_violation(f"Objects must not be fetched from {source.uri} at deploy time.")
    elif isinstance(source, pulumi.FileAsset) and source.path.startswith("/"):
        report_violation(f"Absolute asset path {source.path} is not portable.")
    elif isinstance(source, pulumi.StringAsset) and len(source.text) > 40:
        report_violation("Inline object content is longer than 40 characters.")


PolicyPack(
    name="assets-archives",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(name="lambda-code-packaging", description="Lambda code is packaged as expected.",
                                 validate=lambda_code),
        ResourceValidationPolicy(name="s3-object-sources", description="Bucket objects come from the repository.",
                                 enforcement_level=EnforcementLevel.ADVISORY, validate=object_sources),
    ],
)
