#!/usr/bin/env bash
# Build, once per machine, an offline stand-in for public.ecr.aws/lambda/python:3.13 and print its tag.
#
#   scripts/lambda-base-standin/build.sh              build if missing; last stdout line is the tag
#   scripts/lambda-base-standin/build.sh --print-tag  only print the tag
#
# Debian trixie (debootstrap, minbase) + python3.13 in a venv at /var/lang, awslambdaric from a hashed
# lock (requirements.txt), Lambda's paths and variables, /lambda-entrypoint.sh and /var/runtime/bootstrap
# as the real base has them, and AWS's Runtime Interface Emulator at /usr/local/bin/aws-lambda-rie,
# taken from the hash-pinned aws-sam-cli wheel (rie-requirements.txt). The tag carries a hash of this
# directory, so any change here (a new pin included) builds a new image.
# Environment: DOCKER (default /usr/bin/docker), PIP_CA_BUNDLE (CA bundle for pip, build time only;
# default: the system bundle when present), STANDIN_WORKDIR (scratch space for the rootfs),
# DEBOOTSTRAP_MIRROR (optional; debootstrap's default otherwise).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${here}/../.." && pwd)"
docker_bin="${DOCKER:-/usr/bin/docker}"
content_hash="$(cd "${here}" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)"
repository="sentiment-dashboard/lambda-python-standin"
tag="${repository}:3.13-${content_hash}"
rootfs_tag="${repository}-rootfs:${content_hash}"

log() { echo "lambda-base-standin: $*" >&2; }

if [[ "${1:-}" == "--print-tag" ]]; then
  echo "${tag}"
  exit 0
fi

# One build at a time per machine; a second caller waits and then finds the image.
exec 9>"/tmp/lambda-base-standin.lock"
flock 9

if "${docker_bin}" image inspect "${tag}" >/dev/null 2>&1; then
  log "reusing ${tag}"
  echo "${tag}"
  exit 0
fi

for tool in debootstrap tar; do
  command -v "${tool}" >/dev/null || { log "${tool} is missing: apt-get install -y debootstrap"; exit 1; }
done

workdir="${STANDIN_WORKDIR:-${repo_root}/.tmp/lambda-base-standin}"
rootfs="${workdir}/rootfs-${content_hash}"
rm -rf "${rootfs}"
mkdir -p "${workdir}"
trap 'rm -rf "${rootfs}"' EXIT

log "debootstrap trixie into ${rootfs}"
debootstrap --variant=minbase --include=python3.13,python3.13-venv,ca-certificates \
  trixie "${rootfs}" ${DEBOOTSTRAP_MIRROR:+"${DEBOOTSTRAP_MIRROR}"} >&2

# Host files debootstrap copied in, and apt's downloads: none belong in the image.
rm -rf "${rootfs}"/var/cache/apt/archives/*.deb "${rootfs}"/var/lib/apt/lists/* \
  "${rootfs}"/etc/resolv.conf "${rootfs}"/etc/hostname "${rootfs}"/var/log/*.log

log "importing the rootfs as ${rootfs_tag}"
tar --numeric-owner -C "${rootfs}" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . \
  | "${docker_bin}" import --platform linux/amd64 - "${rootfs_tag}" >&2

secret_args=()
ca_bundle="${PIP_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
if [[ -f "${ca_bundle}" ]]; then
  secret_args=(--secret "id=pip_ca,src=${ca_bundle}")
fi

log "building ${tag}"
DOCKER_BUILDKIT=1 "${docker_bin}" build --platform linux/amd64 \
  --build-arg "ROOTFS_IMAGE=${rootfs_tag}" "${secret_args[@]}" \
  --label "org.opencontainers.image.title=lambda-python-standin" \
  -t "${tag}" "${here}" >&2
"${docker_bin}" rmi "${rootfs_tag}" >/dev/null
echo "${tag}"
