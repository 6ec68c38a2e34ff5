# Installs Debian packages the tests need when their binary is missing.
# Usage: ensure_debian_packages pkg:/path/to/binary ...
ensure_debian_packages() {
  local missing=() spec
  for spec in "$@"; do
    [[ -x "${spec#*:}" ]] || missing+=("${spec%%:*}")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "weir tests: installing Debian packages: ${missing[*]}" >&2
  local sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
