#!/usr/bin/env bash
# test.sh is svcgen's test command: it makes sure PostgreSQL and Redis are up
# (scripts/services.sh), then runs go vet and the whole test suite against
# them. Extra arguments go to `go test`, e.g.
#
#	./scripts/test.sh -run TestGolden -v
#	./scripts/test.sh -short ./generator/...
#
# SVCGEN_TEST_PG_URL and SVCGEN_TEST_REDIS_URL point the tests at other
# servers; by default they use the local ones on 127.0.0.1.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v go >/dev/null 2>&1; then
	if [[ -x /usr/local/go/bin/go ]]; then
		export PATH="/usr/local/go/bin:$PATH"
	else
		echo "test.sh: 'go' is not on PATH. Install Go (the version in go.mod, from https://go.dev/dl/) and add its bin folder to PATH, e.g. export PATH=/usr/local/go/bin:\$PATH" >&2
		exit 127
	fi
fi

"$root/scripts/services.sh"

export SVCGEN_TEST_PG_URL="${SVCGEN_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
export SVCGEN_TEST_REDIS_URL="${SVCGEN_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"

# Vet and test every package unless the arguments name some (./x/...,
# github.com/svcgen/svcgen/...); those are then vetted and tested alone.
named=()
for arg in "$@"; do
	case $arg in ./* | ../* | github.com/*) named+=("$arg") ;; esac
done
if ((${#named[@]} == 0)); then
	go vet ./...
	# The platform packages (platform/) reach each service with the files
	# of the features it has (//go:build no_<feature>, see platform/embed.go):
	# vet, lint and test them with every optional feature off as well, and
	# lint them with fieldalignment as the services' `make lint` does.
	without="$(grep -rh '^//go:build' platform --include='*.go' | grep -oE 'no_[a-z0-9]+' | sort -u | paste -sd, -)"
	tools="$(mktemp -d)"
	trap 'rm -rf "$tools"' EXIT
	go build -o "$tools/fieldalignment" ./internal/tools/fieldalignment
	# ogen's output in apierr/ogentest is no svcgen code: its structs are ogen's.
	mapfile -t lint < <(go list ./platform/... | grep -v '/ogentest$')
	go vet -vettool="$tools/fieldalignment" "${lint[@]}"
	if [[ -n $without ]]; then
		go vet -tags "$without" ./platform/...
		go vet -tags "$without" -vettool="$tools/fieldalignment" "${lint[@]}"
		go test -count=1 -timeout 20m -tags "$without" "$@" ./platform/...
	fi
	go test -count=1 -timeout 80m "$@" ./...
else
	go vet "${named[@]}"
	go test -count=1 -timeout 80m "$@"
fi
