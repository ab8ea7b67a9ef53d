// Package spec reads Warden's pack format (pack.yaml) into plain structs that
// remember where every value came from, and checks everything that can be
// checked without compiling expressions: names, versions, levels, severities,
// resource type tokens, config schemas and the shape of each policy.
//
// It depends on the standard library and yaml.v3 only. Expressions are kept
// as source text with positions; package engine compiles them and reports
// CEL errors at the YAML position of the expression, in the same ErrorList.
//
// ParseYAML is the one YAML decoder of every file Warden reads (pack.yaml,
// warden.yaml, tests/*.yaml), so that one rule about documents, keys,
// aliases and depth holds for all of them.
//
// All problems of a pack are collected, sorted and returned together, in the
// manner of go/scanner.ErrorList, so an author fixes a pack in one pass.
package spec
