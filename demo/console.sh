#!/usr/bin/env bash
# `make console`: the marketplace simulators, the daemon (`ikm-sync run`) and the
# console (`ikm-sync serve`) together on the data `make demo` left, in the foreground.
# Ctrl-C (or SIGTERM) stops all three; when one of them exits, the others are stopped.
set -euo pipefail

BIN=${BIN:-.venv/bin}
DEMO_DIR=${DEMO_DIR:-var/demo}
CONSOLE_PORT=${CONSOLE_PORT:-8000}
CONFIG=$DEMO_DIR/bound.toml # the demo's settings with its TikTok Shop account
export IKMSYNC_SECRETS_DIR="$PWD/demo/secrets"

if [ ! -f "$CONFIG" ] || ! compgen -G "$DEMO_DIR/simulators.*.json" >/dev/null; then
  echo "No demo data in $DEMO_DIR: run 'make demo' first." >&2
  exit 1
fi

pids=()
interrupted=0
alive() { kill -0 "$1" 2>/dev/null; }
# Stops the three: after Ctrl-C each already has its SIGINT (the terminal sends it to
# them all) and gets 20 s to finish; the ones left then get SIGTERM, then SIGKILL.
stop() {
  trap - INT TERM EXIT
  local pid round
  if [ "$interrupted" -eq 130 ]; then
    for round in $(seq 200); do
      for pid in "${pids[@]}"; do alive "$pid" && break; done
      alive "$pid" || break
      sleep 0.1
    done
  fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for round in $(seq 150); do
    for pid in "${pids[@]}"; do alive "$pid" && break; done
    alive "$pid" || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped: console, daemon and simulators"
}
trap stop EXIT
trap 'interrupted=130' INT
trap 'interrupted=143' TERM

"$BIN/ikm-sync" simulate --state "$DEMO_DIR/simulators.json" \
  >"$DEMO_DIR/simulate.out" 2>"$DEMO_DIR/simulate.log" &
pids+=($!)
"$BIN/python" - <<'PY'
import sys, time, httpx
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        for port in (8700, 8701, 8702, 8703, 8704):
            httpx.get(f"http://127.0.0.1:{port}/_sim/requests", timeout=1)
        break
    except httpx.HTTPError:
        time.sleep(0.1)
else:
    sys.exit("the simulators did not start; see var/demo/simulate.log (ports 8700-8704 in use?)")
PY
echo "simulators: http://127.0.0.1:8701-8704 (log: $DEMO_DIR/simulate.log)"

"$BIN/ikm-sync" --config "$CONFIG" run >"$DEMO_DIR/daemon.log" 2>&1 &
pids+=($!)
echo "daemon: ikm-sync run (log: $DEMO_DIR/daemon.log)"

"$BIN/ikm-sync" --config "$CONFIG" serve --port "$CONSOLE_PORT" \
  >"$DEMO_DIR/console.log" 2>&1 &
pids+=($!)
"$BIN/python" - "$CONSOLE_PORT" <<'PY'
import sys, time, httpx
url = f"http://127.0.0.1:{sys.argv[1]}/login"
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        if httpx.get(url, timeout=1).status_code == 200:
            break
    except httpx.HTTPError:
        pass
    time.sleep(0.1)
else:
    sys.exit("the console did not start; see var/demo/console.log")
PY
cat <<EOF
console: http://127.0.0.1:$CONSOLE_PORT/ (log: $DEMO_DIR/console.log)
  sign in as admin, auditor, officer.ntt or officer.lapas with the demo password
  (printed by 'make demo'; default ikm-sync-demo). Ctrl-C stops all three.
EOF

# Until Ctrl-C (or SIGTERM), or until one of the three exits.
wait -n "${pids[@]}" || true
if [ "$interrupted" -ne 0 ]; then
  exit "$interrupted"
fi
echo "one of the three stopped; stopping the others" >&2
exit 1
