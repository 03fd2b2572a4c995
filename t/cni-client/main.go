// cni-client: a CNI runtime in a few lines, built on libcni (Debian's
// golang-github-appc-cni-dev), so that sl-cni is tested by the client
// code that runtimes use rather than by our own reading of the spec.
//
//	cni-client add|check|del CONFDIR NETWORK CONTAINERID NETNS IFNAME
//	cni-client gc|status CONFDIR NETWORK [CONTAINERID/IFNAME]...
//	cni-client version CONFDIR NETWORK
//	cni-client bench CONFDIR NETWORK PREFIX N
//
// Plugins come from CNI_PATH; libcni's cache is CNI_CACHE_DIR;
// CNI_PORTMAP=HOSTPORT:PORT asks the portmap plugin to publish a port.
//
// bench is a runtime's view (bench/cni.sh): one process, as containerd or
// podman is, ADDs sandboxes PREFIX-1..N (/run/netns/PREFIX-i, eth0) one
// after another, then DELs them, and prints the µs per ADD and per DEL.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
)

func die(err error) {
	fmt.Fprintln(os.Stderr, "cni-client:", err)
	os.Exit(1)
}

// A 1.1 command libcni 1.1 does not know (GC, STATUS): sent to each
// plugin of the list by libcni's own invoke package, as libcni 1.2 does.
func raw(ctx context.Context, list *libcni.NetworkConfigList, cmd string, valid []map[string]string) {
	for _, p := range list.Plugins {
		var conf map[string]interface{}
		if err := json.Unmarshal(p.Bytes, &conf); err != nil {
			die(err)
		}
		conf["name"] = list.Name
		conf["cniVersion"] = list.CNIVersion
		if cmd == "GC" {
			conf["cni.dev/valid-attachments"] = valid
		}
		b, _ := json.Marshal(conf)
		exe, err := invoke.FindInPath(p.Network.Type, filepath.SplitList(os.Getenv("CNI_PATH")))
		if err != nil {
			die(err)
		}
		args := &invoke.Args{Command: cmd, Path: os.Getenv("CNI_PATH")}
		if err := invoke.ExecPluginWithoutResult(ctx, exe, b, args, nil); err != nil {
			die(err)
		}
	}
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: cni-client CMD CONFDIR NETWORK ...")
		os.Exit(2)
	}
	cmd, dir, network := os.Args[1], os.Args[2], os.Args[3]
	ctx := context.Background()
	list, err := libcni.LoadConfList(dir, network)
	if err != nil {
		die(err)
	}
	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(os.Getenv("CNI_PATH")),
		os.Getenv("CNI_CACHE_DIR"), nil)
	switch cmd {
	case "gc", "status":
		var valid []map[string]string
		for _, a := range os.Args[4:] {
			kv := strings.SplitN(a, "/", 2)
			valid = append(valid, map[string]string{"containerID": kv[0], "ifname": kv[1]})
		}
		if valid == nil {
			valid = []map[string]string{}
		}
		raw(ctx, list, strings.ToUpper(cmd), valid)
		return
	case "bench":
		if len(os.Args) != 6 {
			die(fmt.Errorf("usage: cni-client bench CONFDIR NETWORK PREFIX N"))
		}
		var n int
		if _, err := fmt.Sscanf(os.Args[5], "%d", &n); err != nil || n < 1 {
			die(fmt.Errorf("bad N %q", os.Args[5]))
		}
		rt := func(i int) *libcni.RuntimeConf {
			id := fmt.Sprintf("%s-%d", os.Args[4], i)
			return &libcni.RuntimeConf{ContainerID: id, NetNS: "/run/netns/" + id, IfName: "eth0"}
		}
		t0 := time.Now()
		for i := 1; i <= n; i++ {
			if _, err := cni.AddNetworkList(ctx, list, rt(i)); err != nil {
				die(err)
			}
		}
		t1 := time.Now()
		for i := 1; i <= n; i++ {
			if err := cni.DelNetworkList(ctx, list, rt(i)); err != nil {
				die(err)
			}
		}
		t2 := time.Now()
		fmt.Println(t1.Sub(t0).Microseconds()/int64(n), t2.Sub(t1).Microseconds()/int64(n))
		return
	case "version":
		for _, p := range list.Plugins {
			info, err := cni.GetVersionInfo(ctx, p.Network.Type)
			if err != nil {
				die(err)
			}
			fmt.Println(p.Network.Type, strings.Join(info.SupportedVersions(), " "))
		}
		return
	}
	if len(os.Args) != 7 {
		fmt.Fprintln(os.Stderr, "usage: cni-client add|check|del CONFDIR NETWORK ID NETNS IFNAME")
		os.Exit(2)
	}
	rt := &libcni.RuntimeConf{ContainerID: os.Args[4], NetNS: os.Args[5], IfName: os.Args[6]}
	// CNI_PORTMAP=HOSTPORT:PORT publishes a TCP port (the portmap plugin's capability)
	if pm := os.Getenv("CNI_PORTMAP"); pm != "" {
		var host, port int
		if _, err := fmt.Sscanf(pm, "%d:%d", &host, &port); err != nil {
			die(err)
		}
		rt.CapabilityArgs = map[string]interface{}{"portMappings": []map[string]interface{}{
			{"hostPort": host, "containerPort": port, "protocol": "tcp"}}}
	}
	switch cmd {
	case "add":
		res, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			die(err)
		}
		if err := res.Print(); err != nil {
			die(err)
		}
	case "check":
		err = cni.CheckNetworkList(ctx, list, rt)
	case "del":
		err = cni.DelNetworkList(ctx, list, rt)
	default:
		fmt.Fprintln(os.Stderr, "cni-client: unknown command", cmd)
		os.Exit(2)
	}
	if err != nil {
		die(err)
	}
}
