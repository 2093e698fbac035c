#!/usr/bin/env bash
# Start Apache RocketMQ 5 on 127.0.0.1: nameserver (${ROCKETMQ_NAMESRV_PORT:-9876}) and one
# master broker "broker-a" (remoting ${ROCKETMQ_BROKER_PORT:-10911}, brokerIP1=127.0.0.1,
# autoCreateTopicEnable). Jars come from Maven Central via peers/rocketmq/pom.xml (resolved
# once, cached); the store is wiped on a cold start. Safe to run twice.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

NS_PORT=${ROCKETMQ_NAMESRV_PORT:-9876}
BR_PORT=${ROCKETMQ_BROKER_PORT:-10911}
W="$MQLAB_PEERS_WORK/rocketmq"
mkdir -p "$W"

if pid_alive "$W/namesrv.pid" && pid_alive "$W/broker.pid" && port_open "$NS_PORT" && port_open "$BR_PORT"; then
  echo "rocketmq already running (namesrv pid $(cat "$W/namesrv.pid"), broker pid $(cat "$W/broker.pid")) at rocketmq://127.0.0.1:$NS_PORT"
  exit 0
fi
# A live nameserver of ours is kept (restart.sh restarts only the broker); anything else
# half-running is stopped and started clean.
KEEP_NS=0
if pid_alive "$W/namesrv.pid" && port_open "$NS_PORT" && ! pid_alive "$W/broker.pid"; then KEEP_NS=1; rm -f "$W/broker.pid"
elif [[ -f "$W/namesrv.pid" || -f "$W/broker.pid" ]]; then "$(dirname "$0")/stop.sh"; fi
for p in "$NS_PORT" "$BR_PORT"; do
  if ((KEEP_NS)) && [[ $p == "$NS_PORT" ]]; then continue; fi
  if port_open "$p"; then log "port $p is taken by another process (not ours)"; exit 1; fi
done

need_java
maven_copy "$PEERS_DIR/rocketmq/pom.xml" "$W/lib"

# MQLAB_PEERS_KEEP_DATA=1 (restart.sh): start on the existing store instead of a fresh one.
if [[ "${MQLAB_PEERS_KEEP_DATA:-0}" != 1 ]]; then rm -rf "$W/store" "$W/home/logs" "$W/home/store"; fi
mkdir -p "$W/store" "$W/home/logs"
cat >"$W/namesrv.conf" <<CONF
listenPort=$NS_PORT
bindAddress=127.0.0.1
CONF
cat >"$W/broker.conf" <<CONF
brokerClusterName=mqlab
brokerName=broker-a
brokerId=0
brokerRole=ASYNC_MASTER
flushDiskType=ASYNC_FLUSH
namesrvAddr=127.0.0.1:$NS_PORT
brokerIP1=127.0.0.1
brokerIP2=127.0.0.1
listenPort=$BR_PORT
bindAddress=127.0.0.1
storePathRootDir=$W/store
storePathCommitLog=$W/store/commitlog
autoCreateTopicEnable=true
autoCreateSubscriptionGroup=true
defaultTopicQueueNums=4
mappedFileSizeCommitLog=134217728
deleteWhen=04
fileReservedTime=168
traceTopicEnable=false
enablePropertyFilter=true
CONF

# Our one-class HA plug-in keeps the (unused) replication listener closed, so nothing binds
# beyond 127.0.0.1 (see ha-off/src/.../NoListenerHAService.java).
HA="$W/ha-off"
rm -rf "$HA"; mkdir -p "$HA"
javac -nowarn -d "$HA" -cp "$W/lib/*" "$PEERS_DIR/rocketmq/ha-off/src/dev/mqlab/peers/NoListenerHAService.java" >"$W/javac.log" 2>&1 \
  || { log "compiling the HA plug-in failed:"; cat "$W/javac.log" >&2; exit 1; }
