# fish completion for sl-tap (sltools)
function __sl_tap_vms
    set -l d (set -q SL_RUN_DIR; and echo $SL_RUN_DIR; or echo /run/sl)
    for f in $d/*/vm.env
        basename (dirname $f)
    end
end
complete -c sl-tap -f
complete -c sl-tap -n "not __fish_seen_subcommand_from add del check" -a "add del check"
complete -c sl-tap -n "__fish_seen_subcommand_from add del check" -a "(__sl_tap_vms)"
complete -c sl-tap -s h -l help -d 'show help'
complete -c sl-tap -s V -l version -d 'show version'
complete -c sl-tap -l env -r -F -d 'read SL_* inputs from FILE'
complete -c sl-tap -l json -d 'print JSON'
complete -c sl-tap -l gw -r -d 'gateway address'
complete -c sl-tap -l tap -r -d 'TAP name'
complete -c sl-tap -s b -l bridge -r -d 'bridge mode, on this bridge'
complete -c sl-tap -s m -l macvtap -x -a '(__fish_print_interfaces)' -d 'macvtap mode, on this parent'
complete -c sl-tap -l mode -x -a 'isolated bridge macvtap cni' -d 'network mode'
