#!/bin/sh
# Same behaviour as the official node image's entrypoint: run the arguments as
# a command, or hand them to node when they are options or not a command.
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
