# Sourced by scripts and CLI tests: start @20minutes/s3rver on 127.0.0.1.
#   start_s3rver WORK_DIR BUCKET SOURCE_ROOT [--key FILE --cert FILE]
# Sets s3pid and endpoint, exports S3RVER credentials. The server stops when
# fd 3 (its stdin) is closed: `exec 3>&-` in the caller's cleanup.
start_s3rver() {
  local work="$1" bucket="$2" root="$3" port
  shift 3
  mkfifo "$work/s3in"
  node --openssl-legacy-provider "$root/tests/node/start-s3rver.js" "$work/s3data" --bucket "$bucket" "$@" \
    <"$work/s3in" >"$work/s3port" 2>"$work/s3err" &
  s3pid=$!
  exec 3>"$work/s3in"
  for _ in $(seq 100); do grep -q '^PORT ' "$work/s3port" 2>/dev/null && break; sleep 0.1; done
  port="$(sed -n 's/^PORT //p' "$work/s3port")"
  [ -n "$port" ] || { echo "s3rver did not start: $(cat "$work/s3err")" >&2; return 1; }
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
  endpoint="http://127.0.0.1:$port"
}
