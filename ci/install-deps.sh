#!/usr/bin/env bash
# install-deps.sh - the Debian 12 packages plumb builds and tests with.
# kubectl is not a Debian package: the tests that need it skip when it is absent.
set -euo pipefail

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# libclang-rt-14-dev: the sanitizer runtimes for clang (only recommended by clang-14)
$SUDO apt-get install -y --no-install-recommends \
    build-essential cmake pkg-config \
    libgit2-dev libyaml-dev libjansson-dev libcurl4-openssl-dev libssl-dev \
    libcmocka-dev libpcre2-dev libmicrohttpd-dev libgnutls28-dev \
    clang libclang-rt-14-dev \
    python3 git ca-certificates
