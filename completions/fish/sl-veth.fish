# fish completion for sl-veth (sltools)
function __sl_veth_vms
    set -l d (set -q SL_RUN_DIR; and echo $SL_RUN_DIR; or echo /run/sl)
    for f in $d/*/vm.env
        basename (dirname $f)
    end
end
complete -c sl-veth -f
complete -c sl-veth -n "not __fish_seen_subcommand_from add del check" -a "add del check"
complete -c sl-veth -n "__fish_seen_subcommand_from add del check" -a "(__sl_veth_vms)"
complete -c sl-veth -s h -l help -d 'show help'
complete -c sl-veth -s V -l version -d 'show version'
complete -c sl-veth -l env -r -F -d 'read SL_* inputs from FILE'
complete -c sl-veth -l json -d 'print JSON'
complete -c sl-veth -l ip -r -d 'VM address'
complete -c sl-veth -l peer -r -d 'peer interface name'
