#!/usr/bin/env bash
# Prepares a Debian 12 machine for the container tests: installs Debian's Docker
# engine (20.10, classic builder only), docker-compose 1.29, shellcheck and
# debootstrap, then starts dockerd when no engine answers. Safe to run again:
# installed packages and a running engine are left as they are.
#
# Usage (as root): bash infrastructure/docker/ci-setup.sh
# Env: DOCKERD_LOG (default /var/log/dockerd-ci.log), DOCKERD_WAIT_SECONDS (default 60)
set -euo pipefail

log() { printf 'ci-setup: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (it installs packages and starts dockerd)"
  exit 1
fi

# command -> Debian package that provides it
declare -A NEED=(
  [dockerd]=docker.io
  [docker-compose]=docker-compose
  [shellcheck]=shellcheck
  [debootstrap]=debootstrap
  [docker-init]=tini
  [iptables]=iptables
  [xz]=xz-utils
)
missing=()
for cmd in "${!NEED[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ] && [ ! -x "/usr/bin/$cmd" ]; then
    missing+=("${NEED[$cmd]}")
  fi
done
# /usr/bin/docker (Debian's client) is wanted too; another docker client earlier
# on PATH is fine (it negotiates the API version with the 20.10 engine).
[ -x /usr/bin/docker ] || missing+=(docker.io)
# debootstrap needs the archive keyring to verify what it fetches
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)

if [ "${#missing[@]}" -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d: there is no init system to start services from postinst scripts
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    remove_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" ca-certificates >/dev/null
  if [ "${remove_policy:-0}" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
else
  log "packages already installed"
fi

export DOCKER_HOST="${DOCKER_HOST:-unix:///var/run/docker.sock}"
if docker info >/dev/null 2>&1; then
  log "docker engine already running: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
  exit 0
fi

# Debian 12's iptables defaults to the nf_tables backend; fall back to legacy
# where the kernel lacks nf_tables, or dockerd cannot set up its bridge.
if ! iptables -L -n >/dev/null 2>&1 && command -v iptables-legacy >/dev/null 2>&1; then
  log "iptables (nft) unusable here, switching to iptables-legacy"
  update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
  update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null || true
fi

DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd-ci.log}"
log "starting dockerd (log: $DOCKERD_LOG)"
# setsid: the engine outlives this script and is not in its process group
setsid dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &

wait_s="${DOCKERD_WAIT_SECONDS:-60}"
for _ in $(seq 1 "$wait_s"); do
  if docker info >/dev/null 2>&1; then
    log "docker engine up: $(docker version --format '{{.Server.Version}}'), storage driver $(docker info --format '{{.Driver}}')"
    exit 0
  fi
  sleep 1
done
log "dockerd did not answer within ${wait_s}s; last lines of $DOCKERD_LOG:"
tail -n 30 "$DOCKERD_LOG" >&2 || true
exit 1
