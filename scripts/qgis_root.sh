#!/usr/bin/env bash
# A Debian 13 (trixie) root with Debian's QGIS 3.40 for tests/test_qgis.py: Debian 12's QGIS 3.22
# cannot send a layer's filter to an OGC API server (QGIS >= 3.32 can), and trixie's QGIS needs
# trixie's glibc, so it lives in its own root and the tests run it with chroot.
#   bash scripts/qgis_root.sh [DIR]   DIR defaults to ${GEO_TRACKER_QGIS_ROOT:-$HOME/.cache/geo_tracker/qgis-debian13}
# Needs root. Idempotent: DIR/.geo_tracker-qgis-root marks a complete root (and says what it holds);
# without it DIR is built again from scratch. Quiet unless it builds (one line) or fails (the log).
# Nothing stays mounted: the build mounts /proc and /dev in a private mount namespace, and so does
# the test runner (unshare --mount, then chroot).
set -euo pipefail
DIR=${1:-${GEO_TRACKER_QGIS_ROOT:-$HOME/.cache/geo_tracker/qgis-debian13}}
MIRROR=${GEO_TRACKER_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
PACKAGES="python3-qgis qgis-providers"
MARKER="$DIR/.geo_tracker-qgis-root"
RECIPE="$SUITE $MIRROR minbase $PACKAGES"        # a changed recipe means a new root

log() { printf '[qgis_root] %s\n' "$*" >&2; }

[ -f "$MARKER" ] && [ "$(head -n 1 "$MARKER")" = "$RECIPE" ] && exit 0
[ "$(id -u)" -eq 0 ] || { log "building a chroot needs root: sudo bash $0 $*"; exit 1; }

# an interrupted run may have left mounts in the partial root: never rm -rf through them into /dev or /tmp
mounted_under() { awk -v d="$1/" 'index($2 "/", d) == 1 { print $2 }' /proc/self/mounts | sort -r; }
remove_root() {
  local d=$1 m
  for m in $(mounted_under "$d"); do umount -l "$m"; done
  [ -z "$(mounted_under "$d")" ] || { log "$d still has mounts: $(mounted_under "$d" | tr '\n' ' ')"; exit 1; }
  rm -rf --one-file-system "$d"
}

BUILD="$DIR.partial"
LOG="$(dirname "$DIR")/qgis_root.log"
mkdir -p "$(dirname "$DIR")"
[ -e "$BUILD" ] && remove_root "$BUILD"
start=$SECONDS
fail() { log "failed: $1 (last lines of $LOG below)"; tail -n 30 "$LOG" >&2; exit 1; }
: > "$LOG"
command -v debootstrap >/dev/null || {   # the host builds the root with Debian's own tool
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap; } \
    >>"$LOG" 2>&1 || fail "apt-get install debootstrap"
}
debootstrap --variant=minbase "$SUITE" "$BUILD" "$MIRROR" >>"$LOG" 2>&1 || fail "debootstrap $SUITE"

# no docs, manuals or translations (a third of the size); no daemons started by postinst scripts
cat > "$BUILD/etc/dpkg/dpkg.cfg.d/01-geo-tracker-slim" <<'EOF'
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-exclude=/usr/share/qt5/translations/*
EOF
printf '#!/bin/sh\nexit 101\n' > "$BUILD/usr/sbin/policy-rc.d"
chmod +x "$BUILD/usr/sbin/policy-rc.d"
in_root() {   # a command in the root, with /proc and /dev mounted only for its lifetime
  unshare --mount --fork -- sh -c 'mount -t proc proc "$0/proc" && mount --rbind /dev "$0/dev" && exec chroot "$0" "$@"' \
    "$BUILD" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root DEBIAN_FRONTEND=noninteractive "$@"
}
in_root apt-get update -q >>"$LOG" 2>&1 || fail "apt-get update in the root"
in_root apt-get install -y -q --no-install-recommends $PACKAGES >>"$LOG" 2>&1 || fail "apt-get install $PACKAGES"
in_root apt-get clean >>"$LOG" 2>&1
rm -rf "$BUILD"/var/lib/apt/lists/*
# the proof the tests need: QGIS starts headless and knows the OGC API provider
version=$(in_root env QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR=/tmp HOME=/tmp python3 -c '
from qgis.core import Qgis, QgsApplication, QgsProviderRegistry
app = QgsApplication([], False); app.initQgis()
assert "OAPIF" in QgsProviderRegistry.instance().providerList(), QgsProviderRegistry.instance().providerList()
print(Qgis.QGIS_VERSION.split("-")[0])' 2>>"$LOG") || fail "QGIS does not start in the root"
rm -rf "$BUILD"/tmp/* "$BUILD"/tmp/.[!.]* 2>/dev/null || true
printf '%s\nQGIS %s\n' "$RECIPE" "$version" > "$BUILD/.geo_tracker-qgis-root"
[ -e "$DIR" ] && remove_root "$DIR"
mv "$BUILD" "$DIR"
log "built a Debian 13 root with QGIS $version in $DIR ($((SECONDS - start)) s, $(du -sh --one-file-system "$DIR" | cut -f1))"
