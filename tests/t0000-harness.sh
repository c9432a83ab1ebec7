#!/usr/bin/env bash
# The harness itself: a test script whose scratch directory cannot be made
# in TMPDIR, or is not an empty directory of its own made there, stops at
# once (a TAP "Bail out!" line, non-zero exit) and touches nothing outside;
# a good one keeps programs, HOME, caches and temporaries inside it and is
# removed at the end.
. "$(dirname "$0")/lib.sh"

work=$SCRATCH/work # the current directory of every run below
base=$SCRATCH/base # a good TMPDIR
probe=$SCRATCH/probe.sh
mkdir -p "$work/rel" "$base" "$SCRATCH/keep/sub" "$SCRATCH/empty" "$SCRATCH/fakebin" || exit 1
: >"$SCRATCH/keep/sub/file"
: >"$SCRATCH/afile"

# the smallest test script: sources lib.sh, says where things are, writes
# into its scratch directory and puts a program in its bin/
cat >"$probe" <<EOF || exit 1
#!/usr/bin/env bash
. "$TEST_DIR/lib.sh"
: >"\$SCRATCH/written"
printf '#!/bin/sh\necho fake\n' | scratch_program p2pm-fake-tool || exit 1
echo "# scratch \$SCRATCH"
echo "# home \$HOME"
echo "# cache \$XDG_CACHE_HOME"
echo "# tmp \$TMPDIR"
echo "# tool \$(command -v p2pm-fake-tool) says \$(p2pm-fake-tool)"
echo "reached"
EOF

# an mktemp that prints $FAKE_MKTEMP and exits $FAKE_MKTEMP_RC (0)
cat >"$SCRATCH/fakebin/mktemp" <<'EOF' || exit 1
#!/bin/sh
printf '%s\n' "$FAKE_MKTEMP"
exit "${FAKE_MKTEMP_RC:-0}"
EOF
chmod +x "$SCRATCH/fakebin/mktemp" || exit 1

# snapshot : what a run must leave alone: the root directory's entries and
# every path (type, mode, size) below our scratch directory
snapshot() {
	find / -mindepth 1 -maxdepth 1 -printf '%y %p\n' | sort
	find "$SCRATCH" -mindepth 1 -printf '%y %m %s %p\n' | sort
}

