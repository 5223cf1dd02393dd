import HostCore
/// The Pulumi CLI's file formats as Go types (`sdk/go/common/apitype/core.go`, `events.go` and
/// `pkg/display/json.go` of pulumi/pulumi v3.259.0), for `GoDecoder`. Names are the JSON tags;
/// string kinds (`resource.URN`, `tokens.Type`, `resource.ID`, …) are `.string`; semver versions,
/// whose own format is not checked here, are strings too.
enum StateSchema {
    // MARK: Resources

    static let resourceV1 = GoStruct("ResourceV1", [
        ("urn", .string), ("custom", .bool), ("delete", .bool), ("id", .string), ("type", .string),
        ("inputs", .map(.any)), ("defaults", .map(.any)), ("outputs", .map(.any)), ("parent", .string),
        ("protect", .bool), ("dependencies", .slice(.string)), ("initErrors", .slice(.string)),
    ])

    static let resourceV2 = GoStruct("ResourceV2", [
        ("urn", .string), ("custom", .bool), ("delete", .bool), ("id", .string), ("type", .string),
        ("inputs", .map(.any)), ("outputs", .map(.any)), ("parent", .string), ("protect", .bool),
        ("external", .bool), ("dependencies", .slice(.string)), ("initErrors", .slice(.string)),
        ("provider", .string),
    ])

    static let customTimeouts = GoStruct("CustomTimeouts", [
        ("create", .float), ("update", .float), ("delete", .float), ("read", .float),
    ])

    static let resourceV3 = GoStruct("ResourceV3", [
        ("urn", .string), ("custom", .bool), ("delete", .bool), ("id", .string), ("type", .string),
        ("inputs", .map(.any)), ("outputs", .map(.any)), ("parent", .string), ("protect", .bool),
        ("taint", .bool), ("external", .bool), ("dependencies", .slice(.string)),
        ("initErrors", .slice(.string)), ("provider", .string),
        ("propertyDependencies", .map(.slice(.string))), ("pendingReplacement", .bool),
        ("additionalSecretOutputs", .slice(.string)), ("aliases", .slice(.string)),
        ("customTimeouts", .pointer(.structure(customTimeouts))), ("importID", .string),
        ("retainOnDelete", .bool), ("deletedWith", .string), ("replaceWith", .slice(.string)),
        ("created", .pointer(.time)), ("modified", .pointer(.time)), ("sourcePosition", .string),
        ("stackTrace", .slice(.structure(GoStruct("StackFrameV1", [("sourcePosition", .string)])))),
        ("ignoreChanges", .slice(.string)), ("hideDiff", .slice(.slice(.any))),
        ("replaceOnChanges", .slice(.string)), ("replacementTrigger", .any),
        ("refreshBeforeUpdate", .bool), ("viewOf", .string), ("resourceHooks", .map(.slice(.string))),
        ("extensionRef", .string), ("snippetID", .string),
    ])

    // MARK: Deployments

    // `resources` is `[]ResourceVx`; it is kept `.raw` here because `StackSnapshot.body` reads each
    // resource itself (`StackResource.decode`), once. A slice is replaced, not merged, when two
    // keys name it, so the last one wins either way.

    static let manifest = GoStruct("ManifestV1", [
        ("time", .time), ("magic", .string), ("version", .string),
        ("plugins", .slice(.structure(GoStruct("PluginInfoV1", [
            ("name", .string), ("path", .string), ("type", .string), ("version", .string),
        ])))),
    ])

    static let deploymentV1 = GoStruct("DeploymentV1", collectsUnknownKeys: true, [
        ("manifest", .structure(manifest)), ("resources", .raw),
    ])

    static let deploymentV2 = GoStruct("DeploymentV2", collectsUnknownKeys: true, [
        ("manifest", .structure(manifest)), ("resources", .raw),
        ("pending_operations", .slice(.structure(GoStruct("OperationV1", [
            ("resource", .structure(resourceV2)), ("type", .string),
        ])))),
    ])

    static let snippet = GoStruct("SnippetV1", [
        ("uuid", .string), ("name", .string), ("type", .string), ("code", .string),
        ("descriptor", .structure(GoStruct("PackageDescriptorV1", [
            ("name", .string), ("version", .pointer(.string)), ("downloadURL", .string),
            ("parameterization", .pointer(.structure(GoStruct("ParameterizationDescriptorV1", [
                ("name", .string), ("version", .string), ("value", .bytes),
            ])))),
        ]))),
        ("references", .map(.string)),
    ])

    /// Versions 3 and 4 both decode into `DeploymentV3`.
    static let deploymentV3 = GoStruct("DeploymentV3", collectsUnknownKeys: true, [
        ("manifest", .structure(manifest)),
        ("secrets_providers", .pointer(.structure(GoStruct("SecretsProvidersV1", [("type", .string), ("state", .raw)])))),
        ("resources", .raw),
        ("pending_operations", .slice(.structure(GoStruct("OperationV2", [
            ("resource", .structure(resourceV3)), ("type", .string),
        ])))),
        ("metadata", .structure(GoStruct("SnapshotMetadataV1", [
            ("integrity_error", .pointer(.structure(GoStruct("SnapshotIntegrityErrorMetadataV1", [
                ("version", .string), ("command", .string), ("error", .string), ("env_vars", .map(.string)),
            ])))),
        ]))),
        ("snippets", .slice(.structure(snippet))),
        ("extensions", .map(.structure(GoStruct("Extension", [
            ("name", .string), ("version", .string), ("value", .bytes),
        ])))),
    ])

