#!/bin/bash
# Mutation check of the traffic tests (VMs, sl-cni): run them against a mutant (t/mutants/)
# and fail unless every test named for it fails. A negative assertion that
# cannot fail ("! cmd" in the middle of a bats test) shows up here as a test
# that passes against the mutant.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
# check MUTANT FILE NAME...: every test whose name starts with one of NAME
# must fail against MUTANT (names, not positions: a test added before
# another must not move what is checked)
check() {
	local mutant=$1 file=$2; shift 2
	local out name line re=""
	# only the named tests run (a regex of their escaped names): the rest
	# of the file would cost its time for nothing
	for name in "$@"; do
		re+="${re:+|}^$(sed 's/[][\\.*^$(){}+?|/]/\\&/g' <<<"$name")"
	done
	out=$(SL_TEST_MUTANT=$mutant bats --formatter tap -f "$re" "$file" 2>&1)
	for name in "$@"; do
		line=$(grep -E "^(not )?ok [0-9]+ " <<<"$out" | grep -F -- " $name" | head -1)
		if [ -z "$line" ]; then
			echo "mutants: $file has no test named '$name...'" >&2
			rc=1
		elif [[ "$line" == ok* ]]; then
			echo "mutants: $file: '$name...' passes against mutant $mutant: its assertions cannot see it" >&2
			rc=1
		fi
	done
	[ $rc = 0 ] && echo "mutants: $mutant: $# tests of $file fail against it, as they must"
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
exit $rc
