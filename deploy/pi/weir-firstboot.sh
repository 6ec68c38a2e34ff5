#!/bin/bash
# weir's first-boot installer for a freshly flashed Raspberry Pi OS card, run by
# weir-firstboot.service. It installs weir from the boot partition, puts the
# configuration from the card in place before weir ever starts, and disables
# itself once weir is installed with a valid configuration. Until then it stays
# enabled and tries again at every boot: fix the card, boot again.
#
# On the boot partition (/boot/firmware on Bookworm and later, /boot before):
#   weir_<version>_<arch>.deb   the package for this board (arm64 or armhf)
#   weir.yaml                   optional: becomes /etc/weir/weir.yaml
#   weir.env                    optional: becomes /etc/default/weir (mode 0600), secrets
#                               for ${VAR} references in weir.yaml; deleted from the card
#   weir/profiles/*.yaml        optional: device profiles for /etc/weir/profiles/
#   weir/rules/*.yaml           optional: rule files for /etc/weir/rules/
#   weir/debs/*.deb             optional: installed in the same run (e.g. nodejs)
# Everything it does is logged to the journal and to weir-firstboot.log on the
# boot partition, which any computer can read from the card.
set -uo pipefail

boot=${WEIR_BOOT_DIR:-}
if [[ -z $boot ]]; then
  for dir in /boot/firmware /boot; do
    if compgen -G "$dir/weir_*.deb" >/dev/null || [[ -f $dir/weir.yaml ]]; then boot=$dir; break; fi
  done
fi
log_file=${boot:+$boot/weir-firstboot.log}

say() {
  echo "weir-firstboot: $*"
  if [[ -n $log_file ]]; then echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >>"$log_file" 2>/dev/null || true; fi
}

systemd_running() { [[ -d /run/systemd/system ]]; }

finish() {
  say "done: weir $(dpkg-query -W -f='${Version}' weir 2>/dev/null) is installed; disabling weir-firstboot.service"
  [[ -f $boot/weir.yaml ]] && mv -f "$boot/weir.yaml" "$boot/weir.yaml.applied"
  systemctl disable weir-firstboot.service >/dev/null 2>&1 || true
  exit 0
}

installed_version() { dpkg-query -W -f='${db:Status-Status} ${Version}' weir 2>/dev/null | sed -n 's/^installed //p'; }

if [[ -z $boot ]]; then
  if [[ -n $(installed_version) ]]; then
    systemctl disable weir-firstboot.service >/dev/null 2>&1 || true
    exit 0
  fi
  say "no weir_*.deb on /boot/firmware or /boot; nothing to install"
  exit 1
fi

arch=$(dpkg --print-architecture)
say "starting on $(uname -n) ($arch), boot partition $boot"

# 1. Configuration first, so weir never runs on the package's default: for a file
#    already in /etc, dpkg --force-confold keeps it instead of asking.
config_changed=no
if [[ -f $boot/weir.yaml ]]; then
  install -D -m 0644 "$boot/weir.yaml" /etc/weir/weir.yaml && config_changed=yes
  say "copied $boot/weir.yaml to /etc/weir/weir.yaml"
fi
if [[ -f $boot/weir.env ]]; then
  install -D -m 0600 "$boot/weir.env" /etc/default/weir && rm -f "$boot/weir.env" && config_changed=yes
  say "moved $boot/weir.env to /etc/default/weir (mode 0600)"
fi
for kind in profiles rules; do
  if compgen -G "$boot/weir/$kind/*.yaml" >/dev/null; then
    install -d /etc/weir/$kind && install -m 0644 "$boot/weir/$kind/"*.yaml /etc/weir/$kind/ && config_changed=yes
    say "copied $boot/weir/$kind/*.yaml to /etc/weir/$kind/"
  fi
done

# 2. The package, with whatever extra packages the card carries, in one apt run so
#    their order is resolved. Offline first: it needs nothing beyond the card.
mapfile -t candidates < <(compgen -G "$boot/weir_*_${arch}.deb" | sort -V)
deb=''
if ((${#candidates[@]})); then deb=${candidates[-1]}; fi
current=$(installed_version)
reinstalled=no
if [[ -z $deb ]]; then
  if [[ -z $current ]]; then
    say "ERROR: no weir_*_${arch}.deb on $boot (found: $(cd "$boot" && echo weir_*.deb)). Copy the $arch package to the card."
    exit 1
  fi
elif [[ -z $current ]] || dpkg --compare-versions "$(dpkg-deb -f "$deb" Version)" gt "$current"; then
  extra=()
  if compgen -G "$boot/weir/debs/*.deb" >/dev/null; then extra=("$boot"/weir/debs/*.deb); fi
  say "installing $(basename "$deb") ${extra[*]:+and ${#extra[@]} package(s) from weir/debs/}"
  apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 \
      -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef "${extra[@]}" "$deb" >>"$log_file" 2>&1
  }
  # Without `apt-get update` apt downloads nothing when every dependency is already
  # installed or on the card, and fails cleanly (installing nothing) when one is not.
  if ! apt_install; then
    say "offline installation failed (a dependency is missing from the card); trying the network"
    if ! { apt-get -o DPkg::Lock::Timeout=300 update >>"$log_file" 2>&1 && apt_install; }; then
      say "ERROR: weir could not be installed: see the apt output above. weir needs nodejs (>= 20.11):"
      say "  put a nodejs .deb into weir/debs/ on the card, or use a package built with --node-runtime (docs/deploy.md)"
      exit 1
    fi
  fi
  reinstalled=yes
fi

# 3. A configuration weir refuses keeps this hook enabled: fix the card and boot again.
if ! check=$(/usr/bin/weir check --config /etc/weir/weir.yaml 2>&1); then
  say "ERROR: /etc/weir/weir.yaml is not valid; correct weir.yaml on the card and boot again:"
  while IFS= read -r line; do say "  $line"; done <<<"$check"
  exit 1
fi
say "$check"

# 4. postinst enabled and started weir (unless a policy-rc.d said no); a configuration
#    applied to a weir that was already installed needs a restart.
systemctl enable weir.service >/dev/null 2>&1 || true
if systemd_running; then
  if ! systemctl is-active --quiet weir.service; then
    systemctl start --no-block weir.service && say "starting weir"
  elif [[ $reinstalled == no && $config_changed == yes ]]; then
    systemctl restart --no-block weir.service && say "restarting weir with the new configuration"
  fi
fi
finish
