#!/usr/bin/env bash
# Make a fresh machine able to build and run the local cluster: npm packages,
# etcd, sshd (for the ssh tunnel tests), systemd and dbus-daemon (the
# simulated hosts), git (flotctl sync and diff), and Docker's engine, Debian's image registry and
# busybox-static (Docker units on dev hosts, with images built from local
# files), systemd-nspawn and mmdebstrap (the booted hosts; their rootfs is
# built on first use and cached in /var/cache/flotilla). Run from the repo
# root by `npm start` and `npm test`.
# Silent when nothing is missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# node_modules is touched after each install: npm may rewrite package-lock.json
# during the install itself, which would otherwise look newer forever.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  echo "ensure-deps: npm install"
  npm install --no-audit --no-fund
  touch node_modules
fi

packages=()
if ! command -v etcd >/dev/null 2>&1 || [ ! -x /usr/sbin/sshd ]; then
  packages+=(etcd-server etcd-client openssh-server)
fi
# Slim CI images may lack these; on Debian they normally arrive with openssh-server's recommends.
if [ ! -x /lib/systemd/systemd ] && [ ! -x /usr/lib/systemd/systemd ]; then packages+=(systemd); fi
command -v dbus-daemon >/dev/null 2>&1 || packages+=(dbus)
# Booted hosts (flotillad dev --boot, the booted-host tests): systemd-nspawn and the rootfs builder.
command -v systemd-nspawn >/dev/null 2>&1 || packages+=(systemd-container)
command -v mmdebstrap >/dev/null 2>&1 || packages+=(mmdebstrap)
# The release strips its copy of node (98 MB -> 86 MB) when binutils is there.
command -v strip >/dev/null 2>&1 || packages+=(binutils)
# flotctl diff/sync read sources through the git program (src/gitops/git.ts), and their tests use real repositories.
command -v git >/dev/null 2>&1 || packages+=(git)
# Docker units on the dev hosts: one engine per host (dockerd, containerd), a loopback registry,
# and a static busybox to build a test image from. --no-install-recommends: no git, no apparmor.
docker_packages=()
[ -x /usr/sbin/dockerd ] && [ -x /usr/bin/containerd ] || docker_packages+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || docker_packages+=(docker-registry)
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || docker_packages+=(busybox-static)
# The bootstrap tests validate cloud-config/ with cloud-init's own schema and Ignition's
# validator, and apply Ignition configs with the Ignition binary this package ships.
command -v cloud-init >/dev/null 2>&1 || packages+=(cloud-init)
{ command -v ignition-validate >/dev/null 2>&1 && [ -x /usr/lib/dracut/modules.d/30ignition/ignition ]; } || packages+=(ignition)
# Certificates for a secured etcd (flotillad dev --secure and the TLS tests).
command -v openssl >/dev/null 2>&1 || packages+=(openssl)

if [ "${#packages[@]}" -gt 0 ] || [ "${#docker_packages[@]}" -gt 0 ]; then
  wanted="${packages[*]} ${docker_packages[*]}"
  echo "ensure-deps: installing ${wanted# } with apt-get"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-deps: apt-get not found: install ${wanted# } with this system's package manager" >&2
    exit 1
  fi
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
      echo "ensure-deps: not root and no sudo: install ${wanted# } as root" >&2
      exit 1
    fi
  fi
  # Another apt run (a second checkout's set-up, say) may hold the lock: wait for it rather than fail.
  apt=(apt-get -o DPkg::Lock::Timeout=600)
  ${sudo[@]+"${sudo[@]}"} "${apt[@]}" update -qq
  if [ "${#packages[@]}" -gt 0 ]; then
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq "${packages[@]}" </dev/null
  fi
  if [ "${#docker_packages[@]}" -gt 0 ]; then
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${docker_packages[@]}" </dev/null
  fi
fi

# systemd --user acts as a full manager only if it believes the machine booted with systemd.
if [ ! -d /run/systemd/system ]; then
  if [ "$(id -u)" -eq 0 ]; then mkdir -p /run/systemd/system; else sudo mkdir -p /run/systemd/system; fi
fi
