#!/usr/bin/env bash
# Shared helpers for the peer start/stop scripts. Sourced, not run.
# Everything a peer writes lives under $MQLAB_PEERS_WORK (default peers/.work, git-ignored).

PEERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MQLAB_PEERS_WORK="${MQLAB_PEERS_WORK:-$PEERS_DIR/.work}"
mkdir -p "$MQLAB_PEERS_WORK"

log() { printf '[peers %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# True when the pid in file $1 is alive.
pid_alive() { [[ -s "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_until SECONDS DESCRIPTION CMD... : retry CMD every 0.5 s until it succeeds or time runs out.
wait_until() {
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  log "timed out after ${limit}s waiting for $what"
  return 1
}

# stop_pid PIDFILE NAME [GRACE_SECONDS]: TERM, wait, then KILL the one process in PIDFILE.
stop_pid() {
  local file=$1 name=$2 grace=${3:-20}
  if ! pid_alive "$file"; then rm -f "$file"; return 0; fi
  local pid; pid=$(cat "$file")
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + grace))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.3; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) did not stop in ${grace}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
  log "$name stopped (pid $pid)"
}

# maven_copy POM DEST: copy a Maven project's runtime dependencies to DEST once (cached by a
# stamp holding the pom's checksum), so a second start does not touch the registry.
maven_copy() {
  local pom=$1 dest stamp sum
  dest=$(realpath -m "$2"); stamp="$dest/.resolved"   # absolute: Maven resolves paths against the pom's folder
  sum=$(sha256sum "$pom" | cut -d' ' -f1)
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$sum" ]]; then return 0; fi
  command -v mvn >/dev/null || { log "mvn not found: install Maven (and a JDK 17) first"; return 1; }
  rm -rf "$dest"; mkdir -p "$dest"
  log "resolving $(basename "$(dirname "$pom")") jars from Maven Central into $dest"
  if ! mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$dest" -DincludeScope=runtime >"$dest/../mvn.log" 2>&1; then
    log "maven resolution failed; see $dest/../mvn.log"; tail -20 "$dest/../mvn.log" >&2; return 1
  fi
  echo "$sum" >"$stamp"
}

need_java() { command -v java >/dev/null || { log "java not found: install a JDK 17"; return 1; }; }
