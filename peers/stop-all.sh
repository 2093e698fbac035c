#!/usr/bin/env bash
# Stop every broker peers/start-all.sh (or a single start.sh) started, by pid files. Never fails.
set -uo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
for b in rocketmq rabbitmq kafka; do bash "$DIR/$b/stop.sh" || echo "peers: stopping $b reported an error"; done
exit 0
