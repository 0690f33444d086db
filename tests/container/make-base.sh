#!/usr/bin/env bash
# Make a Debian 12 base image without a registry: debootstrap (minbase, from the Debian mirror
# apt uses) into a temporary folder, then `podman import`. The result plays the part of
# docker.io/library/debian:bookworm-slim for deploy/Containerfile (pass it as --build-arg BASE).
#
#   tests/container/make-base.sh [IMAGE]      default IMAGE: localhost/jokebot-base:bookworm
#
# Needs root, debootstrap and podman. Does nothing when IMAGE already exists.
set -euo pipefail
image=${1:-localhost/jokebot-base:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
for tool in debootstrap podman; do
    command -v "$tool" > /dev/null || { echo "make-base: $tool is not installed" >&2; exit 1; }
done
if podman image exists "$image"; then
    echo "make-base: $image exists"
    exit 0
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase bookworm "$root/rootfs" "$mirror" > "$root/debootstrap.log" \
    || { tail -20 "$root/debootstrap.log"; exit 1; }
rm -rf "$root"/rootfs/var/cache/apt/archives/*.deb "$root"/rootfs/var/lib/apt/lists/*
tar -C "$root/rootfs" --numeric-owner -c . \
    | podman import --quiet --change 'CMD ["/bin/bash"]' - "$image" > /dev/null
echo "make-base: $image made from debootstrap bookworm ($mirror)"
