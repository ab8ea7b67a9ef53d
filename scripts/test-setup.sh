#!/usr/bin/env bash
# test-setup.sh installs what the unit tests need beyond Go: from Debian's
# packages, PostgreSQL's server binaries (internal/pgtest runs a throwaway
# server per test package) and Chromium (the console's browser tests drive
# it headless); from npm, Azurite (internal/aztest runs Microsoft's Azure
# Storage emulator) into ~/.cache/warden-test/azurite. Installing Debian
# packages needs root (CI runs as root); a developer without them is told
# what to install.
set -euo pipefail
azurite=${XDG_CACHE_HOME:-$HOME/.cache}/warden-test/azurite
if [ ! -x "$azurite/node_modules/.bin/azurite-blob" ]; then
	if ! command -v npm >/dev/null; then
		echo "test-setup: the tests need Node.js and npm for Azurite (sudo apt-get install nodejs npm)" >&2
		exit 1
	fi
	echo "test-setup: installing azurite into $azurite"
	mkdir -p "$azurite"
	npm install --prefix "$azurite" --silent --no-audit --no-fund azurite@3 >/dev/null
fi
missing=()
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && ! command -v initdb >/dev/null; then
	missing+=(postgresql)
fi
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
	missing+=(chromium)
fi
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "test-setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
	# The postgresql package starts a cluster of its own; the tests start
	# their own servers.
	if command -v service >/dev/null; then service postgresql stop >/dev/null 2>&1 || true; fi
	exit 0
fi
echo "test-setup: the tests need Debian packages: sudo apt-get install ${missing[*]}" >&2
exit 1
