#!/usr/bin/env bash
# The documented check that the API baseline can fail: in a throwaway copy of HEAD, remove a
# method from pagepool.api.PagePool (an interface bundles implement and call) and build the API;
# the bnd baseline against the released API (cnf/releases) must refuse it as a MAJOR change.
# Usage: cnf/baseline-check.sh   (exit 0 when the baseline refused the change, 1 when it did not)
set -euo pipefail
cd "$(dirname "$0")/.."
source cnf/jdk.sh
tmp=$(mktemp -d)
trap 'git worktree remove --force "$tmp" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git worktree add -q -f "$tmp" HEAD
sed -i '/^    void handOverNapi();$/d' "$tmp/pagepool.api/src/main/java/pagepool/api/PagePool.java"
if out=$(cd "$tmp" && mvn -B -o -q verify -DskipTests -pl pagepool.api 2>&1); then
    echo "baseline-check: an incompatible API change passed the build (expected: refused)" >&2
    exit 1
fi
if grep -q 'REMOVED *METHOD *handOverNapi()' <<<"$out"; then
    echo "baseline-check: refused, as it should be:"
    grep -E 'PACKAGE *MAJOR|REMOVED' <<<"$out" | sed 's/^\[ERROR\] */  /'
    exit 0
fi
echo "baseline-check: the build failed, but not on the baseline:" >&2
tail -20 <<<"$out" >&2
exit 1
