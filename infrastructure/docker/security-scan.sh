#!/usr/bin/env bash
# Builds the six images and scans them.
#
#   infrastructure/docker/security-scan.sh [scan]   build, then scan (the default)
#   infrastructure/docker/security-scan.sh build    build the six images only
#   infrastructure/docker/security-scan.sh clean    remove the reports
#
# scan runs every scanner that is installed and says plainly which were not:
#   - Trivy: each image for HIGH and CRITICAL vulnerabilities, `trivy config` on
#     the six Dockerfiles, and a CycloneDX SBOM per image;
#   - Docker Scout: each image for HIGH and CRITICAL vulnerabilities, and a
#     CycloneDX SBOM per image;
#   - without either, the SBOM of each image is npm's (`npm sbom`, the image's
#     production dependencies from package-lock.json; it does not list the base
#     image's OS packages).
# Reports go to infrastructure/docker/reports/ (ignored by git). The exit status
# is 1 when a scanner found something at or above the gate, 2 for a usage or
# build error, 3 when REQUIRE_SCANNER=1 and no vulnerability scanner ran, else 0.
#
# Env: IMAGE_TAG (default: the version in package.json), NODE_IMAGE and
#      APK_UPGRADE (build arguments; the Dockerfiles' defaults otherwise),
#      SEVERITY (default HIGH,CRITICAL), REPORT_DIR, SKIP_BUILD=1 (scan what is
#      built), REQUIRE_SCANNER=1 (fail when neither Trivy nor Docker Scout ran).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
roles=(notification-service channel-orchestrator email-service sms-service inapp-service push-service)
report_dir="${REPORT_DIR:-$here/reports}"
severity="${SEVERITY:-HIGH,CRITICAL}"
# the classic builder: the Dockerfiles need nothing newer, and Debian's engine has no BuildKit
export DOCKER_BUILDKIT="${DOCKER_BUILDKIT:-0}"

say() { printf 'security-scan: %s\n' "$*"; }
die() { say "$*" >&2; exit 2; }

image_tag() {
  if [ -n "${IMAGE_TAG:-}" ]; then printf '%s\n' "$IMAGE_TAG"; return; fi
  sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$root/package.json" | head -n 1
}

image_of() { printf 'notification-system/%s:%s\n' "$1" "$(image_tag)"; }

build() {
  command -v docker >/dev/null || die "docker is not installed"
  local args=()
  if [ -n "${NODE_IMAGE:-}" ]; then args+=(--build-arg "NODE_IMAGE=$NODE_IMAGE"); fi
  if [ -n "${APK_UPGRADE:-}" ]; then args+=(--build-arg "APK_UPGRADE=$APK_UPGRADE"); fi
  local role
  for role in "${roles[@]}"; do
    say "building $(image_of "$role")"
    # the log keeps "Sending build context to Docker daemon" (the context size)
    # ${args[@]+...}: an empty array under set -u on bash older than 4.4
    docker build --force-rm ${args[@]+"${args[@]}"} -f "$here/Dockerfile.$role" -t "$(image_of "$role")" "$root" \
      >"$report_dir/build-$role.log" 2>&1 || {
      tail -n 40 "$report_dir/build-$role.log" >&2
      die "build of $role failed (log: $report_dir/build-$role.log)"
    }
    grep -m 1 'Sending build context' "$report_dir/build-$role.log" || true
  done
  docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep "^notification-system/.*:$(image_tag) " || true
}

have_scout() { docker scout version >/dev/null 2>&1; }

# npm's SBOM of the production dependencies, which is what each image's
# node_modules holds (npm ci --omit=dev from the same lockfile)
npm_sbom() {
  local role="$1"
  local out="$report_dir/sbom-$role.cdx.json"
  (cd "$root" && npm sbom --omit=dev --package-lock-only --sbom-format cyclonedx) >"$out.tmp"
  node -e '
    const fs = require("node:fs")
    const [file, image] = process.argv.slice(1)
    const bom = JSON.parse(fs.readFileSync(file, "utf8"))
    bom.metadata = bom.metadata ?? {}
    bom.metadata.properties = [...(bom.metadata.properties ?? []),
      { name: "notification-system:image", value: image },
      { name: "notification-system:scope", value: "npm production dependencies only; base image OS packages not listed" }]
    fs.writeFileSync(file, JSON.stringify(bom, null, 2))
  ' "$out.tmp" "$(image_of "$role")"
  mv "$out.tmp" "$out"
}

