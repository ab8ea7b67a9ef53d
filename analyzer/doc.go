// Package analyzer is Warden's Pulumi analyzer plugin: a
// pulumirpc.AnalyzerServer adapting the domain analyzer of package
// internal/analyze (which `warden analyze` and `warden audit` use too), and
// the code that runs it as a process the Pulumi CLI launches.
//
// The server is built once at start-up from a policy home. Every RPC
// converts its request (convert.go; propswire.go and wire.go decode the hot
// requests straight from the wire), asks the current analyze.Session once,
// and converts its verdict back: a resource crosses the adapter once, the
// domain once and the engine once. State that the engine sends during a
// run (the stack in ConfigureStack, the reconciled config in Configure)
// replaces the immutable session behind an atomic pointer, so Analyze
// calls never take a lock and never see a half-built session.
//
// # Policy names
//
// One analyzer serves every pack of the home, and the engine keys config,
// exceptions and summaries by policy name, so names must be unique across
// packs. A policy is exposed under its own name; when two packs of the home
// define the same name, both are exposed as "<pack>/<policy>" instead
// (pack names cannot contain "/"). --policy-pack-config keys use the exposed
// names. Each diagnostic carries its own pack's name and version.
//
// Do not put a version in the home's PulumiPolicy.yaml: the engine would
// stamp it on every diagnostic in place of each pack's own version.
package analyzer
