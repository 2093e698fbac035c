#!/usr/bin/env bash
# Stop the RabbitMQ node and the epmd that peers/rabbitmq/start.sh started (by pid). Safe to run twice.
set -euo pipefail
source "$(dirname "$0")/env.sh"
if pid_alive "$RMQ_W/server.pid"; then
  timeout 30 "$RMQ_BIN/rabbitmqctl" -q -n "$RABBITMQ_NODENAME" stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1 || true
  stop_pid "$RMQ_W/server.pid" rabbitmq 15
else
  rm -f "$RMQ_W/server.pid"; log "rabbitmq not running"
fi
# The Erlang VM itself, should the wrapper have died without taking it along.
if pid_alive "$RABBITMQ_PID_FILE"; then stop_pid "$RABBITMQ_PID_FILE" "rabbitmq beam" 10; fi
rm -f "$RABBITMQ_PID_FILE"
if [[ -f "$RMQ_W/epmd.pid" ]]; then stop_pid "$RMQ_W/epmd.pid" epmd 5; fi
