#!/usr/bin/env bash
# Builds stand-ins for the official postgres and redis images from Debian packages, for machines
# that cannot reach an image registry. Learners with registry access never need this: the kit
# defaults to the official images (see harness/images.ts).
#
#   bash docker/build-images.sh          # builds whatever is missing
#   bash docker/build-images.sh --force  # rebuilds all four
#
# Result:
#   backend-labs/debian-base:bookworm   root filesystem with postgresql-15 and redis-server
#   backend-labs/postgres:15-debian     behaves like postgres:15 where Testcontainers relies on it
#   backend-labs/redis:7-debian         behaves like redis:7 where Testcontainers relies on it
#   backend-labs/node:20-debian         this machine's Node 20 on the Debian base: the grading sandbox's image
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
base=backend-labs/debian-base:bookworm
pg=${LAB_STANDIN_POSTGRES:-backend-labs/postgres:15-debian}
redis=${LAB_STANDIN_REDIS:-backend-labs/redis:7-debian}
node=${LAB_STANDIN_NODE:-backend-labs/node:20-debian}
force=0
[ "${1:-}" = "--force" ] && force=1

have() { docker image inspect "$1" >/dev/null 2>&1; }
log() { printf '[images] %s\n' "$*"; }

command -v docker >/dev/null || { echo "docker client not found: install docker.io" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "no Docker daemon reachable: start dockerd first" >&2; exit 1; }

if [ $force = 1 ] || ! have "$base"; then
  command -v debootstrap >/dev/null || { echo "debootstrap not found: apt-get install -y debootstrap" >&2; exit 1; }
  root=$(mktemp -d /tmp/backend-labs-rootfs.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  log "debootstrap bookworm with postgresql-15 and redis-server (about 40 s)"
  debootstrap --variant=minbase --include=postgresql-15,redis-server,util-linux \
    bookworm "$root" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }
  # Debian's package creates a cluster; the stand-in initdb's its own on first start, like the official image.
  rm -rf "$root"/var/lib/postgresql/15 "$root"/etc/postgresql/15 "$root"/var/cache/apt/archives/*.deb
  log "docker import $base"
  tar -C "$root" -c . | docker import - "$base" >/dev/null
  rm -rf "$root" "$root.log"
  trap - EXIT
else
  log "$base present"
fi

if [ $force = 1 ] || ! have "$pg"; then
  log "docker build $pg"
  docker build -q -t "$pg" --build-arg BASE="$base" "$here/postgres" >/dev/null
else
  log "$pg present"
fi
if [ $force = 1 ] || ! have "$redis"; then
  log "docker build $redis"
  docker build -q -t "$redis" --build-arg BASE="$base" "$here/redis" >/dev/null
else
  log "$redis present"
fi
if [ $force = 1 ] || ! have "$node"; then
  node_bin=$(command -v node) || { echo "node not found: the sandbox image is built from this machine's Node 20" >&2; exit 1; }
  case "$("$node_bin" --version)" in v20.*) ;; *) echo "node $("$node_bin" --version) found: the sandbox image needs Node 20" >&2; exit 1 ;; esac
  log "docker build $node (from $node_bin, $("$node_bin" --version))"
  ctx=$(mktemp -d /tmp/backend-labs-node.XXXXXX)
  cp "$here/node/Dockerfile" "$ctx/" && cp "$(readlink -f "$node_bin")" "$ctx/node"
  docker build -q -t "$node" --build-arg BASE="$base" "$ctx" >/dev/null
  rm -rf "$ctx"
else
  log "$node present"
fi
log "done: LAB_POSTGRES_IMAGE=$pg LAB_REDIS_IMAGE=$redis LAB_NODE_IMAGE=$node"
