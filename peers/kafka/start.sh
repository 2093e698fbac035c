#!/usr/bin/env bash
# Start a single-node Apache Kafka (KRaft: broker + controller in one JVM) on 127.0.0.1.
#   PLAINTEXT 127.0.0.1:${KAFKA_PORT:-9092}, controller 127.0.0.1:${KAFKA_CONTROLLER_PORT:-9093}
# Jars come from Maven Central via peers/kafka/pom.xml (resolved once, cached). The storage is
# formatted afresh in $MQLAB_PEERS_WORK/kafka/data on every cold start. Safe to run twice.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

PORT=${KAFKA_PORT:-9092}
CPORT=${KAFKA_CONTROLLER_PORT:-9093}
HEAP=${KAFKA_HEAP:-512m}
W="$MQLAB_PEERS_WORK/kafka"
PIDFILE="$W/kafka.pid"
mkdir -p "$W"

if pid_alive "$PIDFILE" && port_open "$PORT"; then
  echo "kafka already running (pid $(cat "$PIDFILE")) at kafka://127.0.0.1:$PORT"
  exit 0
fi
if port_open "$PORT"; then
  log "port $PORT is taken by another process (not ours: no live pid in $PIDFILE)"; exit 1
fi

need_java
maven_copy "$PEERS_DIR/kafka/pom.xml" "$W/lib"

# MQLAB_PEERS_KEEP_DATA=1 (restart.sh): start on the existing log dirs instead of a fresh store.
FRESH=1
if [[ "${MQLAB_PEERS_KEEP_DATA:-0}" == 1 && -f "$W/data/meta.properties" ]]; then FRESH=0; fi
if ((FRESH)); then rm -rf "$W/data" "$W/logs"; fi
mkdir -p "$W/data" "$W/logs"
cat >"$W/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$W/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
auto.create.topics.enable=true
delete.topic.enable=true
log.segment.bytes=67108864
num.network.threads=2
num.io.threads=4
PROPS
cat >"$W/log4j.properties" <<PROPS
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$W/logs/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
PROPS

CP="$W/lib/*"
JOPTS=(-Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:ActiveProcessorCount=2
       -Djava.awt.headless=true -Dlog4j.configuration="file:$W/log4j.properties")
if ((FRESH)); then
  CLUSTER_ID=$(java -cp "$CP" "${JOPTS[@]}" kafka.tools.StorageTool random-uuid)
  java -cp "$CP" "${JOPTS[@]}" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$W/server.properties" >"$W/logs/format.log" 2>&1 \
    || { log "kafka storage format failed:"; cat "$W/logs/format.log" >&2; exit 1; }
fi

: >"$W/logs/server.log"   # readiness reads this run's lines only
# setsid: the broker gets its own process group, so a caller's Ctrl-C does not half-kill it.
setsid java -cp "$CP" "${JOPTS[@]}" -Dkafka.logs.dir="$W/logs" kafka.Kafka "$W/server.properties" \
  >"$W/logs/stdout.log" 2>&1 </dev/null &
echo $! >"$PIDFILE"
log "kafka starting (pid $(cat "$PIDFILE")), logs in $W/logs"

# Ready = the broker answers a real metadata request through Kafka's own admin client.
# On a restart (data kept) the broker's own "started" log line is enough and saves a JVM.
ready() {
  pid_alive "$PIDFILE" || return 2
  port_open "$PORT" || return 1
  grep -q "Kafka Server started" "$W/logs/server.log" 2>/dev/null || return 1
  ((FRESH)) || return 0
  timeout 20 java -cp "$CP" -Xmx128m -Dlog4j.configuration="file:$W/log4j.properties" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$PORT" --list >/dev/null 2>&1
}
deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-90}))
until ready; do
  if ! pid_alive "$PIDFILE"; then log "kafka exited during start-up; last log lines:"; tail -30 "$W/logs/stdout.log" "$W/logs/server.log" >&2 2>/dev/null; rm -f "$PIDFILE"; exit 1; fi
  if ((SECONDS >= deadline)); then log "kafka did not answer within the time limit"; "$(dirname "$0")/stop.sh"; exit 1; fi
  sleep 1
done
echo "kafka ready (pid $(cat "$PIDFILE")) at kafka://127.0.0.1:$PORT (controller 127.0.0.1:$CPORT, heap $HEAP, data $W/data)"
