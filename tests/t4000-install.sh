#!/usr/bin/env bash
# Installing like any other Unix program: `make install` puts the programs,
# their man pages (clean under mandoc's or man's lint) and the systemd
# units (which systemd-analyze verifies, man pages included), and `make
# uninstall` removes exactly that.
. "$(dirname "$0")/lib.sh"

prefix=$SCRATCH/prefix
expected="bin/p2pm-client
bin/p2pm-peer
bin/p2pm-tracker
lib/systemd/system/p2pm-peer@.service
lib/systemd/system/p2pm-tracker.service
share/man/man1/p2pm-client.1
share/man/man1/p2pm-peer.1
share/man/man1/p2pm-tracker.1"

# the man pages
for page in "$TOP_DIR"/docs/man/*.1; do
	name=$(basename "$page")
	if command -v mandoc >/dev/null; then
		out=$(mandoc -T lint -W warning "$page" 2>&1)
		is "$out" "" "mandoc -T lint finds nothing to say about $name"
	elif command -v man >/dev/null; then
		out=$(man --warnings -l "$page" 2>&1 >/dev/null)
		is "$out" "" "man --warnings finds nothing to say about $name"
	else
		skip_test "$name passes a man page lint" "neither mandoc nor man is installed"
	fi
done

# install, into a prefix of our own
make -s -C "$TOP_DIR" install PREFIX="$prefix" >"$SCRATCH/install.out" 2>&1
is "$?" 0 "make install PREFIX=... succeeds"
is "$(cd "$prefix" && find . -type f | sed 's|^\./||' | sort)" "$expected" \
	"  installing the three programs, their man pages and two units"
like "$("$prefix/bin/p2pm-client" --version)" '^client \(p2p-music\) ' \
	"  the installed client runs"
is "$(grep -c "^ExecStart=$prefix/bin/p2pm-" "$prefix"/lib/systemd/system/*.service)" \
	"$(printf '%s\n' "$prefix/lib/systemd/system/p2pm-peer@.service:1" \
		"$prefix/lib/systemd/system/p2pm-tracker.service:1")" \
	"  the units start the installed programs"
if command -v man >/dev/null; then
	like "$(MANPATH="$prefix/share/man" man -P cat p2pm-client 2>/dev/null)" \
		"serve" "man p2pm-client finds the installed page, which documents serve"
fi

# the units, as systemd reads them
if command -v systemd-analyze >/dev/null; then
	mkdir "$SCRATCH/units"
	cp "$prefix/lib/systemd/system/p2pm-tracker.service" "$SCRATCH/units/"
	cp "$prefix/lib/systemd/system/p2pm-peer@.service" \
		"$SCRATCH/units/p2pm-peer@$(id -un).service"
	for unit in "$SCRATCH"/units/*.service; do
		out=$(cd "$SCRATCH/units" && MANPATH="$prefix/share/man" \
			systemd-analyze verify "./$(basename "$unit")" 2>&1)
		is "$out" "" "systemd-analyze verify passes $(basename "$unit")"
	done
else
	skip_test "systemd-analyze verify passes the units" "systemd-analyze is not installed"
fi
for unit in "$TOP_DIR"/docs/systemd/*.service; do
	u=$(basename "$unit")
	ok "$u: Type=notify, sandboxed (ProtectSystem=strict, NoNewPrivileges=yes)" \
		bash -c 'grep -qx "Type=notify" "$0" && grep -qx "ProtectSystem=strict" "$0" &&
			grep -qx "NoNewPrivileges=yes" "$0" &&
			grep -Eqx "(DynamicUser=yes|User=.+)" "$0"' "$unit"
done

# uninstall
make -s -C "$TOP_DIR" uninstall PREFIX="$prefix" >"$SCRATCH/uninstall.out" 2>&1
is "$?" 0 "make uninstall succeeds"
is "$(find "$prefix" -type f | wc -l)" 0 "  and leaves none of the installed files"
done_testing
