#!/usr/bin/env bash
# test-setup.sh installs what the unit tests need beyond Go: the PostgreSQL
# server binaries (Debian package postgresql), which internal/pgtest runs
# as a throwaway server per test package. Installing needs root (CI runs as
# root); a developer without them is told what to install.
set -euo pipefail
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null; then
	exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "test-setup: installing postgresql"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq postgresql >/dev/null
	# The package starts a cluster of its own; the tests start their own.
	command -v service >/dev/null && service postgresql stop >/dev/null 2>&1 || true
	exit 0
fi
echo "test-setup: the tests need PostgreSQL's server binaries: sudo apt-get install postgresql" >&2
exit 1
