#!/usr/bin/env bash
# Restart the RabbitMQ application of the peer node on its existing data (stop_app / start_app:
# connections drop, durable queues and persistent messages stay, transient ones go).
set -euo pipefail
source "$(dirname "$0")/env.sh"
pid_alive "$RMQ_W/server.pid" || { log "rabbitmq is not running (start it with peers/rabbitmq/start.sh)"; exit 1; }
ctl() { timeout 60 "$RMQ_BIN/rabbitmqctl" -q -n "$RABBITMQ_NODENAME" "$@"; }
ctl stop_app
ctl start_app
ctl await_startup --timeout 50
echo "rabbitmq restarted at amqp://127.0.0.1:$RMQ_PORT"
