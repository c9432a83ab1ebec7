#!/usr/bin/env bash
# The man pages and --help cannot drift apart: every flag (and, for the
# client, every command) each program's --help names is in its man page,
# and every flag and command the man page names is one --help gives.
. "$(dirname "$0")/lib.sh"

# help_flags : the flags of a --help text on stdin: those of the usage
# lines ("[-x", "[--xx", "|-q") and of the option lines ("  -x, --xx")
help_flags() {
	grep -oE '(^ +|[[|] ?|, )--?[a-zA-Z][a-zA-Z-]*' | sed 's/^[ [|,]*//' | sort -u
}
# help_commands : the first word of each line of the "commands:" block
help_commands() {
	awk '/^commands:/ { on = 1; next } on && /^$/ { on = 0 }
		on && /^  [a-z]/ { print $1 }' | sort -u
}
# man_flags PAGE : the words after each Fl macro, as flags
man_flags() {
	awk '/^\./ { for (i = 1; i < NF; i++) if ($i == "Fl") {
		w = $(i + 1); gsub(/[^a-zA-Z-]/, "", w)
		if (w != "" && w != "-") print "-" w } }' "$1" | sort -u
}
# man_commands PAGE : the words after each Cm macro that are commands
# (lower-case words; Type=notify and the like are left out)
man_commands() {
	awk '/^\./ { for (i = 1; i < NF; i++) if ($i == "Cm" && $(i + 1) ~ /^[a-z]+$/)
		print $(i + 1) }' "$1" | sort -u
}

for prog in tracker peer client; do
	page=$TOP_DIR/docs/man/p2pm-$prog.1
	"$P2PM_BIN/$prog" --help >"$SCRATCH/$prog.help" 2>&1
	help_flags <"$SCRATCH/$prog.help" >"$SCRATCH/$prog.hflags"
	man_flags "$page" >"$SCRATCH/$prog.mflags"
	ok "$prog --help names flags (found $(wc -l <"$SCRATCH/$prog.hflags"))" \
		test "$(wc -l <"$SCRATCH/$prog.hflags")" -ge 10
	is "$(comm -23 "$SCRATCH/$prog.hflags" "$SCRATCH/$prog.mflags" | tr '\n' ' ')" "" \
		"  every flag of $prog --help is in p2pm-$prog.1"
	is "$(comm -13 "$SCRATCH/$prog.hflags" "$SCRATCH/$prog.mflags" | tr '\n' ' ')" "" \
		"  every flag of p2pm-$prog.1 is one $prog --help gives"
	help_commands <"$SCRATCH/$prog.help" >"$SCRATCH/$prog.hcmds"
	man_commands "$page" >"$SCRATCH/$prog.mcmds"
	if [ "$prog" = client ]; then
		ok "  client --help names its commands (found $(wc -l <"$SCRATCH/$prog.hcmds"))" \
			test "$(wc -l <"$SCRATCH/$prog.hcmds")" -ge 7
	fi
	is "$(comm -3 "$SCRATCH/$prog.hcmds" "$SCRATCH/$prog.mcmds" | tr -d '\t' | tr '\n' ' ')" "" \
		"  $prog --help and p2pm-$prog.1 name the same commands"
done

# the check itself sees a flag missing from a page
sed '/^\.It Fl -shuffle$/d; s/^\.Op Fl -shuffle$//' "$TOP_DIR/docs/man/p2pm-client.1" \
	>"$SCRATCH/cut.1"
is "$(comm -23 "$SCRATCH/client.hflags" <(man_flags "$SCRATCH/cut.1") | tr '\n' ' ')" "--shuffle " \
	"a page without --shuffle is found to miss it"
done_testing
