#!/bin/sh
# Downloads the npm package idn-area-data at the version below into a
# temporary directory and rebuilds regions.tsv from it (run from region/ by
# go generate). To update: change VERSION, run `go generate ./region`, read
# the diff of regions.tsv, update NOTICE if the licences changed, and run
# the region tests.
set -eu
VERSION=4.0.1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "idn-area-data@$VERSION" >/dev/null && tar xzf idn-area-data-"$VERSION".tgz)
go run ./gen -from "$tmp/package" -out regions.tsv
