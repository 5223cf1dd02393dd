#!/bin/sh
# Proves an installed policy-host stands alone: no Swift toolchain library in `ldd`, and an analysis of the
# bundled stack with the toolchain's library directory hidden (bind-mounted over by an empty directory in a
# private mount namespace; needs root, as CI runs). Usage: scripts/check-install.sh PREFIX
set -eu
prefix=$1
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$prefix/bin/policy-host"

echo "check-install: ldd $bin" >&2
ldd "$bin" >&2
if ldd "$bin" | grep -E 'libswift|libFoundation|libdispatch|libBlocksRuntime'; then
    echo "error: the installed binary needs the Swift toolchain's libraries" >&2
    exit 1
fi
[ -L "$prefix/bin/pulumi-analyzer-policy-python" ] || { echo "error: no pulumi-analyzer-policy-python link" >&2; exit 1; }
for f in share/bash-completion/completions/policy-host share/zsh/site-functions/_policy-host \
         share/fish/vendor_completions.d/policy-host.fish; do
    [ -s "$prefix/$f" ] || { echo "error: no completion script $prefix/$f" >&2; exit 1; }
done

# A copy of the aws-basics pack with its own venv, outside the checkout.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/Fixtures/packs/aws-basics" "$work/pack"
rm -rf "$work/pack/venv"
"$bin" install -q "$work/pack" >&2

toolchain_lib=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")/lib/swift/linux
echo "check-install: analysing with $toolchain_lib hidden" >&2
mkdir "$work/empty"
analyze="'$bin' analyze -q '$root/Fixtures/stacks/aws-webshop.json' --policy-pack '$work/pack' --format json > '$work/report.json'"
set +e
if unshare -m true 2>/dev/null; then
    unshare -m sh -c "mount --bind '$work/empty' '$toolchain_lib' && [ -z \"\$(ls -A '$toolchain_lib')\" ] && $analyze"
    status=$?
else
    # A container without CAP_SYS_ADMIN: no private mounts. The loader then finds nothing of the toolchain
    # only if nothing points it there: no RUNPATH/RPATH into it (checked) and no libswift in ldd (above).
    echo "check-install: unshare -m is not permitted here; checking RUNPATH instead of hiding $toolchain_lib" >&2
    if readelf -d "$bin" | grep -E 'RUNPATH|RPATH' | grep -F "$(dirname "$toolchain_lib")"; then
        echo "error: the installed binary's RUNPATH points into the toolchain" >&2
        exit 1
    fi
    sh -c "$analyze"
    status=$?
fi
set -e
# 1: mandatory violations, as the bundled stack has.
if [ "$status" -ne 1 ]; then
    echo "error: the installed binary exited $status with the toolchain hidden" >&2
    exit 1
fi
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['summary']['mandatory'] > 0, d['summary']" "$work/report.json"
echo "check-install: ok ($(wc -c < "$bin") bytes)" >&2
