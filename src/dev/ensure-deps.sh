#!/usr/bin/env bash
# Make a fresh machine able to build and run the local cluster: npm packages,
# etcd, sshd (for the ssh tunnel tests), systemd and dbus-daemon (the
# simulated hosts). Run from the repo root by `npm start` and `npm test`.
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
# Certificates for a secured etcd (flotillad dev --secure and the TLS tests).
command -v openssl >/dev/null 2>&1 || packages+=(openssl)

if [ "${#packages[@]}" -gt 0 ]; then
  echo "ensure-deps: installing ${packages[*]} with apt-get"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-deps: apt-get not found: install ${packages[*]} with this system's package manager" >&2
    exit 1
  fi
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
      echo "ensure-deps: not root and no sudo: install ${packages[*]} as root" >&2
      exit 1
    fi
  fi
  ${sudo[@]+"${sudo[@]}"} apt-get update -qq
  ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" </dev/null
fi

# systemd --user acts as a full manager only if it believes the machine booted with systemd.
if [ ! -d /run/systemd/system ]; then
  if [ "$(id -u)" -eq 0 ]; then mkdir -p /run/systemd/system; else sudo mkdir -p /run/systemd/system; fi
fi
