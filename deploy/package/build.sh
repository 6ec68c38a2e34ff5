#!/usr/bin/env bash
# `npm run package`: Debian packages of weir for amd64, arm64 and armhf in
# deploy/package/out/. The application is bundled once (esbuild); each package
# adds the prebuilt native addons of its architecture, so nothing is compiled,
# here or on the board. See docs/deploy.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

usage() {
  cat <<'EOF'
usage: deploy/package/build.sh [--arch ARCH]... [--node-runtime ARCH=DIR|TARBALL]... [--out DIR] [--compress xz|gzip|zstd|none]

  --arch ARCH            amd64, arm64 or armhf; repeatable (default: all three)
  --node-runtime A=PATH  ship Node.js inside the ARCH package (/usr/lib/weir/node) instead of
                         depending on Debian's nodejs: PATH is an official Node.js build for that
                         architecture, extracted (a directory with bin/node) or as .tar.xz/.tar.gz
  --out DIR              where the .deb files go (default: deploy/package/out)
  --compress TYPE        dpkg-deb compression (default: xz)

environment: WEIR_DEB_REVISION (default 1), WEIR_MAINTAINER, WEIR_HOMEPAGE, SOURCE_DATE_EPOCH
EOF
}

arches=()
declare -A runtimes=()
out=deploy/package/out
compress=xz
while (($#)); do
  case $1 in
    --arch) arches+=("${2:?--arch needs a value}"); shift 2 ;;
    --node-runtime) runtimes[${2%%=*}]=${2#*=}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --compress) compress=${2:?--compress needs a value}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
((${#arches[@]})) || arches=(amd64 arm64 armhf)
for arch in "${arches[@]}" "${!runtimes[@]}"; do
  case $arch in amd64 | arm64 | armhf) ;; *) echo "weir: unknown architecture '$arch' (amd64, arm64, armhf)" >&2; exit 2 ;; esac
done
for tool in dpkg-deb node gzip file readelf; do
  command -v "$tool" >/dev/null || { echo "weir: $tool is needed to build the packages (apt-get install dpkg file gzip binutils)" >&2; exit 1; }
done

if [[ ! -d node_modules/esbuild || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "weir: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >&2
fi

export WEIR_MAINTAINER="${WEIR_MAINTAINER:-weir maintainers <maintainers@weir.dev>}"
export WEIR_HOMEPAGE="${WEIR_HOMEPAGE:-https://weir.dev}"
upstream=$(node -p "require('./package.json').version")
# semver 1.2.0-rc.1 sorts before 1.2.0; in Debian that takes a tilde
version="${upstream/-/\~}-${WEIR_DEB_REVISION:-1}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"

work=$(mktemp -d "${TMPDIR:-/tmp}/weir-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

echo "weir: bundling $upstream (esbuild)" >&2
node deploy/package/bundle.mjs "$work/app" "$work/manifest.json"

# The Debian packages the given ELF files need, with the versions their symbols ask for
# (dpkg-shlibdeps would do this from a source package; weir has none).
elf_depends() {
  local needed versions glibc glibcxx gcc lib deps=()
  needed=$(for f; do readelf -d -W "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; done | sort -u)
  versions=$(for f; do readelf --dyn-syms -W "$f" | grep -o '@GLIBC_[0-9.]*\|@GLIBCXX_[0-9.]*' || true; done | tr -d @ | sort -Vu)
  glibc=$(grep '^GLIBC_' <<<"$versions" | sed 's/GLIBC_//' | sort -V | tail -n 1)
  glibcxx=$(grep '^GLIBCXX_' <<<"$versions" | sed 's/GLIBCXX_3\.4\.\{0,1\}//' | sort -n | tail -n 1)
  # GLIBCXX_3.4.N first shipped with this GCC's libstdc++
  case ${glibcxx:-0} in 0 | [0-9] | 1[0-9] | 20 | 21) gcc=5 ;; 22) gcc=6 ;; 23) gcc=7 ;; 24 | 25) gcc=8 ;; 26 | 27) gcc=9 ;; 28) gcc=10 ;; 29) gcc=11 ;; 30) gcc=12 ;; 31) gcc=13 ;; *) gcc=14 ;; esac
  for lib in $needed; do
    case $lib in
      libc.so.6 | libm.so.6 | libpthread.so.0 | libdl.so.2 | librt.so.1 | ld-linux*) deps+=("libc6 (>= ${glibc:-2.17})") ;;
      libstdc++.so.6) deps+=("libstdc++6 (>= $gcc)") ;;
      libgcc_s.so.1) deps+=("libgcc-s1") ;;
      *) echo "weir: a shipped binary needs $lib, which no dependency provides" >&2; return 1 ;;
    esac
  done
  printf '%s\n' "${deps[@]}" | sort -u | paste -sd, - | sed 's/,/, /g'
}

