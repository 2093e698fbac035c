#!/usr/bin/env bash
# Environment shared by start.sh, stop.sh and anyone running rabbitmqctl against this node:
#   source peers/rabbitmq/env.sh && rabbitmqctl -n "$RABBITMQ_NODENAME" status
# Keeps every file of the node in $MQLAB_PEERS_WORK/rabbitmq and every socket on 127.0.0.1.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
RMQ_W="$MQLAB_PEERS_WORK/rabbitmq"
RMQ_PORT=${RABBITMQ_PORT:-5672}
mkdir -p "$RMQ_W/home" "$RMQ_W/mnesia" "$RMQ_W/logs"
export HOME="$RMQ_W/home"
export RABBITMQ_NODENAME=rabbit@localhost
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=$RMQ_PORT
export RABBITMQ_DIST_PORT=$((RMQ_PORT + 20000))
export RABBITMQ_MNESIA_BASE="$RMQ_W/mnesia"
export RABBITMQ_LOG_BASE="$RMQ_W/logs"
export RABBITMQ_PID_FILE="$RMQ_W/beam.pid"
export RABBITMQ_FEATURE_FLAGS_FILE="$RMQ_W/feature_flags"
export RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_W/enabled_plugins"
export RABBITMQ_CONFIG_FILE="$RMQ_W/rabbitmq.conf"
export RABBITMQ_CONF_ENV_FILE="$RMQ_W/rabbitmq-env.conf"
export RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_W/advanced.config"
export ERL_EPMD_ADDRESS=127.0.0.1
export ERL_EPMD_PORT=${ERL_EPMD_PORT:-4369}
# Distribution on loopback only; schedulers do not busy-wait (2 shared cores).
export RABBITMQ_SERVER_START_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+sbwt none +sbwtdcpu none +sbwtdio none"
export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
RMQ_BIN=/usr/lib/rabbitmq/bin
