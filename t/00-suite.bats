#!/usr/bin/env bats
# The suite itself: assertions that can fail.

@test "no negated command that bats cannot see fail (write '! cmd || false' or 'run ! cmd')" {
	# bats 1.8 runs a test with 'set -e', which ignores a '!' pipeline:
	# only a test's last line would fail on it.
	run grep -nE '^[[:space:]]*! ' "$BATS_TEST_DIRNAME"/*.bats "$BATS_TEST_DIRNAME"/helpers.bash
	bad=$(grep -v -- '|| false' <<<"$output" | grep -v 'helpers.bash:.*; then$' || true)
	[ -z "$bad" ] || { echo "$bad" >&2; false; }
}

@test "no '&&' list of assertions whose first part bats cannot see fail (end it with '|| false')" {
	# 'set -e' ignores a failure in an && list but its last command:
	# '[ a ] && [ b ]' passes whenever a is false, unless the test ends there
	run grep -nE '^[[:space:]]+(\[|grep |kill |test |pid_alive |diff |cmp ).* && ' "$BATS_TEST_DIRNAME"/*.bats
	bad=$(grep -vE '(\|\| (false|true)|&&|\|\||; then|\{|&& (return|break|continue)( [0-9]+)?)[[:space:]]*$' <<<"$output" || true)
	[ -z "$bad" ] || { echo "$bad" >&2; false; }
}

@test "sltools(7) names every tool, and every tool's page points to it" {
	local TOP="$BATS_TEST_DIRNAME/.."
	local t
	for t in "$TOP"/bin/sl-*.c; do
		t=$(basename "$t" .c)
		page=$(ls "$TOP"/man/"$t".[18].scd) # sl-cni, a plugin, is in section 8
		s=${page%.scd}
		s=${s##*.}
		grep -q "^\*$t\*($s)" <(sed -n '/^# SEE ALSO/,$p' "$TOP/man/sltools.7.scd" | tr ',' '\n' | sed 's/^ *//')
		grep -q '\*sltools\*(7)' <(sed -n '/^# SEE ALSO/,$p' "$page")
	done
}

@test "lib/'s layers: no file includes a header of a layer after its own (docs/ARCHITECTURE.md)" {
	local TOP="$BATS_TEST_DIRNAME/.." layers=(base policy kernel net vm cmd compose) bad= i j f h d
	for ((i = 0; i < ${#layers[@]}; i++)); do
		for f in "$TOP/lib/${layers[$i]}"/*.[ch]; do
			for h in $(sed -n 's/^#include "\([^"]*\)"$/\1/p' "$f"); do
				for ((j = i + 1; j < ${#layers[@]}; j++)); do
					[ ! -e "$TOP/lib/${layers[$j]}/$h" ] || bad+="${f#"$TOP/"} includes ${layers[$j]}/$h"$'\n'
				done
			done
		done
	done
	[ -z "$bad" ] || { echo "$bad" >&2; false; }
	# every file of lib/ is in a layer, every folder one of them
	[ -z "$(find "$TOP/lib" -maxdepth 1 -name '*.[ch]')" ]
	for d in "$TOP"/lib/*/; do
		d=$(basename "$d")
		[[ " ${layers[*]} " == *" $d "* ]] || { echo "lib/$d is not a layer" >&2; false; }
	done
}
