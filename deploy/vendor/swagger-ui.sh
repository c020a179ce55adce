#!/usr/bin/env bash
# Refreshes the Swagger UI that order-api serves at /docs (crates/order-api/static/swagger-ui/)
# from the npm registry at the pinned version. The files are committed: the build needs no network
# and the page loads nothing from a CDN. Change VERSION, run this, run `just test`, commit.
set -euo pipefail
VERSION=5.36.0

cd "$(dirname "$0")/../.."
dest=crates/order-api/static/swagger-ui
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "==> fetching swagger-ui-dist@$VERSION from the npm registry"
(cd "$tmp" && npm pack --silent "swagger-ui-dist@$VERSION" >/dev/null \
    && tar xzf "swagger-ui-dist-$VERSION.tgz")

mkdir -p "$dest"
for file in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE; do
    # Source maps are not shipped, so their references go too.
    grep -v 'sourceMappingURL=' "$tmp/package/$file" > "$dest/$file" || {
        echo "error: $file is missing from swagger-ui-dist@$VERSION; check the package's file list" >&2
        exit 1
    }
done
echo "$VERSION" > "$dest/VERSION"
(cd "$dest" && sha256sum swagger-ui-bundle.js swagger-ui.css > SHA256SUMS)
echo "==> vendored swagger-ui-dist@$VERSION into $dest (checksums in SHA256SUMS)"