cp -r "$PEERS_DIR/rocketmq/ha-off/resources/." "$HA/"
CP="$HA:$W/lib/*"
# user.home: RocketMQ's logback writes to ~/logs/rocketmqlogs; keep it in our work dir.
COMMON=(-XX:+UseG1GC -XX:ActiveProcessorCount=2 -XX:-OmitStackTraceInFastThrow -Duser.home="$W/home"
        -Drocketmq.home.dir="$W/home" -Djava.awt.headless=true)

if ((KEEP_NS)); then log "rocketmq namesrv already running (pid $(cat "$W/namesrv.pid"))"; else
setsid java -Xms${ROCKETMQ_NAMESRV_HEAP:-256m} -Xmx${ROCKETMQ_NAMESRV_HEAP:-256m} "${COMMON[@]}" -cp "$CP" \
  org.apache.rocketmq.namesrv.NamesrvStartup -c "$W/namesrv.conf" >"$W/home/logs/namesrv.out" 2>&1 </dev/null &
echo $! >"$W/namesrv.pid"
log "rocketmq namesrv starting (pid $(cat "$W/namesrv.pid"))"
if ! wait_until 60 "rocketmq namesrv on 127.0.0.1:$NS_PORT" port_open "$NS_PORT"; then
  tail -20 "$W/home/logs/namesrv.out" >&2; "$(dirname "$0")/stop.sh"; exit 1
fi
fi

: >"$W/home/logs/broker.out"
setsid java -Xms${ROCKETMQ_BROKER_HEAP:-512m} -Xmx${ROCKETMQ_BROKER_HEAP:-512m} -XX:MaxDirectMemorySize=${ROCKETMQ_BROKER_DIRECT:-512m} \
  "${COMMON[@]}" -cp "$CP" org.apache.rocketmq.broker.BrokerStartup -c "$W/broker.conf" >"$W/home/logs/broker.out" 2>&1 </dev/null &
echo $! >"$W/broker.pid"
log "rocketmq broker starting (pid $(cat "$W/broker.pid")), logs in $W/home/logs"

# Ready = the nameserver's cluster list, asked through RocketMQ's own admin tool, shows the broker.
# Ready = the broker says "boot success" and the nameserver's cluster info lists it (asked over
# RocketMQ's remoting protocol by a small Node script; RocketMQ's own admin tool works too but
# costs a JVM start). "boot success" alone comes before the broker has registered.
ready() {
  pid_alive "$W/broker.pid" && port_open "$BR_PORT" || return 1
  grep -q "boot success" "$W/home/logs/broker.out" 2>/dev/null || return 1
  if command -v node >/dev/null; then
    node "$PEERS_DIR/rocketmq/wait-registered.js" "$NS_PORT" broker-a 5
  else
    timeout 30 java -Xmx128m -Duser.home="$W/home" -cp "$CP" org.apache.rocketmq.tools.command.MQAdminStartup \
      clusterList -n "127.0.0.1:$NS_PORT" 2>/dev/null | grep -q "broker-a"
  fi
}
deadline=$((SECONDS + ${ROCKETMQ_START_TIMEOUT:-120}))
until ready; do
  if ! pid_alive "$W/broker.pid" || ! pid_alive "$W/namesrv.pid"; then
    log "rocketmq exited during start-up; last log lines:"; tail -20 "$W/home/logs/namesrv.out" "$W/home/logs/broker.out" >&2
    "$(dirname "$0")/stop.sh"; exit 1
  fi
  if ((SECONDS >= deadline)); then log "rocketmq broker did not register within the time limit"; "$(dirname "$0")/stop.sh"; exit 1; fi
  sleep 1
done
echo "rocketmq ready (namesrv pid $(cat "$W/namesrv.pid"), broker pid $(cat "$W/broker.pid")) at rocketmq://127.0.0.1:$NS_PORT (broker-a at 127.0.0.1:$BR_PORT, store $W/store)"
