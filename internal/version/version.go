// Package version says which Warden this is.
package version

import "runtime/debug"

// Version is set at build time with
// -ldflags "-X github.com/warden-policy/warden/internal/version.Version=v0.2.0";
// otherwise the module version recorded by go install is used.
var Version = ""

// String returns the version without a leading v, as Pulumi plugins report it.
func String() string {
	v := Version
	if v == "" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	if v == "" {
		v = "0.1.0"
	}
	if v[0] == 'v' {
		v = v[1:]
	}
	return v
}
