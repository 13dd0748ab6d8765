#!/usr/bin/env bash
# Measures whole moonchat processes against three yardsticks (bench/minimal, bench/cobraglamour,
# bench/requireddeps):
# CPU user+sys of piped chat and of start-up, interleaved rounds, medians. Nothing here is shipped.
#   bash bench/wholeprocess.sh [-runs N] [-kb N] [-chunk N] [-model ID]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
# As the release is built (.goreleaser.yaml): no cgo, so every binary links statically.
export CGO_ENABLED=0
go build -trimpath -ldflags "-s -w" -o "$bin/moonchat" .
go build -trimpath -ldflags "-s -w" -o "$bin/minimal" ./bench/minimal
go build -trimpath -ldflags "-s -w" -o "$bin/cobraglamour" ./bench/cobraglamour
go build -trimpath -ldflags "-s -w" -o "$bin/requireddeps" ./bench/requireddeps
go run ./bench/wholeprocess -bin "$bin" "$@"
