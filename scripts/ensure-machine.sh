#!/usr/bin/env bash
# Brings a fresh Debian machine to what the demo and the tests need: npm packages from the lockfile,
# ffmpeg/ffprobe (with flite), promtool, amtool and docker-compose, and local PostgreSQL and Redis running.
# Idempotent: it only installs or starts what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[ensure-machine] %s\n' "$*" >&2; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
fi

missing=()
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v promtool >/dev/null || missing+=(prometheus)
command -v amtool >/dev/null || missing+=(prometheus-alertmanager)
# The single-node compose file is validated with `docker-compose config` (no daemon needed).
command -v docker-compose >/dev/null || missing+=(docker-compose)
# The pod contract tests: private CAs, and network/mount namespaces for the stand-in services.
command -v openssl >/dev/null || missing+=(openssl)
command -v ip >/dev/null || missing+=(iproute2)
command -v nsenter >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing: ${missing[*]} — install them with: sudo apt-get install ${missing[*]}"
    exit 1
  fi
fi

pg_host=${PGHOST:-127.0.0.1}
if ! pg_isready -q -h "$pg_host" -p "${PGPORT:-5432}" 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h "$pg_host" && break; sleep 1; done
  fi
  pg_isready -q -h "$pg_host" || { say "PostgreSQL is not reachable on $pg_host:${PGPORT:-5432}; start it and retry"; exit 1; }
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null; then
    say "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { say "Redis is not reachable on 127.0.0.1:6379; start it and retry"; exit 1; }
fi
