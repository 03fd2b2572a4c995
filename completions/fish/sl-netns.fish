# fish completion for sl-netns (sltools)
function __sl_netns_vms
    set -l d (set -q SL_RUN_DIR; and echo $SL_RUN_DIR; or echo /run/sl)
    for f in $d/*/vm.env
        basename (dirname $f)
    end
end
complete -c sl-netns -f
complete -c sl-netns -n "not __fish_seen_subcommand_from add del check list" -a "add del check list"
complete -c sl-netns -n "__fish_seen_subcommand_from add del check list" -a "(__sl_netns_vms)"
complete -c sl-netns -s h -l help -d 'show help'
complete -c sl-netns -s V -l version -d 'show version'
complete -c sl-netns -l env -r -F -d 'read SL_* inputs from FILE'
complete -c sl-netns -l json -d 'print JSON'

