#!/usr/bin/env bash
# Like the official redis image: listen on all interfaces without protected mode, run as redis.
set -e
if [ "${1:0:1}" = '-' ] || [ "${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" = 'redis-server' ]; then
  shift
  set -- redis-server --bind '* -::*' --protected-mode no --daemonize no --logfile '' "$@"
  if [ "$(id -u)" = '0' ]; then
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
exec "$@"
