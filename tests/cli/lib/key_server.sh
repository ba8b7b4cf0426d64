# Sourced by fluss-get CLI tests: start tests/cli/lib/key_server.py (an S3-like
# server taking keys verbatim, with a stall switch) on 127.0.0.1.
#   start_key_server WORK_DIR SOURCE_ROOT
# Reads the keys from WORK_DIR/objs/keys.txt; the stall switch is the file
# WORK_DIR/stall. Sets kpid and kendpoint, opens fd 5 on the server's stdout
# (read "STALLED <key>" lines from it) and exports dummy credentials. The
# server exits when fd 6 (its stdin) is closed or on SIGTERM.
start_key_server() {
  local work="$1" root="$2" py="${PYTHON3:-/usr/bin/python3}" line
  command -v "$py" >/dev/null || { echo "no $py: cannot run the key server" >&2; return 77; }
  mkfifo "$work/kin" "$work/kout"
  "$py" "$root/tests/cli/lib/key_server.py" "$work/objs" "$work/stall" <"$work/kin" >"$work/kout" 2>"$work/kerr" &
  kpid=$!
  exec 6>"$work/kin" 5<"$work/kout"
  read -r -t 20 line <&5 || { echo "key server did not start: $(cat "$work/kerr")" >&2; return 1; }
  kendpoint="http://127.0.0.1:${line#PORT }"
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
}
# The body key_server.py serves for KEY, written to FILE.
key_body() {
  "${PYTHON3:-/usr/bin/python3}" -c 'import sys
u = ("body of " + sys.argv[1] + "\n").encode()
sys.stdout.buffer.write((u * (100000 // len(u) + 1))[:100000])' "$1" >"$2"
}
