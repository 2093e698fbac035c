#!/usr/bin/env bash
# Start RabbitMQ (Debian's rabbitmq-server, installed here if missing) as a plain process of the
# current user: AMQP on 127.0.0.1:${RABBITMQ_PORT:-5672}, node rabbit@localhost, epmd and Erlang
# distribution on 127.0.0.1, all files in $MQLAB_PEERS_WORK/rabbitmq (wiped on a cold start).
# Safe to run twice.
set -euo pipefail
source "$(dirname "$0")/env.sh"

if [[ ! -x "$RMQ_BIN/rabbitmq-server" ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing Debian rabbitmq-server"
    [[ -n "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ]] || apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >"$MQLAB_PEERS_WORK/rabbitmq-apt.log" 2>&1 \
      || { log "apt-get install rabbitmq-server failed; see $MQLAB_PEERS_WORK/rabbitmq-apt.log"; exit 1; }
  else
    log "rabbitmq-server is not installed and cannot be installed here (needs root and apt-get)"; exit 1
  fi
fi

if pid_alive "$RMQ_W/server.pid" && port_open "$RMQ_PORT"; then
  echo "rabbitmq already running (pid $(cat "$RMQ_W/server.pid")) at amqp://127.0.0.1:$RMQ_PORT"
  exit 0
fi
if port_open "$RMQ_PORT"; then log "port $RMQ_PORT is taken by another process (not ours)"; exit 1; fi

# A fresh node each cold start: no queues or messages left over from an earlier run.
rm -rf "$RMQ_W/mnesia" "$RMQ_W/logs" "$RMQ_W/feature_flags"; mkdir -p "$RMQ_W/mnesia" "$RMQ_W/logs"
echo '[].' >"$RABBITMQ_ENABLED_PLUGINS_FILE"
: >"$RABBITMQ_CONF_ENV_FILE"
echo '[].' >"$RABBITMQ_ADVANCED_CONFIG_FILE"
cat >"$RABBITMQ_CONFIG_FILE" <<CONF
listeners.tcp.1 = 127.0.0.1:$RMQ_PORT
loopback_users = none
vm_memory_high_watermark.absolute = ${RABBITMQ_MEMORY:-1536MiB}
disk_free_limit.absolute = 200MB
log.console = false
log.file.level = info
CONF

# epmd: reuse one already listening (not ours to stop), otherwise start one on loopback and
# remember its pid so stop.sh can end exactly that process.
if ! port_open "$ERL_EPMD_PORT"; then
  setsid epmd -address 127.0.0.1 -port "$ERL_EPMD_PORT" </dev/null >"$RMQ_W/logs/epmd.log" 2>&1 &
  echo $! >"$RMQ_W/epmd.pid"
  wait_until 10 "epmd on 127.0.0.1:$ERL_EPMD_PORT" port_open "$ERL_EPMD_PORT"
fi

setsid "$RMQ_BIN/rabbitmq-server" </dev/null >"$RMQ_W/logs/stdout.log" 2>&1 &
echo $! >"$RMQ_W/server.pid"
log "rabbitmq starting (pid $(cat "$RMQ_W/server.pid")), logs in $RMQ_W/logs"

ready() { "$RMQ_BIN/rabbitmqctl" -q -n "$RABBITMQ_NODENAME" await_startup --timeout 5 && port_open "$RMQ_PORT"; }
deadline=$((SECONDS + ${RABBITMQ_START_TIMEOUT:-90}))
until ready >/dev/null 2>&1; do
  if ! pid_alive "$RMQ_W/server.pid"; then log "rabbitmq exited during start-up; last log lines:"; tail -30 "$RMQ_W/logs/stdout.log" >&2; "$(dirname "$0")/stop.sh"; exit 1; fi
  if ((SECONDS >= deadline)); then log "rabbitmq did not answer within the time limit"; "$(dirname "$0")/stop.sh"; exit 1; fi
  sleep 1
done
"$RMQ_BIN/rabbitmqctl" -q -n "$RABBITMQ_NODENAME" status >"$RMQ_W/logs/status.txt" 2>&1 || true
echo "rabbitmq ready (pid $(cat "$RMQ_W/server.pid")) at amqp://127.0.0.1:$RMQ_PORT (node $RABBITMQ_NODENAME, dist 127.0.0.1:$RABBITMQ_DIST_PORT, memory limit ${RABBITMQ_MEMORY:-1536MiB})"
