# fish completion for sl-exec (sltools)
function __sl_exec_vms
    set -l d (set -q SL_RUN_DIR; and echo $SL_RUN_DIR; or echo /run/sl)
    for f in $d/*/vm.env
        basename (dirname $f)
    end
end
complete -c sl-exec -n "__fish_is_first_arg" -a "shell cp forward console (__sl_exec_vms)"
complete -c sl-exec -n "__fish_seen_subcommand_from shell forward console" -a "(__sl_exec_vms)"
complete -c sl-exec -s h -l help -d 'show help'
complete -c sl-exec -s V -l version -d 'show version'
complete -c sl-exec -s e -l env -r -d 'K=V for the command, or an env FILE'
complete -c sl-exec -l env-file -r -F -d 'read SL_* inputs from FILE'
complete -c sl-exec -s w -l cwd -r -d 'working directory'
complete -c sl-exec -s u -l user -r -d 'user'
complete -c sl-exec -s t -l tty -d 'give the command a pty'
complete -c sl-exec -l attach -d 'attach to the console'
complete -c sl-exec -l max-size -r -d 'cp out of the VM: at most N bytes (K, M, G)'
