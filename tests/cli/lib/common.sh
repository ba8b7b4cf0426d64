# Sourced by the fluss-replay CLI tests: `source .../lib/common.sh NAME`.
# Sets build, src, gen, replay and a work dir /tmp/fluss-NAME-XXXXXX (with a
# tmp/ inside for the replay's temp files) that is removed on exit, together
# with every background process whose pid the test appends to `pids`; defines
# fail() and the 12-column schema the tests generate tables with.
build="${FLUSS_FETCH_BUILD_DIR:?}"
src="${FLUSS_FETCH_SOURCE_DIR:?}"
gen="$build/examples/gen/fluss-gen"
replay="$build/examples/replay/fluss-replay"
work="$(mktemp -d "/tmp/fluss-$1-XXXXXX")"
pids=()
cleanup() {
  exec 3>&- 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
schema="id INT NOT NULL, name STRING, amount BIGINT, price DOUBLE, active BOOLEAN, level TINYINT, code SMALLINT, ratio FLOAT, payload BYTES, day DATE, at TIME, ts TIMESTAMP(6)"
mkdir -p "$work/tmp"
