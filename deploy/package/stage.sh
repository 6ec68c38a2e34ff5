#!/usr/bin/env bash
# Lays out weir's files for one architecture under ROOT, as they are installed:
# the Debian package (build.sh) and the container image (deploy/docker/Dockerfile)
# both use it, so both carry the same bundle, paths and default config.
#
# Usage: stage.sh ARCH APP_DIR MANIFEST_JSON ROOT NODE_BIN
#   ARCH      amd64, arm64 or armhf (picks the prebuilt native addons)
#   APP_DIR   the output of bundle.mjs
#   NODE_BIN  the node that /usr/bin/weir runs (/usr/bin/node for Debian's nodejs)
set -euo pipefail
[[ $# -eq 5 ]] || { echo "usage: $0 ARCH APP_DIR MANIFEST_JSON ROOT NODE_BIN" >&2; exit 2; }
arch=$1 app=$2 manifest=$3 root=$4 node_bin=$5
src="$(cd "$(dirname "$0")/../.." && pwd)"
: "${WEIR_MAINTAINER:=weir maintainers <maintainers@weir.dev>}"
: "${WEIR_HOMEPAGE:=https://weir.dev}"
# the years of the first and the last commit (the build date without git)
last_year=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y)
first_year=$(git -C "$src" log --reverse --format=%cd --date=format:%Y 2>/dev/null | head -n 1 || true)
years=${first_year:-$last_year}
[[ $years == "$last_year" ]] || years="$years-$last_year"

lib="$root/usr/lib/weir"
doc="$root/usr/share/doc/weir"
install -d "$lib" "$root/usr/bin" "$root/etc/weir/rules" "$root/etc/weir/profiles" \
  "$root/usr/lib/systemd/system" "$root/usr/share/man/man1" "$doc"

cp -R "$app/." "$lib/"
node "$src/deploy/package/runtime-modules.mjs" "$arch" "$lib" "$manifest"

# The entry point. exec keeps node as the process systemd (or docker) signals.
# No V8 flags, as bin/weir.js: see the note there.
cat >"$root/usr/bin/weir" <<EOF
#!/bin/sh
exec $node_bin /usr/lib/weir/weir.js "\$@"
EOF

install -m 0644 "$src/deploy/package/weir.yaml" "$root/etc/weir/weir.yaml"
install -m 0644 "$src/deploy/debian/weir.service" "$root/usr/lib/systemd/system/weir.service"
gzip -9n <"$src/deploy/debian/weir.1" >"$root/usr/share/man/man1/weir.1.gz"
install -m 0644 "$src/README.md" "$doc/README.md"
install -m 0644 "$src/docs/deploy.md" "$doc/deploy.md"
gzip -9n <"$src/CHANGELOG.md" >"$doc/changelog.gz"
# The device profile library, to copy into /etc/weir/profiles/ (the bundle has no devices/ folder).
if compgen -G "$src/devices/profiles/library/*.yaml" >/dev/null; then
  install -d "$root/usr/share/weir/profiles"
  install -m 0644 "$src"/devices/profiles/library/*.yaml "$root/usr/share/weir/profiles/"
fi

# DEP-5 copyright: weir's own licence, then every npm package in the bundle and node_modules.
node - "$manifest" "$src/deploy/debian/copyright.in" "$WEIR_MAINTAINER" "$WEIR_HOMEPAGE" "$years" >"$doc/copyright" <<'EOF'
const { readFileSync } = require('node:fs');
const [manifestFile, template, maintainer, homepage, years] = process.argv.slice(2);
const m = JSON.parse(readFileSync(manifestFile, 'utf8'));
const seen = new Map();
for (const p of [...m.bundled, ...(m.runtime ?? [])]) seen.set(`${p.name}@${p.version}`, p);
const all = [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
const licences = [...new Set(all.map((p) => String(p.license).replace(/[()]/g, '').replace(/ OR /g, ' or ').replace(/ AND /g, ' and ')))].sort();
process.stdout.write(
  readFileSync(template, 'utf8')
    .replace('@MAINTAINER@', maintainer)
    .replace('@HOMEPAGE@', homepage)
    .replace('@YEARS@', years)
    .replace('@LICENSES@', licences.join(' and '))
    .replace('@PACKAGES@', all.map((p) => ` ${p.name} ${p.version} (${p.license})`).join('\n')),
);
EOF

# Modes as dpkg should record them, whatever the umask or checkout gave.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
chmod 0755 "$root/usr/bin/weir"
