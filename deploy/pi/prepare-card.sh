#!/usr/bin/env bash
# Prepares a card that Raspberry Pi Imager has just written, before its first
# boot: copies weir's package, configuration and first-boot hook onto the boot
# partition, and hooks the installer into Imager's own first-boot customisation
# (firstrun.sh on Bookworm, cloud-init user-data on Trixie and later).
#
# Usage: prepare-card.sh BOOT_PARTITION weir_*.deb... [--config weir.yaml] [--env weir.env]
#   BOOT_PARTITION is where the card's FAT partition ("bootfs") is mounted, e.g.
#   /media/$USER/bootfs (Linux) or /Volumes/bootfs (macOS).
set -euo pipefail

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[[ $# -ge 2 ]] || usage
boot=$1; shift
debs=() config='' env_file=''
while (($#)); do
  case $1 in
    --config) config=${2:?--config needs a file}; shift 2 ;;
    --env) env_file=${2:?--env needs a file}; shift 2 ;;
    *.deb) debs+=("$1"); shift ;;
    *) usage ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
[[ -f $boot/cmdline.txt ]] || { echo "prepare-card: $boot has no cmdline.txt: is it the card's boot partition?" >&2; exit 1; }
((${#debs[@]})) || { echo "prepare-card: give at least one weir_*.deb (arm64 for 64-bit Raspberry Pi OS, armhf for 32-bit)" >&2; exit 1; }

# The line that installs the hook; it finds the partition wherever the OS mounted it.
# shellcheck disable=SC2016 # expanded on the board, not here
hook='for d in /boot/firmware /boot; do if [ -f "$d/weir/firstboot/install-hook.sh" ]; then sh "$d/weir/firstboot/install-hook.sh" ARGS; break; fi; done # weir-firstboot'

# Hook first: a card Imager did not customise is refused before anything is copied.
if [[ -f $boot/firstrun.sh ]]; then
  if ! grep -q 'weir-firstboot' "$boot/firstrun.sh"; then
    # before firstrun.sh deletes itself and removes systemd.run from cmdline.txt
    awk -v hook="${hook/ ARGS/}" '
      !done && (/^rm -f .*firstrun\.sh/ || /^exit 0/) { print hook; done = 1 }
      { print }
      END { if (!done) print hook }' "$boot/firstrun.sh" >"$boot/firstrun.sh.weir" && mv "$boot/firstrun.sh.weir" "$boot/firstrun.sh"
  fi
  echo "prepare-card: hooked into firstrun.sh (Imager customisation, Bookworm)"
elif [[ -f $boot/user-data ]]; then
  if ! grep -q 'weir-firstboot' "$boot/user-data"; then
    item="[sh, -c, '${hook/ ARGS/ --now}']"
    if grep -q '^runcmd:' "$boot/user-data"; then
      # a new first item, indented like the list that follows
      awk -v item="$item" '
        inserted == 0 && prev_runcmd { match($0, /^[ \t]*/); print substr($0, 1, RLENGTH) "- " item; inserted = 1 }
        { print; prev_runcmd = ($0 ~ /^runcmd:[ \t]*$/) }
        END { if (prev_runcmd && !inserted) print "  - " item }' "$boot/user-data" >"$boot/user-data.weir" && mv "$boot/user-data.weir" "$boot/user-data"
    else
      printf '\nruncmd:\n  - %s\n' "$item" >>"$boot/user-data"
    fi
  fi
  echo "prepare-card: hooked into cloud-init user-data (Imager customisation, Trixie and later)"
else
  echo "prepare-card: this card has neither firstrun.sh nor user-data: write it again with Raspberry Pi Imager" >&2
  echo "  and its OS customisation turned on (set at least the hostname), or install weir over SSH." >&2
  exit 1
fi

mkdir -p "$boot/weir/firstboot"
cp "$here/weir-firstboot.sh" "$here/weir-firstboot.service" "$here/install-hook.sh" "$boot/weir/firstboot/"
for deb in "${debs[@]}"; do cp "$deb" "$boot/"; done
if [[ -n $config ]]; then cp "$config" "$boot/weir.yaml"; fi
if [[ -n $env_file ]]; then cp "$env_file" "$boot/weir.env"; fi
echo "prepare-card: copied $(printf '%s ' "${debs[@]##*/}")${config:+weir.yaml }${env_file:+weir.env }and the first-boot hook to $boot"
