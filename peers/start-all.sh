#!/usr/bin/env bash
# Install (first time) and start Kafka, RabbitMQ and RocketMQ on 127.0.0.1, one after another.
# A broker that fails is reported and skipped: the others still start, and the tests that need
# the missing one skip with the reason. Exit status: 0 when all three run, 1 otherwise.
# Memory, all three together: Kafka heap 512 MiB, RabbitMQ watermark 1.5 GiB, RocketMQ namesrv
# 256 MiB + broker 512 MiB heap and 512 MiB direct; about 3 GiB resident at most.
set -uo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
failed=()
for b in kafka rabbitmq rocketmq; do
  t0=$SECONDS
  if timeout "${PEERS_START_LIMIT:-300}" bash "$DIR/$b/start.sh"; then
    echo "peers: $b up in $((SECONDS - t0))s"
  else
    echo "peers: $b FAILED to start after $((SECONDS - t0))s (its tests will skip); see the lines above"
    bash "$DIR/$b/stop.sh" >/dev/null 2>&1 || true
    failed+=("$b")
  fi
done
if ((${#failed[@]})); then echo "peers: not started: ${failed[*]}"; exit 1; fi
echo "peers: all started"
