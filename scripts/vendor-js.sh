#!/usr/bin/env bash
# Refresh the JavaScript libraries the offline viewer inlines (src/imr_graph/data/vendor/).
#
# The viewer (src/imr_graph/views/viewer.py) writes one self-contained HTML file, so the libraries
# are not fetched at run time: they are copied here from the npm registry, pinned to exact
# versions, with each package's licence, and packaged into the wheel. Run this only to move
# to new versions (edit the PACKAGES list), then check the viewer with
# `pytest tests/test_browser.py` and commit the changed files.
#
# Needs npm (the ordinary client, registry only). Writes:
#   vendor/<file>.js        the browser build of each package (UMD: it sets a global)
#   vendor/<package>.LICENSE
#   vendor/MANIFEST.tsv     package, version, file, the sha256 of the copied file (the tests
#                           check it), and the tarball's sha512 integrity as npm reports it
set -euo pipefail

# package@version  file-in-the-package  (load order: a package before those that use it)
PACKAGES=(
    "cytoscape@3.35.0 dist/cytoscape.min.js"
    "layout-base@2.0.1 layout-base.js"
    "cose-base@2.2.0 cose-base.js"
    "cytoscape-fcose@2.2.0 cytoscape-fcose.js"
)

here="$(cd "$(dirname "$0")/.." && pwd)"
dest="$here/src/imr_graph/data/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$dest"
printf 'package\tversion\tfile\tsha256\tintegrity\n' > "$work/MANIFEST.tsv"
for entry in "${PACKAGES[@]}"; do
    spec="${entry%% *}"
    file="${entry#* }"
    name="${spec%@*}"
    version="${spec##*@}"
    (cd "$work" && npm pack --silent "$spec" > /dev/null)
    tarball="$work/${name}-${version}.tgz"
    mkdir -p "$work/$name"
    tar -xzf "$tarball" -C "$work/$name"
    pkg="$work/$name/package"
    base="$(basename "$file")"
    cp "$pkg/$file" "$dest/$base"
    cp "$pkg/LICENSE" "$dest/$name.LICENSE"
    integrity="$(npm view "$spec" dist.integrity)"
    sha256="$(sha256sum "$dest/$base" | cut -d' ' -f1)"
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$version" "$base" "$sha256" "$integrity" \
        >> "$work/MANIFEST.tsv"
done
cp "$work/MANIFEST.tsv" "$dest/MANIFEST.tsv"
echo "vendored into $dest:" >&2
column -t -s $'\t' "$dest/MANIFEST.tsv" >&2
