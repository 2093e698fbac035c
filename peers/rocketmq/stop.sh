#!/usr/bin/env bash
# Stop the RocketMQ broker, then the nameserver, started by peers/rocketmq/start.sh (by pid). Safe to run twice.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
W="$MQLAB_PEERS_WORK/rocketmq"
[[ -f "$W/broker.pid" || -f "$W/namesrv.pid" ]] || { log "rocketmq not running (no pid files)"; exit 0; }
[[ -f "$W/broker.pid" ]] && stop_pid "$W/broker.pid" "rocketmq broker" 30
[[ -f "$W/namesrv.pid" ]] && stop_pid "$W/namesrv.pid" "rocketmq namesrv" 15
exit 0
