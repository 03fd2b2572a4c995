# fish completion for sl-egress (sltools)
function __sl_egress_vms
    set -l d (set -q SL_RUN_DIR; and echo $SL_RUN_DIR; or echo /run/sl)
    for f in $d/*/vm.env
        basename (dirname $f)
    end
end
complete -c sl-egress -f
complete -c sl-egress -n "not __fish_seen_subcommand_from apply test log show check flush" -a "apply test log show check flush"
complete -c sl-egress -n "__fish_seen_subcommand_from apply test log show check flush" -a "(__sl_egress_vms)"
complete -c sl-egress -s h -l help -d 'show help'
complete -c sl-egress -s V -l version -d 'show version'
complete -c sl-egress -l env -r -F -d 'read SL_* inputs from FILE'
complete -c sl-egress -l json -d 'print JSON'
complete -c sl-egress -s a -l allow -r -d 'allow a destination (CIDR)'
complete -c sl-egress -s d -l drop -r -d 'drop a destination (CIDR)'
complete -c sl-egress -l ip -r -d 'VM address'
complete -c sl-egress -l range -r -d 'VM range'
complete -c sl-egress -l mode -x -a 'isolated bridge' -d 'network mode'
complete -c sl-egress -l bridge -r -d 'bridge mode: the VM'\''s bridge'
complete -c sl-egress -s f -l follow -d 'log: print denials as they happen'
complete -c sl-egress -l stats -d 'show: counters per rule and per entry'
complete -c sl-egress -l dns-upstream -r -d 'names in allow: the servers the resolver asks'
complete -c sl-egress -l rate-out -r -d 'cap what the VM sends (e.g. 100mbit)'
complete -c sl-egress -l rate-in -r -d 'cap what the VM receives'
