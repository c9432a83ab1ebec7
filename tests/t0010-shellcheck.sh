#!/usr/bin/env bash
# Every shell script in the project passes shellcheck.
. "$(dirname "$0")/lib.sh"

command -v shellcheck >/dev/null || skip_all "shellcheck is not installed (scripts/install-deps installs it)"
cd "$TOP_DIR" || exit 1
for f in tests/*.sh tests/tsan/*.sh scripts/* .ci/run; do
	[ -f "$f" ] || continue
	ok "$f passes shellcheck" shellcheck -x "$f"
done
done_testing
