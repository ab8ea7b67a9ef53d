// Package packtest runs a pack's test cases: YAML files in the pack's tests/
// folder that give a resource (or a stack of resources) and the result
// expected of each policy. It is a library, so that `warden test` and Go
// tests (the built-in packs, the engine's own cases) run the same code.
//
// A test file:
//
//	apiVersion: warden/v1
//	kind: PackTest
//	stack: {name: prod, project: web, organization: acme, dryRun: false}   # optional
//	config:                                  # optional, as in --policy-pack-config
//	  required-tags: {tags: [owner]}
//	cases:
//	  - name: public bucket
//	    resource:
//	      type: aws:s3/bucket:Bucket
//	      name: site                         # urn defaults to urn:pulumi:<stack>::<project>::<type>::<name>
//	      props:
//	        acl: public-read
//	        tags: {owner: !unknown}          # unknown during preview
//	        password: !secret hunter2        # secret: evaluated, never shown
//	      options: {protect: true}
//	    expect:
//	      s3-no-public-acl: violation        # violation | pass | not-applicable | cant-run | error
//	      required-tags: {result: cant-run, path: .tags.owner}
//	      s3-versioning: {result: violation, message: "versioning", count: 1}
//	    remediated: {acl: private}           # inputs after remediate-level policies ran
//	  - name: bucket without a public access block
//	    resources:                           # a stack: stack policies see every resource's outputs
//	      - {type: aws:s3/bucketV2:BucketV2, name: b, props: {bucket: b-123}}
//	    expect:
//	      buckets-have-public-access-block: violation
//
// Policies a case does not list are not checked. Failures name the case's
// file:line and show what was expected and what the policy returned.
package packtest
