# fish completion for sl-boot (sltools)
function __sl_boot_vms
    set -l d (set -q SL_RUN_DIR; and echo $SL_RUN_DIR; or echo /run/sl)
    for f in $d/*/vm.env
        basename (dirname $f)
    end
end
complete -c sl-boot -f
complete -c sl-boot -n "not __fish_seen_subcommand_from start stop status snapshot pause resume spare" -a "start stop status snapshot pause resume spare"
complete -c sl-boot -n "__fish_seen_subcommand_from start stop status snapshot pause resume" -a "(__sl_boot_vms)"
complete -c sl-boot -n "__fish_seen_subcommand_from spare" -a "(__fish_complete_directories)"
complete -c sl-boot -s h -l help -d 'show help'
complete -c sl-boot -s V -l version -d 'show version'
complete -c sl-boot -l env -r -F -d 'read SL_* inputs from FILE'
complete -c sl-boot -l json -d 'print JSON'
complete -c sl-boot -l kernel -r -F -d 'kernel'
complete -c sl-boot -l initrd -r -F -d 'initramfs'
complete -c sl-boot -l disk -r -F -d 'root disk image'
complete -c sl-boot -l vcpu -r -d 'vCPUs'
complete -c sl-boot -l mem -r -d 'memory in MB'
complete -c sl-boot -l accel -r -a 'auto kvm tcg' -d 'accelerator'
complete -c sl-boot -l dns -r -d 'name servers'
complete -c sl-boot -l timeout -r -d 'seconds'
complete -c sl-boot -l mode -x -a 'isolated bridge macvtap cni' -d 'network mode'
complete -c sl-boot -l from -r -a '(__fish_complete_directories)' -d 'restore from a snapshot'
complete -c sl-boot -l stop -d 'snapshot: stop the VM after; spare: end the spares'
complete -c sl-boot -l list -d 'spare: count the spares'
complete -c sl-boot -l quick -d 'snapshot: identities only, no SHA-256 (a fork\'s)'
