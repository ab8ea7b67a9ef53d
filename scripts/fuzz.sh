#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of the module (go test -list '^Fuzz') for
# FUZZTIME each, one after the other: `go test -fuzz` takes one target of
# one package at a time. `make test` runs it briefly; a campaign runs it
# with FUZZTIME=10m. A failing input is written under the package's
# testdata/fuzz/<target>/ and fails the run: commit it as a regression.
set -euo pipefail
fuzztime=${FUZZTIME:-300x}
go=${GO:-go}
targets=()
names=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
listing=$($go test -list '^Fuzz' ./...)
while read -r line; do
	case $line in
	Fuzz*) names+=("$line") ;;
	ok*)
		pkg=$(awk '{print $2}' <<<"$line")
		for n in "${names[@]}"; do
			targets+=("$pkg $n")
		done
		names=()
		;;
	esac
done <<<"$listing"
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz.sh: no fuzz targets found" >&2
	exit 1
fi
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "fuzz $pkg $name ($fuzztime)"
	dir=$($go list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$name
	before=$({ ls "$dir" 2>/dev/null || true; } | wc -l)
	if ! $go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" -timeout 0 "$pkg" >"$log" 2>&1; then
		after=$({ ls "$dir" 2>/dev/null || true; } | wc -l)
		# A duration can end in Go's own shutdown race (golang/go#75804):
		# "context deadline exceeded" and no input written is not a finding.
		if [ "$after" = "$before" ] && grep -q '^    context deadline exceeded$' "$log"; then
			echo "fuzz $pkg $name: the fuzzing coordinator missed its deadline (golang/go#75804); no input found"
			continue
		fi
		cat "$log"
		exit 1
	fi
done
echo "fuzz: ${#targets[@]} targets, $fuzztime each, nothing found"
