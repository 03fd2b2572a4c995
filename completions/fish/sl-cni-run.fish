# fish completion for sl-cni-run (sltools)
function __sl_cni_run_vms
    set -l d (set -q SL_RUN_DIR; and echo $SL_RUN_DIR; or echo /run/sl)
    for f in $d/*/vm.env
        basename (dirname $f)
    end
end
complete -c sl-cni-run -f
complete -c sl-cni-run -n "not __fish_seen_subcommand_from add del check" -a "add del check"
complete -c sl-cni-run -n "__fish_seen_subcommand_from add del check" -a "(__sl_cni_run_vms)"
complete -c sl-cni-run -s h -l help -d 'show help'
complete -c sl-cni-run -s V -l version -d 'show version'
complete -c sl-cni-run -l env -r -F -d 'read SL_* inputs from FILE'
complete -c sl-cni-run -l json -d 'print JSON'
complete -c sl-cni-run -s n -l network -x -d 'the CNI network (conflist name)'
complete -c sl-cni-run -l ifname -x -d 'the interface the chain makes'
