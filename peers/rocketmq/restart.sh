#!/usr/bin/env bash
# Restart the RocketMQ broker on its existing store, keeping the nameserver running (what the
# conformance adapter's restartBroker() runs). Consumer offsets, topics and messages persist.
set -euo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
source "$DIR/../lib.sh"
W="$MQLAB_PEERS_WORK/rocketmq"
pid_alive "$W/namesrv.pid" || { log "rocketmq is not running (start it with peers/rocketmq/start.sh)"; exit 1; }
stop_pid "$W/broker.pid" "rocketmq broker" 30
MQLAB_PEERS_KEEP_DATA=1 bash "$DIR/start.sh"
