#!/bin/bash
# Mutation check of the traffic tests (VMs, sl-cni, sl-up): run them against
# a mutant (t/mutants/) and fail unless every test named for it fails. A
# negative assertion that cannot fail ("! cmd" in the middle of a bats test)
# shows up here as a test that passes against the mutant.
#
# A mutant reaches the tools through a wrapper (t/mutants/KIND/sl-egress,
# sl-cni: the real tool, then its rules undone) and sl-up, which calls the
# library in process, through its test build (t/mutants/sl-up: SL_MUTANT,
# lib/base/fault.h). The checks run SL_TEST_JOBS (3) at once, each in a lane.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=${SL_TEST_JOBS:-3}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "mutants: bad SL_TEST_JOBS '$jobs'" >&2; exit 2; }
[ -x bin/.sl-up-fault ] || { echo "mutants: no bin/.sl-up-fault: run make bin/.sl-up-fault" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# run_check LANE MUTANT FILE NAME...: every test whose name starts with one
# of NAME must fail against MUTANT (names, not positions: a test added
# before another must not move what is checked). Status 1 if one passes.
run_check() {
	local lane=$1 mutant=$2 file=$3 out name line re="" rc=0
	shift 3
	# only the named tests run (a regex of their escaped names): the rest
	# of the file would cost its time for nothing
	for name in "$@"; do
		re+="${re:+|}^$(sed 's/[][\\.*^$(){}+?|/]/\\&/g' <<<"$name")"
	done
	out=$(SL_TEST_LANE=$lane SL_TEST_MUTANT=$mutant bats --formatter tap -f "$re" "$file" 2>&1)
	for name in "$@"; do
		line=$(grep -E "^(not )?ok [0-9]+ " <<<"$out" | grep -F -- " $name" | head -1)
		if [ -z "$line" ]; then
			echo "mutants: $file has no test named '$name...'"
			rc=1
		elif [[ "$line" == ok* ]]; then
			echo "mutants: $file: '$name...' passes against mutant $mutant: its assertions cannot see it"
			rc=1
		fi
	done
	[ $rc = 0 ] && echo "mutants: $mutant: $# tests of $file fail against it, as they must"
	return $rc
}

checks=()
# check MUTANT FILE NAME...: queued, run below
check() {
	checks+=("$(printf '%q ' "$@")")
}
check ns-drop t/70-traffic.bats \
	"drop only: the internet answers" \
	"allow only is a whitelist" \
	"drop 0.0.0.0/0 cuts the VM off" \
	"a VM reaches no other VM" \
	"a VM that changes its address gets nothing out" \
	"policy vectors with real traffic" \
	"denials are logged with the entry that decided" \
	"the cloud metadata address is dropped by default"
check host-open t/70-traffic.bats \
	"a VM reaches no other VM"
check host-open t/89-cni-plugin.bats \
	"a sandbox or a LAN host that borrows a VM range's address"
check order-reversed t/70-traffic.bats \
	"allow only is a whitelist" \
	"policy vectors with real traffic" \
	"the cloud metadata address is dropped by default"
check spoof-open t/70-traffic.bats \
	"a VM that changes its address gets nothing out" \
	"denials are logged with the entry that decided"
check ns-drop t/91-spare.bats \
	"a VM from a spare is held by its own policy"
check spoof-open t/91-spare.bats \
	"a VM from a spare is held by its own policy"
check names-open t/72-dns.bats \
	"an allowed name resolves at the gateway" \
	"a resolved address stops being reachable" \
	"a name never opens what a drop covers"
check cni-drop t/89-cni-plugin.bats \
	"libcni: ADD, CHECK, DEL chained" \
	"libcni: 64 parallel ADDs" \
	"two networks, two policies" \
	"ipam delegated to host-local" \
	"podman --network-backend cni"
# through sl-up: real VMs, its test build
check ns-drop t/95-up.bats \
	"agents (drop the LAN)"
check host-open t/95-up.bats \
	"agents (drop the LAN)"
check spoof-open t/95-up.bats \
	"agents (drop the LAN)"
check order-reversed t/95-up.bats \
	"booted VMs: Slicer's generated allow 0.0.0.0/0 + drop LAN"
check names-open t/95-up.bats \
	"a booted VM with names in allow"

# lane L takes checks L, L+jobs, L+2*jobs...: one lane's at a time, in order
for ((lane = 0; lane < jobs; lane++)); do
	(
		rc=0
		for ((i = lane; i < ${#checks[@]}; i += jobs)); do
			eval "run_check $lane ${checks[i]}" || rc=1
		done
		exit $rc
	) >"$out/$lane.log" 2>&1 &
done
rc=0
for ((lane = 0; lane < jobs; lane++)); do
	wait -n || rc=1
done
cat "$out"/*.log
exit $rc
