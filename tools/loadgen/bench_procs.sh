#!/bin/sh
# bench_procs.sh: loadgen against the real eai_lsnr process.
# A temporary M1 home with random SysV keys (0x7e......), loadgen --sink as
# the DIST consumer, bin/eai_lsnr, then loadgen with 8 connections; the
# processes are stopped with SIGTERM and the segments removed at the end.
# Usage: tools/loadgen/bench_procs.sh [BIN_DIR] [loadgen flags...]
# make bench-lsnr: tools/loadgen/bench_procs.sh bin -n 300000 --window 8 -q --baseline --line
set -eu
BIN=${1:-bin}; [ $# -gt 0 ] && shift
HOME_DIR=$(mktemp -d /tmp/m1-bench-XXXXXX)
PORT=$(( 20000 + $$ % 20000 ))
rnd() { printf '0x7e%06x' $(( ($(od -An -N3 -tu4 /dev/urandom | tr -d ' ') ) % 16777216 )); }
mkdir -p "$HOME_DIR/etc"
HASH=$(printf 'benchpass' | "$BIN/m1passwd" 2>/dev/null || true)
[ -n "$HASH" ] || { echo "bench_procs: m1passwd not built in $BIN" >&2; exit 1; }
cat > "$HOME_DIR/etc/m1.toml" <<EOT
[proctab]
key = "$(rnd)"
[eai_lsnr]
default_tps = 1000000
[[eai_lsnr.port]]
listen = "127.0.0.1:$PORT"
mode = "shared"
[[queue]]
name = "DIST.R"
key = "$(rnd)"
capacity = 4096
full = "spill"
[[queue]]
name = "DIST.S"
key = "$(rnd)"
capacity = 4096
full = "spill"
[[queue]]
name = "DIST.B"
key = "$(rnd)"
capacity = 4096
full = "spill"
[[queue]]
name = "RPT"
key = "$(rnd)"
[[queue]]
name = "DBX"
key = "$(rnd)"
[[queue]]
name = "SND.KT1"
key = "$(rnd)"
[[sender]]
id = "KT1"
carrier = "KT"
dialect = "kt"
servers = ["127.0.0.1:17001"]
login = "x"
password = "y"
EOT
cat > "$HOME_DIR/etc/clients.toml" <<EOT
[[client]]
id = "BENCH01"
name = "bench"
password = "$HASH"
tps = 100000000
EOT
: > "$HOME_DIR/etc/dedicated.conf"
echo "BENCH01 0215880000" > "$HOME_DIR/etc/callbacks.conf"
echo "default KT" > "$HOME_DIR/etc/pnx.conf"
for c in KT SKT LGT; do printf '[[route]]\nname = "%s"\ncarrier = "%s"\nsenders = "KT1=1"\n' "$c" "$c"; done > "$HOME_DIR/etc/routes.toml"

"$BIN/loadgen" --sink "$HOME_DIR" --sink-remove > "$HOME_DIR/sink.out" 2>&1 &
SINK=$!
sleep 0.5
M1_HOME="$HOME_DIR" "$BIN/eai_lsnr" > "$HOME_DIR/lsnr.out" 2>&1 &
LSNR=$!
sleep 1
status=0
"$BIN/loadgen" --addr "127.0.0.1:$PORT" --id BENCH01 --password benchpass -c 8 "$@" > "$HOME_DIR/loadgen.out" || status=$?
kill -TERM $LSNR; wait $LSNR || true
kill -TERM $SINK; wait $SINK || true
grep "^sink:" "$HOME_DIR/sink.out" || true
grep -v "^lsnr:" "$HOME_DIR/loadgen.out" || true
grep "^lsnr:" "$HOME_DIR/loadgen.out" || true
if [ -n "${KEEP:-}" ]; then echo "kept $HOME_DIR" >&2; else rm -rf "$HOME_DIR"; fi
exit $status
