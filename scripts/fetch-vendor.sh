#!/usr/bin/env bash
# Re-fetch the pinned htmx release from the npm registry and print its SRI hash.
set -euo pipefail
version=2.0.11
expected='sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA=='
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
got=$(npm pack "htmx.org@$version" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["integrity"])')
[ "$got" = "$expected" ] || { echo "integrity mismatch: $got" >&2; exit 1; }
tar xzf "htmx.org-$version.tgz"
cp package/dist/htmx.min.js "$here/static/vendor/htmx.min.js"
echo "sha384-$(openssl dgst -sha384 -binary package/dist/htmx.min.js | base64 -w0)"