    static func deployment(version: Int) -> GoStruct {
        switch version {
        case 1: return deploymentV1
        case 2: return deploymentV2
        default: return deploymentV3
        }
    }

    // MARK: Files

    /// `pulumi stack export`: `apitype.UntypedDeployment`.
    static let untypedDeployment = GoStruct("UntypedDeployment", collectsUnknownKeys: true, [
        ("version", .int), ("features", .slice(.string)), ("deployment", .raw),
    ])

    /// A DIY backend's state file and old exports: `apitype.VersionedCheckpoint`.
    static let versionedCheckpoint = GoStruct("VersionedCheckpoint", collectsUnknownKeys: true, [
        ("version", .int), ("features", .slice(.string)), ("checkpoint", .raw),
    ])

    /// `CheckpointV1`…`V3`: the stack's name, its config and the latest deployment. `latest` is
    /// decoded separately (by its version), so it is `.raw` here.
    static let checkpoint = GoStruct("Checkpoint", collectsUnknownKeys: true, [
        ("stack", .string), ("config", .map(.any)), ("latest", .raw),
    ])

    /// A version-0 checkpoint: the file itself is a `CheckpointV1`; `version`, `features` and
    /// `checkpoint` belong to the `VersionedCheckpoint` the CLI reads first.
    static let unversionedCheckpoint = GoStruct("CheckpointV1", collectsUnknownKeys: true, [
        ("stack", .string), ("config", .map(.any)), ("latest", .raw),
        ("version", .int), ("features", .slice(.string)), ("checkpoint", .raw),
    ])

    // MARK: Previews

    /// `pulumi preview --json`: `display.PreviewDigest` with `display.PreviewStep`s.
    static let previewDigest = GoStruct("PreviewDigest", collectsUnknownKeys: true, [
        ("config", .map(.string)),
        ("steps", .slice(.pointer(.structure(GoStruct("PreviewStep", [
            ("op", .string), ("urn", .string), ("provider", .string),
            ("oldState", .pointer(.structure(resourceV3))), ("newState", .pointer(.structure(resourceV3))),
            ("diffReasons", .slice(.string)), ("replaceReasons", .slice(.string)), ("detailedDiff", .map(.any)),
        ]))))),
        ("diagnostics", .slice(.any)), ("duration", .int), ("changeSummary", .map(.int)), ("maybeCorrupt", .bool),
    ])

    /// `apitype.StepEventStateMetadata`: a resource's state in an engine event.
    static let stepEventState = GoStruct("StepEventStateMetadata", [
        ("type", .string), ("urn", .string), ("custom", .bool), ("delete", .bool), ("id", .string),
        ("parent", .string), ("protect", .bool), ("taint", .bool), ("external", .bool), ("retainOnDelete", .bool),
        ("inputs", .map(.any)), ("outputs", .map(.any)), ("provider", .string), ("initErrors", .slice(.string)),
        ("hideDiffs", .slice(.slice(.any))),
    ])

    static let stepEventMetadata = GoStruct("StepEventMetadata", [
        ("op", .string), ("urn", .string), ("type", .string),
        ("old", .pointer(.structure(stepEventState))), ("new", .pointer(.structure(stepEventState))),
        ("keys", .slice(.string)), ("diffs", .slice(.string)), ("detailedDiff", .map(.any)),
        ("logical", .bool), ("provider", .string),
    ])

    /// One line of the streaming preview (`PULUMI_ENABLE_STREAMING_JSON_PREVIEW`): an
    /// `apitype.EngineEvent`. Only the events that carry resources and config are typed.
    static let engineEvent = GoStruct("EngineEvent", collectsUnknownKeys: true, [
        ("sequence", .int), ("timestamp", .int),
        ("preludeEvent", .pointer(.structure(GoStruct("PreludeEvent", [("config", .map(.string))])))),
        ("summaryEvent", .pointer(.structure(GoStruct("SummaryEvent", [("resourceChanges", .map(.int))])))),
        ("resourcePreEvent", .pointer(.structure(GoStruct("ResourcePreEvent", [
            ("metadata", .structure(stepEventMetadata)), ("planning", .bool),
        ])))),
        ("resOutputsEvent", .pointer(.structure(GoStruct("ResOutputsEvent", [
            ("metadata", .structure(stepEventMetadata)), ("planning", .bool),
        ])))),
        ("cancelEvent", .any), ("stdoutEvent", .any), ("diagnosticEvent", .any), ("resOpFailedEvent", .any),
        ("policyEvent", .any), ("policyRemediationEvent", .any), ("policyLoadEvent", .any),
        ("policyAnalyzeSummaryEvent", .any), ("policyRemediateSummaryEvent", .any),
        ("policyAnalyzeStackSummaryEvent", .any), ("startDebuggingEvent", .any), ("progressEvent", .any),
        ("errorEvent", .any),
    ])
}