# What `file` prints for an ELF object of each architecture.
declare -A elf=([amd64]='ELF 64-bit LSB .*x86-64' [arm64]='ELF 64-bit LSB .*ARM aarch64' [armhf]='ELF 32-bit LSB .*ARM, EABI5')

for arch in "${arches[@]}"; do
  root="$work/root-$arch"
  node_bin=/usr/bin/node
  # 20.11: import.meta.dirname (firmware-sim's profile library lookup)
  depends='nodejs (>= 20.11), adduser'
  runtime=${runtimes[$arch]:-}
  echo "weir: staging $arch${runtime:+ with the Node.js runtime from $runtime}" >&2
  if [[ -n $runtime ]]; then node_bin=/usr/lib/weir/node/bin/node; fi
  deploy/package/stage.sh "$arch" "$work/app" "$work/manifest.json" "$root" "$node_bin"

  if [[ -n $runtime ]]; then
    if [[ -f $runtime ]]; then
      mkdir -p "$work/node-$arch" && tar -xf "$runtime" -C "$work/node-$arch" --strip-components=1
      runtime="$work/node-$arch"
    fi
    [[ -x $runtime/bin/node ]] || { echo "weir: $runtime/bin/node is missing" >&2; exit 1; }
    install -D -m 0755 "$runtime/bin/node" "$root/usr/lib/weir/node/bin/node"
    for f in LICENSE README.md CHANGELOG.md; do [[ -f $runtime/$f ]] && install -m 0644 "$runtime/$f" "$root/usr/lib/weir/node/$f"; done
    depends='adduser'
  fi

  # every binary must be for this architecture: a stray host build would load on no board
  binaries=()
  while IFS= read -r -d '' bin; do
    if ! file -b "$bin" | grep -Eq "${elf[$arch]}"; then
      echo "weir: ${bin#"$root"} is not a $arch binary: $(file -b "$bin")" >&2
      exit 1
    fi
    binaries+=("$bin")
  done < <(find "$root" -type f \( -name '*.node' -o -path '*/node/bin/node' \) -print0)
  if ((${#binaries[@]})); then depends="$depends, $(elf_depends "${binaries[@]}")"; fi

  install -d "$root/DEBIAN"
  for script in postinst prerm postrm; do install -m 0755 "deploy/debian/$script" "$root/DEBIAN/$script"; done
  install -D -m 0644 deploy/debian/lintian-overrides "$root/usr/share/lintian/overrides/weir"
  echo /etc/weir/weir.yaml >"$root/DEBIAN/conffiles"
  chmod 0644 "$root/DEBIAN/conffiles"
  date=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
  gzip -9n >"$root/usr/share/doc/weir/changelog.Debian.gz" <<EOF
weir ($version) unstable; urgency=medium

  * weir $upstream, packaged by deploy/package/build.sh.
    Upstream changes: /usr/share/doc/weir/changelog.gz.

 -- $WEIR_MAINTAINER  $date
EOF
  chmod 0644 "$root/usr/share/doc/weir/changelog.Debian.gz"
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum >DEBIAN/md5sums)
  chmod 0644 "$root/DEBIAN/md5sums"
  installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  cat >"$root/DEBIAN/control" <<EOF
Package: weir
Version: $version
Architecture: $arch
Maintainer: $WEIR_MAINTAINER
Installed-Size: $installed_size
Depends: $depends
Recommends: gpiod
Suggests: mosquitto-clients
Section: net
Priority: optional
Homepage: $WEIR_HOMEPAGE
Description: IoT edge gateway: MQTT broker, rules and store-and-forward
 weir runs on Raspberry-Pi-class boards between sensors and the cloud. It
 embeds an MQTT broker, ingests MQTT, serial and GPIO devices into normalized
 readings, runs streaming rules on them, and keeps every record in an on-disk
 buffer until an upstream sink (Kafka, InfluxDB, an MQTT bridge) accepted it.
 .
 The package runs weir as the hardened systemd service weir.service, as the
 weir user, configured by /etc/weir/weir.yaml, with its data in /var/lib/weir.
EOF
  chmod 0644 "$root/DEBIAN/control"

  deb="$out/weir_${version}_${arch}.deb"
  dpkg-deb --root-owner-group -Z"$compress" --build "$root" "$deb" >/dev/null
  echo "weir: $deb ($(du -k "$deb" | cut -f1) KiB, installed $installed_size KiB)" >&2
done
