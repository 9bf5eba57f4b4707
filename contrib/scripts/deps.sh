#!/usr/bin/env bash
# Installs, with apt-get, the Debian packages the test suite and the
# benchmarks use. Idempotent: it installs only what is missing.
set -euo pipefail
pkgs=(busybox-static procps iproute2 util-linux runc tini dumb-init catatonit crun bubblewrap python3 perl systemd)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "deps.sh: missing packages (${missing[*]}); run as root to install them" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
