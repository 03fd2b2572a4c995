# fish completion for sl-gc (sltools)
complete -c sl-gc -f
complete -c sl-gc -s n -l dry-run -d 'list what would be removed'
complete -c sl-gc -s h -l help -d 'show help'
complete -c sl-gc -s V -l version -d 'show version'
