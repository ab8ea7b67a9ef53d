// The Node.js side of Warden's performance comparison (issues 7 and 18):
// the eleven policies of testdata/bench/warden on @pulumi/policy 1.21, written as a
// Pulumi user would write them, in plain JavaScript so that no TypeScript
// compile is measured. Each follows its Warden counterpart in packs/builtin
// (and testdata/bench/policyx) on the resource types of the benchmark
// corpus. `make bench-setup` installs it into .cache/load/node.
//
// An unknown value throws from @pulumi/policy's proxy on first access and
// the SDK reports "can't run policy ... during preview" at advisory level,
// as Warden does.
"use strict";

const net = require("net");
const { PolicyPack } = require("@pulumi/policy");

const truthy = (v) => v === true || v === "true";
// isOpen is Warden's cidr.isOpen: a valid CIDR with a zero-length prefix.
const isOpen = (cidr) => {
    const [addr, bits, rest] = String(cidr).split("/");
    return rest === undefined && bits === "0" && net.isIP(addr) !== 0;
};

// check is a resource policy for the given types; f returns the messages.
function check(name, description, enforcementLevel, types, f) {
    return {
        name, description, enforcementLevel,
        validateResource: (args, reportViolation) => {
            if (!types.includes(args.type)) {
                return;
            }
            for (const msg of f(args)) {
                reportViolation(msg);
            }
        },
    };
}

const one = (cond, msg) => (cond ? [msg] : []);
const list = (v) => (typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);

new PolicyPack("bench-reference", {
    enforcementLevel: "advisory",
    policies: [
        check("s3-bucket-no-public-acl", "S3 buckets must not grant public access through ACLs.", "mandatory",
            ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"], ({ props }) => {
                const acl = String(props.acl || "").toLowerCase();
                return one(["public-read", "public-read-write", "authenticated-read"].includes(acl),
                    `the ACL ${acl} makes the bucket readable by anyone`);
            }),
        check("ec2-sg-no-public-ssh", "Security groups must not allow SSH (port 22) from the internet.", "mandatory",
            ["aws:ec2/securityGroup:SecurityGroup"], ({ props }) => {
                const out = [];
                for (const rule of props.ingress || []) {
                    const proto = rule.protocol || "", from = rule.fromPort || 0, to = rule.toPort || 0;
                    const ssh = proto === "-1" || proto === "all" ||
                        (proto === "tcp" || proto === "6") && (from === 0 && to === 0 || from <= 22 && 22 <= to);
                    const open = (rule.cidrBlocks || []).some(isOpen) || (rule.ipv6CidrBlocks || []).some(isOpen);
                    if (ssh && open) {
                        out.push(`ingress ${proto} ${from}-${to} is open to the internet`);
                    }
                }
                return out;
            }),
        check("rds-instance-storage-encrypted", "RDS instances must encrypt their storage.", "advisory",
            ["aws:rds/instance:Instance"], ({ props, name }) =>
                one(props.replicateSourceDb === undefined && !truthy(props.storageEncrypted), `database ${name} stores data unencrypted`)),
        check("rds-not-publicly-accessible", "RDS instances must not be publicly accessible.", "mandatory",
            ["aws:rds/instance:Instance"], ({ props, name }) =>
                one(truthy(props.publiclyAccessible), `database ${name} is publicly accessible`)),
        check("iam-policy-no-full-admin", "IAM policies must not allow every action on every resource.", "mandatory",
            ["aws:iam/policy:Policy"], ({ props }) => {
                let doc;
                try {
                    doc = JSON.parse(props.policy);
                } catch (e) {
                    return [];
                }
                const stmts = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
                return stmts
                    .filter((s) => s.Effect === "Allow" && list(s.Resource).includes("*") &&
                        (list(s.Action).includes("*") || list(s.Action).includes("*:*")))
                    .map((s) => `statement ${s.Sid || "without a Sid"} allows every action on every resource`);
            }),
        check("ec2-imdsv2-required", "EC2 instances must require IMDSv2.", "advisory",
            ["aws:ec2/instance:Instance"], ({ props, name }) => {
                const m = props.metadataOptions || {};
                return one(m.httpTokens !== "required" && m.httpEndpoint !== "disabled", `instance ${name} does not require IMDSv2`);
            }),
        check("ebs-volume-encrypted", "EBS volumes must be encrypted at rest.", "advisory",
            ["aws:ebs/volume:Volume"], ({ props, name }) => one(!truthy(props.encrypted), `volume ${name} is not encrypted`)),
        check("kms-key-rotation-enabled", "Symmetric KMS keys must rotate automatically.", "advisory",
            ["aws:kms/key:Key"], ({ props, name }) => {
                const spec = props.customerMasterKeySpec || props.keySpec || "";
                if (spec !== "" && spec !== "SYMMETRIC_DEFAULT") {
                    return [];
                }
                return one(!truthy(props.enableKeyRotation), `key ${name} does not rotate`);
            }),
        check("dynamodb-pitr-enabled", "DynamoDB tables must have point-in-time recovery.", "advisory",
            ["aws:dynamodb/table:Table"], ({ props, name }) =>
                one(!truthy((props.pointInTimeRecovery || {}).enabled), `table ${name} has no point-in-time recovery`)),
        check("k8s-no-privileged-containers", "Containers must not run privileged.", "mandatory",
            ["kubernetes:apps/v1:Deployment"], ({ props }) => {
                const pod = ((props.spec || {}).template || {}).spec || {};
                const out = [];
                for (const key of ["containers", "initContainers", "ephemeralContainers"]) {
                    for (const c of pod[key] || []) {
                        if (truthy((c.securityContext || {}).privileged)) {
                            out.push(`container ${c.name} is privileged`);
                        }
                    }
                }
                return out;
            }),
        // The stack policy: every bucket has a public access block pointing
        // at it, by property dependency (the bucket's id is unknown while it
        // is being created) or else by name, or the stack has a complete
        // account-level block. The blocked buckets are sets built once.
        {
            name: "s3-bucket-has-public-access-block",
            description: "Every S3 bucket has a public access block pointing at it (or the account has one).",
            enforcementLevel: "mandatory",
            validateStack: (args, reportViolation) => {
                const flags = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
                const blockedURNs = new Set(), blockedNames = new Set();
                for (const r of args.resources) {
                    if (r.type === "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock" &&
                        flags.every((f) => truthy(r.props[f]))) {
                        return;
                    }
                    if (r.type === "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock") {
                        const deps = r.propertyDependencies.bucket;
                        if (deps !== undefined) {
                            deps.forEach((b) => blockedURNs.add(b.urn));
                        } else {
                            blockedNames.add(r.props.bucket);
                        }
                    }
                }
                for (const r of args.resources) {
                    if (r.type !== "aws:s3/bucket:Bucket" && r.type !== "aws:s3/bucketV2:BucketV2") {
                        continue;
                    }
                    if (!blockedURNs.has(r.urn) && !blockedNames.has(r.props.id) && !blockedNames.has(r.props.bucket)) {
                        reportViolation(`bucket ${r.name} has no public access block`, r.urn);
                    }
                }
            },
        },
    ],
});
