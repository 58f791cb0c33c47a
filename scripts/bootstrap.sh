#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (root, Python 3.11, PostgreSQL 15):
#   bash scripts/bootstrap.sh demo   install what is needed, run the demo on SpatiaLite
#   bash scripts/bootstrap.sh test   install what is needed, run the whole test suite
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${GEO_TRACKER_VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}

log() { printf '[bootstrap] %s\n' "$*" >&2; }

need_apt=()
packages="libsqlite3-mod-spatialite gdal-bin postgresql-15-postgis-3 fonts-noto-cjk"
[ "${1:-}" = "test" ] && packages="$packages chromium libreoffice-writer-nogui poppler-utils python3-qgis qgis-providers"   # the browser tests drive Debian's Chromium; the report screenshots need soffice and pdftoppm; the QGIS tests run Debian's QGIS (headless, /usr/bin/python3)
for pkg in $packages; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# Debian 12's QGIS 3.22 filters a layer itself; the QGIS tests also run Debian 13's QGIS 3.40, which sends the filter to the server, from a root built once (chroot needs root: without it those tests skip)
if [ "${1:-}" = "test" ] && [ "$(id -u)" -eq 0 ]; then bash scripts/qgis_root.sh; fi

start_postgres() {
  command -v pg_isready >/dev/null || return 0
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    log "starting PostgreSQL"
    ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    [ -n "$ver" ] && pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
}

if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.geo_tracker-install.stamp"
want=$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing geo_tracker and its dependencies into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -e ".[test]" 2> >(grep -v "^WARNING: Location" >&2)
  echo "$want" > "$stamp"
fi

case "${1:-}" in
  demo)
    shift
    exec "$VENV/bin/geo-tracker" demo "$@"
    ;;
  test)
    shift
    start_postgres
    set +e
    "$VENV/bin/python" -m pytest "$@"
    rc=$?
    set -e
    if [ $rc -eq 5 ]; then log "pytest collected no tests: failing"; exit 1; fi
    exit $rc
    ;;
  *)
    echo "usage: bash scripts/bootstrap.sh demo|test [args...]" >&2
    exit 2
    ;;
esac
