import Foundation
import PolicyValues
import Testing

/// What each fixture pack is written to catch, asserted exactly
/// (`policy resource level`, sorted), plus the exit code.
@Suite(.serialized) struct ExpectationTests {
    func analyze(_ pack: String, _ stack: String, _ extra: [String] = []) throws -> (Run, PlainValue) {
        let dir = try preparedPack(pack)
        let r = try policyHost(["analyze", "--quiet", Repo.stack(stack).path, "--policy-pack", dir.path, "--format", "json"] + extra)
        let json = try #require(r.json, "no JSON on stdout: \(r.stdout) / \(r.stderr)")
        return (r, json)
    }

    @Test func awsBasicsDefaultConfig() throws {
        let (r, json) = try analyze("aws-basics", "aws-webshop.json")
        #expect(r.status == 1)
        #expect(json.violationTriples == [
            "ec2-instance-size bastion advisory",
            "ec2-open-ingress web mandatory",
            "s3-bucket-budget webshop-prod advisory",
            "s3-no-public-read public-site mandatory",
            "s3-no-public-read uploads mandatory",
            "s3-policies-attached orphan-policy advisory",
            "s3-policies-attached orphan-policy advisory",
            "s3-versioning public-site advisory",
            "s3-versioning uploads advisory",
        ])
        // Numbers reach policies as floats, as through the engine's Struct.
        let messages = (json["violations"]?.arrayValue ?? []).compactMap { $0["message"]?.stringValue }
        #expect(messages.contains { $0.hasSuffix("Root volume of 250.0 GB exceeds 100.0 GB (seen as float).") })
        // The YAML version replaces the SDK's 0.0.1; severity is the policy's.
        let first = try #require(json["violations"]?.arrayValue?.first { $0["policyName"] == "s3-no-public-read" })
        #expect(first["policyPackVersion"] == "1.2.0")
        #expect(first["severity"] == "critical")
        #expect(first["message"] == "S3 buckets must not grant public access through canned ACLs.\nBucket 'public-site' has the canned ACL 'public-read'.")
    }

    @Test func awsBasicsWithConfigFile() throws {
        let (r, json) = try analyze("aws-basics", "aws-webshop.json", ["--policy-pack-config", Repo.config("aws-basics.json").path])
        #expect(r.status == 1)
        #expect(json.violationTriples == [
            "ec2-instance-size bastion mandatory",
            "s3-bucket-budget webshop-prod advisory",
            "s3-no-public-read public-site mandatory",
            "s3-no-public-read uploads mandatory",
            "s3-versioning public-site mandatory",
            "s3-versioning uploads mandatory",
        ])
    }

    @Test func checkpointFileAndResourceTypes() throws {
        let (r, json) = try analyze("aws-basics", "intranet-checkpoint-v1.json")
        #expect(r.status == 1)
        #expect(json.violationTriples == [
            "ec2-instance-size app advisory",
            "s3-no-public-read wiki mandatory",
            "s3-versioning wiki advisory",
        ])
        #expect(json["summary"]?["resources"] == 4)
    }

    @Test func remediationsReportedNotApplied() throws {
        // --show-secrets: the report holds what the SDK returned (secrets below are checked as such).
        let (r, json) = try analyze("remediate-tags", "aws-webshop.json", ["--show-secrets"])
        // s3-private still reports on the unremediated input: REMEDIATE is shown as mandatory.
        #expect(r.status == 1)
        #expect(json.violationTriples == ["s3-private public-site mandatory"])
        let rems = (json["remediations"]?.arrayValue ?? []).map {
            "\($0["policyName"]?.stringValue ?? "") \(($0["urn"]?.stringValue ?? "").components(separatedBy: "::").last ?? "")"
        }.sorted()
        #expect(rems == ["rds-encrypted-storage orders-db", "required-tags bastion", "required-tags logs", "required-tags orders-db",
                         "required-tags public-site", "required-tags uploads", "s3-private public-site"])
        // Writing through args.props keeps the rotated password secret; the policy read the plaintext.
        let rds = try #require(json["remediations"]?.arrayValue?.first { $0["policyName"] == "rds-encrypted-storage" })
        #expect(rds["properties"]?["password"] == ["4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "s3cr3t-pw-rotated"])
        #expect(rds["properties"]?["storageEncrypted"] == true)
        // Remediations chain within a pack: the next one sees the first's result; its plain dict copy
        // unwraps the secret, so the password leaves it unmarked, as with the SDK.
        let tags = try #require(json["remediations"]?.arrayValue?.first {
            $0["policyName"] == "required-tags" && ($0["urn"]?.stringValue ?? "").hasSuffix("::orders-db")
        })
        #expect(tags["properties"]?["storageEncrypted"] == true)
        #expect(tags["properties"]?["password"] == "s3cr3t-pw-rotated")
        #expect(tags["properties"]?["tags"] == ["owner": "platform-team", "env": "prod"])
        // By default both show as [secret]: the copy that lost the signature was secret in the stack.
        let (_, redacted) = try analyze("remediate-tags", "aws-webshop.json")
        for policy in ["rds-encrypted-storage", "required-tags"] {
            let rem = redacted["remediations"]?.arrayValue?.first {
                $0["policyName"]?.stringValue == policy && ($0["urn"]?.stringValue ?? "").hasSuffix("::orders-db")
            }
            #expect(rem?["properties"]?["password"] == "[secret]", "\(policy)")
        }
        #expect(!JSON.serialize(redacted).contains("s3cr3t-pw"))
    }

    @Test func remediationsApplied() throws {
        let (r, json) = try analyze("remediate-tags", "aws-webshop.json", ["--apply-remediations"])
        #expect(r.status == 0)
        #expect(json.violationTriples == [])
    }

    @Test func previewUnknownsBecomeAdvisoryNotes() throws {
        let (r, json) = try analyze("preview-unknowns", "edge-preview.json")
        #expect(r.status == 1)
        #expect(json.violationTriples == [
            "ec2-instance-checks web-1 advisory",
            "ec2-instance-checks web-1 mandatory",
            "ec2-name-tag edge-dev advisory",
            "lb-http-redirect http advisory",
            "lb-http-redirect http-known advisory",
            "short-passwords db advisory",
        ])
        let note = try #require(json["violations"]?.arrayValue?.first { $0["policyName"] == "lb-http-redirect" && ($0["urn"]?.stringValue ?? "").hasSuffix("::http") })
        #expect(note["message"] == "can't run policy 'lb-http-redirect' from policy pack 'preview-unknowns@v0.0.1' during preview: number value at .port can't be known during preview")
    }

    @Test func assetsAndArchives() throws {
        let (r, json) = try analyze("assets-archives", "thumbnailer-assets.json")
        #expect(r.status == 1)
        #expect(json.violationTriples == [
            "lambda-code-packaging legacy mandatory",
            "lambda-code-packaging remote mandatory",
            "lambda-code-packaging resize mandatory",
            "s3-object-sources index advisory",
            "s3-object-sources logo advisory",
            "s3-object-sources robots advisory",
        ])
    }

    @Test func notApplicableResults() throws {
        let (r, json) = try analyze("not-applicable", "aws-webshop.json")
        #expect(r.status == 1)
        #expect(json.violationTriples == ["rds-backups orders-db mandatory", "validate-only-remediate-level orders-db mandatory"])
        let na = (json["notApplicable"]?.arrayValue ?? []).map { "\($0["policyName"]?.stringValue ?? "")|\($0["reason"]?.stringValue ?? "")" }
        #expect(na.filter { $0 == "rds-backups|" }.count == 10)
        #expect(na.filter { $0 == "remediate-only|Policy does not implement validate" }.count == 11)
        #expect(na.filter { $0 == "validate-only-remediate-level|Policy does not implement remediate" }.count == 11)
        #expect(na.contains("prod-only-size|only enforced on stacks tagged env=prod"))
        let tagged = try analyze("not-applicable", "aws-webshop.json", ["--stack-tag", "env=prod"]).1
        #expect(tagged.violationTriples.contains("prod-only-size webshop-prod advisory"))
    }

    @Test func asyncValidators() throws {
        let (r, json) = try analyze("async-checks", "aws-webshop.json")
        #expect(r.status == 1)
        #expect(json.violationTriples == ["approved-ami bastion mandatory", "inventory webshop-prod advisory"])
        let inv = try #require(json["violations"]?.arrayValue?.first { $0["policyName"] == "inventory" })
        #expect(inv["message"] == "Counts resources asynchronously.\n3 buckets and 1 instances")
    }

    @Test func raisingPolicyIsReportedWithTraceback() throws {
        let (r, json) = try analyze("raising-policy", "aws-webshop.json")
        #expect(r.status == 5)
        let errors = try #require(json["errors"]?.arrayValue)
        #expect(errors.count == 1)
        #expect(errors.first?["policyName"] == "fragile")
        #expect(errors.first?["message"] == "KeyError: 'egress'")
        #expect(errors.first?["traceback"]?.stringValue?.contains("in fragile") == true)
        // Violations of other resources are still reported.
        #expect(json.violationTriples == ["sturdy public-site mandatory"])
    }

    @Test func kubernetesGuard() throws {
        let (r, json) = try analyze("k8s-guard", "storefront-k8s.json")
        #expect(r.status == 1)
        #expect(json.violationTriples == [
            "min-replicas cart advisory",
            "min-replicas debug-tools advisory",
            "no-default-namespace cart advisory",
            "no-default-namespace db-credentials advisory",
            "no-default-namespace debug-tools advisory",
            "no-default-namespace debug-tools advisory",
            "no-default-namespace frontend advisory",
            "no-privileged-containers cart mandatory",
            "no-privileged-containers debug-tools mandatory",
            "pinned-images cart mandatory",
            "pinned-images cart mandatory",
            "pinned-images debug-tools mandatory",
            "resource-limits debug-tools advisory",
        ])
        // Ciphertext from a passphrase provider cannot be decrypted: said once per value.
        let warnings = json["warnings"]?.arrayValue ?? []
        #expect(warnings.count == 1)
        #expect(warnings.first?.stringValue?.contains("storefront-k8s.json: 3 secret value(s) could not be decrypted (they are encrypted with a passphrase and none was given)") == true)
    }

    @Test func textOutputIsGroupedByPackAndResource() throws {
        let dir = try preparedPack("aws-basics")
        let r = try policyHost(["analyze", "-q", Repo.stack("intranet-checkpoint-v1.json").path, "--policy-pack", dir.path])
        #expect(r.status == 1)
        #expect(r.stdout.hasPrefix("Policy Pack aws-basics@v1.2.0\n  aws:s3/bucket:Bucket: wiki\n    mandatory [severity: critical]  s3-no-public-read\n"))
        #expect(r.stdout.hasSuffix("4 resources, 1 mandatory, 2 advisory, 0 remediations, 0 policy errors\n"))
    }
}
