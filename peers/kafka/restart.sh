#!/usr/bin/env bash
# Restart the kafka peer on its existing data (what the conformance adapters' restartBroker() runs).
set -euo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
bash "$DIR/stop.sh"
MQLAB_PEERS_KEEP_DATA=1 bash "$DIR/start.sh"
