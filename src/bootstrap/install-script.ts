/**
 * The shell script every bootstrap installs as /etc/flotilla/install-release
 * and runs through flotilla-install.service: fetch (curl, wget or python3,
 * whichever the host has: Flatcar has curl, a minimal Debian cloud image has
 * python3 for cloud-init), verify the SHA-256, unpack to /opt/flotilla, install
 * the release's own flotillad.service, start it.
 *
 * The text passes unchanged through every format's own processing: no jinja
 * delimiters (cloud-init renders user-data as a template when it asks for
 * it) and no `$private_ipv4`-style words (coreos-cloudinit substitutes them
 * in the whole user-data). A test keeps both true.
 */
export function installScript(): string {
  return `#!/bin/sh
# Installs the Flotilla release named in /etc/flotilla/release.env into
# /opt/flotilla and starts flotillad. Written by flotillad bootstrap-config and
# run by flotilla-install.service at every boot: it does nothing but (re)start
# flotillad when the release is current, so changing release.env and running
# "systemctl restart flotilla-install.service" updates a host.
set -eu
. /etc/flotilla/release.env
url=$FLOTILLA_RELEASE_URL
want=$FLOTILLA_RELEASE_SHA256
dest=/opt/flotilla
cache=/var/lib/flotilla/release.tar.gz

say() { echo "flotilla-install: $*" >&2; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 3 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$1" "$2"
  else
    say "no curl, wget or python3 on this host to download $1: install one of them"
    return 1
  fi
}

changed=no
if [ "$(cat "$dest/.release-sha256" 2>/dev/null || true)" != "$want" ]; then
  mkdir -p "$(dirname "$cache")"
  if [ ! -f "$cache" ] || [ "$(sha "$cache")" != "$want" ]; then
    rm -f "$cache.part"
    fetch "$url" "$cache.part" || { say "downloading $url failed"; exit 1; }
    got=$(sha "$cache.part")
    if [ "$got" != "$want" ]; then
      rm -f "$cache.part"
      say "$url has SHA-256 $got, not $want: fix FLOTILLA_RELEASE_SHA256 or the URL in /etc/flotilla/release.env"
      exit 1
    fi
    mv "$cache.part" "$cache"
  fi
  rm -rf "$dest.new"
  mkdir -p "$dest.new"
  tar -xzf "$cache" -C "$dest.new"
  top=$dest.new
  # A release packed with one top-level folder is unpacked from inside it.
  if [ ! -x "$top/bin/flotillad" ]; then
    for d in "$dest.new"/*/; do
      if [ -x "$d/bin/flotillad" ]; then top=$d; fi
    done
  fi
  if [ ! -x "$top/bin/flotillad" ] || [ ! -f "$top/flotillad.service" ]; then
    rm -rf "$dest.new"
    say "$url holds no bin/flotillad and flotillad.service: is it a Flotilla release?"
    exit 1
  fi
  echo "$want" > "$top/.release-sha256"
  rm -rf "$dest.old"
  if [ -e "$dest" ]; then mv "$dest" "$dest.old"; fi
  mv "$top" "$dest"
  rm -rf "$dest.new" "$dest.old"
  changed=yes
  say "installed $url in $dest"
fi

if ! cmp -s "$dest/flotillad.service" /etc/systemd/system/flotillad.service; then
  install -m 0644 "$dest/flotillad.service" /etc/systemd/system/flotillad.service
fi
systemctl daemon-reload
systemctl enable flotillad.service
# --no-block: this runs as a unit itself (and under cloud-init's final stage);
# waiting for another start job from here can deadlock the boot.
if [ "$changed" = yes ]; then
  systemctl restart --no-block flotillad.service
else
  systemctl start --no-block flotillad.service
fi
`;
}
