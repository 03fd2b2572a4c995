# A Nomad job whose tasks reach only what the sl-agents network allows
# (examples/nomad/sl-agents.conflist, in every client's cni_config_dir).
# On paper: Nomad is not installable where sltools is tested; the conflist
# is what t/89-cni-plugin.bats runs through libcni and podman.
#
# Every client: /opt/cni/bin (Nomad's default cni_path) holds sl-cni,
# portmap and bandwidth (or set cni_path = "/usr/lib/cni", where the
# Debian packages put them), and
#   client { cni_config_dir = "/etc/cni/net.d" }
job "agents" {
  datacenters = ["dc1"]
  type        = "service"

  group "agent" {
    count = 16

    network {
      # isolated mode: a /30 per allocation, the list above, nothing new in
      mode = "cni/sl-agents"
      port "http" {
        to = 8080 # published through portmap: the one way in
      }
    }

    task "agent" {
      driver = "docker"
      config {
        image = "registry.example.com/agent:1.4"
        ports = ["http"]
      }
      resources {
        cpu    = 500
        memory = 256
      }
    }
  }
}