scan() {
  local failed=0 ran=0 role image
  local sev_lower
  sev_lower="$(printf '%s' "$severity" | tr '[:upper:]' '[:lower:]')"
  : >"$report_dir/summary.txt"
  note() { say "$*"; printf '%s\n' "$*" >>"$report_dir/summary.txt"; }

  for role in "${roles[@]}"; do
    docker image inspect "$(image_of "$role")" >/dev/null 2>&1 || die "image $(image_of "$role") is not built (run: $0 build)"
  done

  if command -v trivy >/dev/null; then
    ran=1
    note "trivy $(trivy --version 2>/dev/null | head -n 1)"
    for role in "${roles[@]}"; do
      image="$(image_of "$role")"
      trivy image --quiet --severity "$severity" --format json --output "$report_dir/trivy-$role.json" "$image"
      if ! trivy image --quiet --severity "$severity" --exit-code 1 "$image" >"$report_dir/trivy-$role.txt"; then
        failed=1
        note "FAIL trivy: $severity vulnerabilities in $image (see $report_dir/trivy-$role.txt)"
      else
        note "ok   trivy: no $severity vulnerabilities in $image"
      fi
      trivy image --quiet --format cyclonedx --output "$report_dir/sbom-$role.cdx.json" "$image"
      if ! trivy config --quiet --severity "$severity" --exit-code 1 "$here/Dockerfile.$role" >"$report_dir/trivy-config-$role.txt"; then
        failed=1
        note "FAIL trivy config: $severity misconfigurations in Dockerfile.$role"
      else
        note "ok   trivy config: Dockerfile.$role"
      fi
    done
  else
    note "skipped: trivy not installed (https://trivy.dev)"
  fi

  if have_scout; then
    ran=1
    note "docker scout $(docker scout version 2>/dev/null | grep -m 1 -i version || true)"
    for role in "${roles[@]}"; do
      image="$(image_of "$role")"
      docker scout cves --format sarif --output "$report_dir/scout-$role.sarif.json" "local://$image" >/dev/null 2>&1 || true
      if ! docker scout cves --only-severity "$sev_lower" --exit-code "local://$image" >"$report_dir/scout-$role.txt" 2>&1; then
        failed=1
        note "FAIL docker scout: $severity vulnerabilities in $image (see $report_dir/scout-$role.txt)"
      else
        note "ok   docker scout: no $severity vulnerabilities in $image"
      fi
      if [ ! -s "$report_dir/sbom-$role.cdx.json" ]; then
        docker scout sbom --format cyclonedx --output "$report_dir/sbom-$role.cdx.json" "local://$image" >/dev/null 2>&1 || true
      fi
    done
  else
    note "skipped: docker scout not installed (https://docs.docker.com/scout/)"
  fi

  for role in "${roles[@]}"; do
    if [ ! -s "$report_dir/sbom-$role.cdx.json" ]; then npm_sbom "$role"; fi
  done
  note "SBOMs (CycloneDX): $report_dir/sbom-<role>.cdx.json"

  if [ "$ran" = 0 ]; then
    note "WARNING: no vulnerability scanner ran, so the images were NOT scanned"
    if [ "${REQUIRE_SCANNER:-0}" = 1 ]; then exit 3; fi
  fi
  if [ "$failed" = 1 ]; then
    note "gate crossed: $severity findings (reports in $report_dir)"
    exit 1
  fi
  note "gate passed"
}

cmd="${1:-scan}"
case "$cmd" in
  build)
    mkdir -p "$report_dir"
    build
    ;;
  scan)
    mkdir -p "$report_dir"
    if [ "${SKIP_BUILD:-0}" != 1 ]; then build; fi
    scan
    ;;
  clean)
    rm -rf "$report_dir"
    say "removed $report_dir"
    ;;
  -h | --help | help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    ;;
  *)
    die "unknown command $cmd (scan|build|clean)"
    ;;
esac
