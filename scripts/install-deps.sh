#!/usr/bin/env bash
# Installs what the platform and its tests need on a fresh Debian or Ubuntu machine, and is a no-op when it
# is there: npm dependencies (exactly as locked) and InfluxDB 1.x (Debian's `influxdb` package) when
# `influxd` is missing and INFLUX_URL does not point at an InfluxDB of your own, Chromium for the console's
# browser tests, Redis, PostgreSQL and HAProxy for the cluster's tests, and the console built (console/dist). That is every system package `npm test` needs. Extra Debian packages can be named as arguments: `npm run bench` adds mosquitto,
# its baseline.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "error: need root to run: $* (install sudo, or run this as root)" >&2; exit 1
  fi
}

packages=("$@")
if [ -z "${INFLUX_URL:-}" ] && ! command -v influxd >/dev/null; then packages+=(influxdb); fi
# The console's browser tests drive Debian's Chromium (Playwright cannot download its own here).
if [ "${CITY_SKIP_BROWSER:-}" != 1 ] && ! command -v chromium >/dev/null; then packages+=(chromium); fi
# The cluster's tests start their own Redis, PostgreSQL and HAProxy (Debian's redis-server, postgresql,
# whose server binaries live outside PATH, and haproxy, in /usr/sbin).
if ! command -v redis-server >/dev/null; then packages+=(redis-server); fi
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then packages+=(postgresql); fi
if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then packages+=(haproxy); fi
missing=()
for p in "${packages[@]}"; do
  case "$p" in
    influxdb) command -v influxd >/dev/null || missing+=("$p") ;;
    mosquitto) command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=("$p") ;;
    chromium) command -v chromium >/dev/null || missing+=("$p") ;;
    redis-server) command -v redis-server >/dev/null || missing+=("$p") ;;
    haproxy) command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=("$p") ;;
    postgresql) compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=("$p") ;;
    *) dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p") ;;
  esac
done
if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "error: ${missing[*]} missing and this is not a Debian-like system: install InfluxDB 1.x yourself," >&2
    echo "       or set INFLUX_URL to an InfluxDB you run (README, \"Using your own InfluxDB\")." >&2
    exit 1
  fi
  say "installing ${missing[*]} with apt-get"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The operations console's static files, when they are missing or older than its sources.
if [ ! -f console/dist/index.html ] || [ -n "$(find console/src console/index.html console/vite.config.ts -newer console/dist/index.html -print -quit)" ]; then
  say "building the operations console (npm run build:console)"
  npm run --silent build:console
fi
