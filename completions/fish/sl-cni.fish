# fish completion for sl-cni (sltools): a CNI plugin, run by a container runtime
complete -c sl-cni -f
complete -c sl-cni -s h -l help -d 'show help'
complete -c sl-cni -s V -l version -d 'show version'
