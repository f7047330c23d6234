# Sourced by the command's end-to-end tests: run a command and check its
# exit code and output. The caller sets $tmp (a scratch folder) and fail=0.
check() {  # check DESCRIPTION EXPECTED_EXIT COMMAND... ; output in $tmp/out
  local what=$1 want=$2; shift 2
  "$@" >"$tmp/out" 2>&1
  local got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL: $what: exit $got, expected $want"; sed 's/^/    /' "$tmp/out" | head -20; fail=1
  fi
}
contains() {  # contains DESCRIPTION TEXT
  if ! grep -qF -- "$2" "$tmp/out"; then
    echo "FAIL: $1: output lacks '$2'"; sed 's/^/    /' "$tmp/out" | head -30; fail=1
  fi
}
