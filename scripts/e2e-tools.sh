#!/usr/bin/env bash
# Builds the real Pulumi CLI and the Pulumi YAML language host for the
# end-to-end tests, into $WARDEN_E2E_BIN (default: warden-e2e/bin in the
# user's cache directory, so that every checkout shares one build). Both come
# from the Go module proxy; nothing is downloaded from anywhere else. A run
# with the binaries already built takes no time; with the Go caches warm, a
# rebuild takes well under a minute.
#
# `go install .../pkg/v3/cmd/pulumi@version` is refused because pkg's go.mod
# has a local replace directive (sdk => ../sdk), so this generates a small
# wrapper module that requires pkg and sdk at the same version and copies
# their non-local replace directives.
set -euo pipefail

PULUMI_VERSION="${PULUMI_VERSION:-v3.274.1}"
PULUMI_YAML_VERSION="${PULUMI_YAML_VERSION:-v1.25.0}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/warden-e2e"
bin="${WARDEN_E2E_BIN:-$cache/bin}"
work="$cache/pulumi-wrapper"
mkdir -p "$bin" "$work"

stamp="$bin/.pulumi-$PULUMI_VERSION"
if [[ -x "$bin/pulumi" && -f "$stamp" ]]; then
  echo "e2e-tools: pulumi $PULUMI_VERSION already built in $bin" >&2
else
  echo "e2e-tools: building pulumi $PULUMI_VERSION (about 6 minutes with cold Go caches)" >&2
  pkgdir=$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  sdkdir=$(go mod download -json "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  cd "$work"
  rm -f go.mod go.sum
  go mod init warden-e2e/pulumi >/dev/null 2>&1
  # Single-line replace directives that point at a module, not a local path.
  for mod in "$pkgdir/go.mod" "$sdkdir/go.mod"; do
    grep -E '^replace [^ ]+ => [^./][^ ]* v[^ ]+$' "$mod" | while read -r _ from _ to ver; do
      go mod edit -replace "$from=$to@$ver"
    done
  done
  cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
  go mod edit -require "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" -require "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION"
  go mod tidy -e >/dev/null 2>&1 || go mod tidy
  go build -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    -o "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  touch "$stamp"
fi

ystamp="$bin/.pulumi-language-yaml-$PULUMI_YAML_VERSION"
if [[ -x "$bin/pulumi-language-yaml" && -f "$ystamp" ]]; then
  echo "e2e-tools: pulumi-language-yaml $PULUMI_YAML_VERSION already built" >&2
else
  echo "e2e-tools: building pulumi-language-yaml $PULUMI_YAML_VERSION" >&2
  GOBIN="$bin" GOFLAGS=-mod=mod go install "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@$PULUMI_YAML_VERSION"
  touch "$ystamp"
fi
"$bin/pulumi" version >&2
