// Package e2e holds Warden's end-to-end tests: the real Pulumi CLI (built
// from the Go module proxy by scripts/e2e-tools.sh), the real Pulumi YAML
// language host, Warden's plugins, and fakeaws as the AWS provider. Run them
// with `make e2e` (part of `make test`); they are behind the e2e build tag
// because they need those tools.
package e2e
