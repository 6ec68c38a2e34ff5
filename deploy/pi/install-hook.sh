#!/bin/sh
# Installs weir-firstboot.service from the boot partition into the root file
# system and enables it. Called once, as root, by the first-boot mechanism of
# Raspberry Pi Imager's customisation: firstrun.sh (Bookworm) or cloud-init's
# runcmd (Trixie and later; --now starts it at once, the system is up by then).
# WEIR_ROOT installs into another root file system (an image, a test).
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=${WEIR_ROOT:-}
install -D -m 0755 "$here/weir-firstboot.sh" "$root/usr/local/sbin/weir-firstboot"
install -D -m 0644 "$here/weir-firstboot.service" "$root/etc/systemd/system/weir-firstboot.service"
if [ -n "$root" ]; then
	systemctl --root="$root" enable weir-firstboot.service
else
	systemctl enable weir-firstboot.service
	if [ "${1:-}" = "--now" ] && [ -d /run/systemd/system ]; then
		systemctl start --no-block weir-firstboot.service
	fi
fi