# run_in_work [VAR=VALUE...] SCRIPT : runs SCRIPT from $work with the given
# environment; sets OUT (its stdout), FIRST (its first line),
# RC, UNTOUCHED (1 when the snapshot did not change) and CHANGED (the
# difference otherwise); its stderr is dropped
run_in_work() {
	local before after
	before=$(snapshot)
	RC=0
	OUT=$(cd "$work" && env "$@" </dev/null 2>/dev/null) || RC=$?
	FIRST=$(printf '%s\n' "$OUT" | head -n 1)
	after=$(snapshot)
	UNTOUCHED=1 CHANGED=
	if [ "$before" != "$after" ]; then
		UNTOUCHED=0
		CHANGED=$(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after"))
	fi
}

# untouched DESCRIPTION : the last run changed nothing, or the changes are shown
untouched() {
	is "$UNTOUCHED" 1 "$1"
	[ -z "$CHANGED" ] || tap_quote '#   changed: ' "$CHANGED"
}

# refuses DESCRIPTION [VAR=VALUE...] : the probe run with that environment
# bails out at once, exits non-zero and changes nothing
refuses() {
	local desc=$1
	shift
	run_in_work "$@" timeout 60 bash "$probe"
	like "$FIRST" '^Bail out! probe: ' "$desc: the script bails out"
	ok "$desc: and exits non-zero" test "$RC" -ne 0
	is "$(printf '%s\n' "$OUT" | grep -c '^reached$')" 0 "$desc: and runs nothing after lib.sh"
	untouched "$desc: and touches nothing"
}

# a good TMPDIR: the probe runs, inside its scratch directory, which is gone after
run_in_work TMPDIR="$base" P2PM_KEEP= timeout 60 bash "$probe"
is "$RC" 0 "with a good TMPDIR the probe runs"
is "$(printf '%s\n' "$OUT" | grep -c '^reached$')" 1 "  to its end"
like "$OUT" "# scratch $base/p2pm-probe\.[A-Za-z0-9]+$" "  in a scratch directory made in TMPDIR"
scratch=$(printf '%s\n' "$OUT" | sed -n 's/^# scratch //p')
like "$OUT" "# home $scratch/home" "  with HOME in it"
like "$OUT" "# cache $scratch/xdg-cache" "  and XDG_CACHE_HOME"
like "$OUT" "# tmp $scratch/tmp" "  and TMPDIR"
like "$OUT" "# tool $scratch/bin/p2pm-fake-tool says fake" \
	"  and its programs in its bin/, first on PATH"
untouched "  which is removed at the end, leaving the rest as it was"

refuses "a TMPDIR that does not exist" TMPDIR="$SCRATCH/no/such/dir"
refuses "a TMPDIR that is a file" TMPDIR="$SCRATCH/afile"
refuses "a relative TMPDIR" TMPDIR=rel
refuses "a relative TMPDIR ./" TMPDIR=./
if [ -d /proc/self ]; then
	refuses "a TMPDIR in which no one can make a directory (/proc)" TMPDIR=/proc
else
	skip_test "a TMPDIR in which no one can make a directory (/proc)" "no /proc here"
fi
mkdir "$SCRATCH/ro"
chmod a-w "$SCRATCH/ro"
if [ -w "$SCRATCH/ro" ]; then
	skip_test "a TMPDIR without write permission" "writes are allowed anyway here (root)"
else
	refuses "a TMPDIR without write permission" TMPDIR="$SCRATCH/ro"
fi

# what mktemp made is checked, not trusted
fake() { refuses "$1" PATH="$SCRATCH/fakebin:$PATH" TMPDIR="$base" FAKE_MKTEMP="$2" "${@:3}"; }
fake "an mktemp that fails" "" FAKE_MKTEMP_RC=1
fake "an mktemp that prints nothing" ""
fake "an mktemp that prints /" /
fake "an mktemp that prints a relative path" rel
fake "an mktemp that prints a directory outside TMPDIR" "$SCRATCH/empty"
fake "an mktemp that prints TMPDIR itself" "$base"
fake "an mktemp that prints a path with .." "$base/p2pm-probe.x/../../keep"
mkdir "$base/p2pm-probe.full" && : >"$base/p2pm-probe.full/data"
fake "an mktemp that prints a directory that is not empty" "$base/p2pm-probe.full"
: >"$base/p2pm-probe.file"
fake "an mktemp that prints a file" "$base/p2pm-probe.file"
ln -s "$SCRATCH/empty" "$base/p2pm-probe.link"
fake "an mktemp that prints a link to a directory" "$base/p2pm-probe.link"

# every test script bails out the same way, before doing anything
for t in "$TEST_DIR"/t*.sh; do
	[ "$t" = "$TEST_DIR/$TEST_NAME.sh" ] && continue
	name=$(basename "$t" .sh)
	run_in_work TMPDIR="$SCRATCH/no/such/dir" timeout 120 bash "$t"
	like "$FIRST" "^Bail out! $name: " "$name with a missing TMPDIR bails out"
	ok "  exits non-zero" test "$RC" -ne 0
	untouched "  and touches nothing"
done

# refused_addr: a port the kernel handed out, closed again, checked to refuse
connect_refused() {
	! timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "${1%:*}" "${1##*:}" 2>/dev/null
}
dead=$(refused_addr)
like "$dead" '^127\.0\.0\.1:[0-9]+$' "refused_addr hands out an address on 127.0.0.1"
ok "  on a port the kernel chose, not a fixed low one anything may bind as root" \
	test "${dead##*:}" -ge 1024
ok "  that refuses a connect" connect_refused "$dead"
dead2=$(refused_addr)
ok "  and again on a second call" connect_refused "$dead2"

# every integration script has a number of its own, so that prove's order
# and a failure's name point at one script
dups=$(for t in "$TEST_DIR"/t[0-9]*-*.sh; do t=${t##*/t}; echo "${t%%-*}"; done | sort | uniq -d)
is "$dups" "" "no two test scripts share a number"

chmod u+w "$SCRATCH/ro"
done_testing
