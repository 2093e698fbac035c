#!/usr/bin/env bash
# Stop the Kafka started by peers/kafka/start.sh (by its pid file only). Safe to run twice.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
W="$MQLAB_PEERS_WORK/kafka"
if [[ -f "$W/kafka.pid" ]]; then stop_pid "$W/kafka.pid" kafka 30; else log "kafka not running (no pid file)"; fi
