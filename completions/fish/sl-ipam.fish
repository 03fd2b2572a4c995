# fish completion for sl-ipam (sltools)
function __sl_ipam_vms
    set -l d (set -q SL_RUN_DIR; and echo $SL_RUN_DIR; or echo /run/sl)
    for f in $d/*/vm.env
        basename (dirname $f)
    end
end
complete -c sl-ipam -f
complete -c sl-ipam -n "not __fish_seen_subcommand_from alloc release list" -a "alloc release list"
complete -c sl-ipam -n "__fish_seen_subcommand_from alloc release list" -a "(__sl_ipam_vms)"
complete -c sl-ipam -s h -l help -d 'show help'
complete -c sl-ipam -s V -l version -d 'show version'
complete -c sl-ipam -l env -r -F -d 'read SL_* inputs from FILE'
complete -c sl-ipam -l json -d 'print JSON'
complete -c sl-ipam -l range -r -d 'VM range (CIDR)'
complete -c sl-ipam -l group -r -d 'group name'
complete -c sl-ipam -s G -l gateway -r -d 'bridge mode: the bridge address ADDR/P'
complete -c sl-ipam -l address -r -d 'bridge mode: the address to lease'
complete -c sl-ipam -l pool -r -d 'bridge mode: lease from the pool A-B'
complete -c sl-ipam -l lan -d 'macvtap mode: the gateway is the LAN router'
