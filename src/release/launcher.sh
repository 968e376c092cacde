#!/bin/sh
# @PROGRAM@: starts Flotilla's @PROGRAM@ on the Node runtime bundled in this release.
# Before exec'ing it, asks the host's dynamic loader whether every library and symbol
# version the runtime needs is there, so a host that lacks one gets a single line naming
# it instead of the loader's own message. FLOTILLA_LOADER overrides the loader path (a test aid).
prog=@PROGRAM@
self=$0
# Follow symlinks (e.g. /usr/local/bin/@PROGRAM@ -> /opt/flotilla/bin/@PROGRAM@).
while [ -L "$self" ]; do
  link=$(readlink "$self") || break
  case $link in
    /*) self=$link ;;
    *) self=${self%/*}/$link ;;
  esac
done
case $self in
  */*) bindir=${self%/*} ;;
  *) bindir=. ;;
esac
root=$(cd "$bindir/.." 2>/dev/null && pwd -P) || { echo "$prog: cannot find the release directory above $self" >&2; exit 127; }
node=$root/runtime/node
entry=$root/lib/@ENTRY@
loader=${FLOTILLA_LOADER:-/lib64/ld-linux-x86-64.so.2}
need='glibc >= @GLIBC@ and libstdc++ with GLIBCXX_@GLIBCXX@ (GCC >= 5)'

if [ ! -f "$node" ] || [ ! -f "$entry" ]; then
  echo "$prog: this release is incomplete ($root/runtime/node or $entry is missing): unpack the whole release again" >&2
  exit 127
fi
if [ ! -x "$loader" ]; then
  echo "$prog: cannot start: this host has no glibc dynamic loader at $loader; the bundled Node runtime needs $need (x86-64 glibc Linux)" >&2
  exit 127
fi
# List mode resolves libraries and symbol versions without running the program.
if ! report=$("$loader" --list "$node" 2>&1); then
  what=
  while IFS= read -r line; do
    case $line in
      *"error while loading shared libraries: "*) what=${line#*shared libraries: }; what=${what%%:*}; break ;;
      *"=> not found"*) what=${line%% =>*}; what=$(echo $what); break ;;
      *"version \`"*"' not found"*) what=${line#*version \`}; what="symbol version ${what%%\'*}"; break ;;
    esac
  done <<REPORT
$report
REPORT
  [ -n "$what" ] || what=$(printf '%s\n' "$report" | head -n 1)
  echo "$prog: cannot start: this host lacks $what; the bundled Node runtime needs $need" >&2
  exit 127
fi
exec "$node" @NODE_FLAGS@ "$entry" "$@"
