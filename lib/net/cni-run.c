/* SPDX-License-Identifier: MIT */
/*
 * CNI mode: a VM's namespace attached by a CNI chain (CNI spec 1.0.0, the
 * runtime's side): the conflist named by the group's network_name, each
 * plugin run with CNI_* in its environment and its network config on stdin,
 * prevResult passed down the chain; the last result says the VM's address,
 * gateway and name servers. The result is kept for DEL and CHECK.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cidr.h"
#include "cni-run.h"
#include "error.h"
#include "file.h"
#include "json.h"
#include "kv.h"
#include "log.h"
#include "mode.h"
#include "name.h"
#include "netns.h"
#include "spawn.h"
#include "state.h"
#include "util.h"

/* A conflist, a plugin's answer: more is not a config, and not kept. */
#define CNI_JSON_MAX (1u << 20)

static const char *conf_dir(void)
{
	const char *d = getenv("SL_CNI_CONF_DIR");

	return d && *d ? d : SL_CNI_CONF_DIR_DEFAULT;
}

static const char *plugin_path(void)
{
	const char *p = getenv("SL_CNI_PATH");

	return p && *p ? p : SL_CNI_PATH_DEFAULT;
}

/*
 * A JSON file of at most CNI_JSON_MAX bytes, or NULL. @nofollow for the
 * kept result (the run dir's: never through a link); a conflist is the
 * admin's and may be one.
 */
static struct json_object *read_json(const char *path, bool nofollow)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;

	if (sl_read_file(path, CNI_JSON_MAX, nofollow, "a CNI config or result", &buf, &len,
			 NULL) < 0)
		return NULL;
	return json_tokener_parse(buf);
}

/*
 * A .conf (one plugin) as the conflist of that one plugin, so that the
 * rest sees lists only.
 */
static struct json_object *as_list(struct json_object *conf)
{
	struct json_object *list = json_object_new_object(), *plugins = json_object_new_array();
	struct json_object *v;

	if (!list || !plugins) {
		json_object_put(list);
		json_object_put(plugins);
		return NULL;
	}
	if (json_object_object_get_ex(conf, "cniVersion", &v))
		json_object_object_add(list, "cniVersion", json_object_get(v));
	if (json_object_object_get_ex(conf, "name", &v))
		json_object_object_add(list, "name", json_object_get(v));
	json_object_array_add(plugins, json_object_get(conf));
	json_object_object_add(list, "plugins", plugins);
	return list;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static bool conf_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return (n > 9 && !strcmp(d->d_name + n - 9, ".conflist")) ||
	       (n > 5 && !strcmp(d->d_name + n - 5, ".conf")) ||
	       (n > 5 && !strcmp(d->d_name + n - 5, ".json"));
}

static int conf_filter(const struct dirent *d)
{
	return conf_file(d);
}

/*
 * The conflist whose "name" is @network, as libcni finds it: the files of
 * the directory in name order, the first that matches.
 */
static int load_conflist(const char *network, struct json_object **out, struct sl_error *err)
{
	struct dirent **v = NULL;
	const char *dir = conf_dir();
	char unread[256] = ""; /* the first file that is no JSON object: said if NET is not found */
	int n = scandir(dir, &v, conf_filter, by_name), r = -ENXIO;

	*out = NULL;
	if (n < 0)
		return sl_error(err, -ENXIO, "CNI network %s: %s: %s", network, dir,
				strerror(errno));
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct json_object *o = NULL, *plugins;

		snprintf(path, sizeof(path), "%s/%s", dir, v[i]->d_name);
		if (!*out && !(o = read_json(path, false)) && !unread[0])
			snprintf(unread, sizeof(unread), "%s", v[i]->d_name);
		if (o && json_object_is_type(o, json_type_object) && sl_json_str(o, "name") &&
		    !strcmp(sl_json_str(o, "name"), network)) {
			if (!json_object_object_get_ex(o, "plugins", &plugins))
				*out = as_list(o); /* a .conf */
			else if (json_object_is_type(plugins, json_type_array) &&
				 json_object_array_length(plugins) > 0)
				*out = json_object_get(o);
			r = *out ? 0
				 : sl_error(err, -EINVAL, "CNI network %s: %s: no plugins", network,
					    path);
		}
		json_object_put(o);
		free(v[i]);
	}
	free(v);
	if (r == -ENXIO)
		sl_error(err, r, "no CNI network %s in %s (SL_CNI_CONF_DIR)%s%s%s", network, dir,
			 unread[0] ? "; " : "", unread, unread[0] ? " is not JSON" : "");
	return r;
}

/* The plugin binary of @type, in one of @where's directories. */
static int find_plugin(const char *type, const char *where, char *path, size_t len,
		       struct sl_error *err)
{
	char dirs[4096], *save = NULL;

	snprintf(dirs, sizeof(dirs), "%s", where);
	if (!*type || strchr(type, '/') || !strcmp(type, ".") || !strcmp(type, ".."))
		return sl_error(err, -EINVAL, "CNI plugin type '%s' is not a plugin name", type);
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(path, len, "%s/%s", d, type);
		if (access(path, X_OK) == 0)
			return 0;
	}
	return sl_error(err, -ENXIO, "CNI plugin %s: not found in %s%s", type, where,
			where == plugin_path() ? " (SL_CNI_PATH)" : "");
}

/* CNI_CONTAINERID: unique per VM and per SL_RUN_DIR. */
static void container_id(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "sltools-%08x-%s", sl_fnv1a32(sl_run_dir()), name);
}

/* The plugin's own words, from its error JSON (CNI spec: code, msg, details). */
static int plugin_error(const char *type, const char *cmd, const char *out, int status,
			struct sl_error *err)
{
	_cleanup_json_ struct json_object *e = json_tokener_parse(out);
	struct json_object *code;
	const char *msg = sl_json_str(e, "msg"), *details = sl_json_str(e, "details");

	if (!msg)
		return sl_error(err, -EIO, "CNI plugin %s %s failed (exit %d)%s%.200s", type, cmd,
				status, *out ? ": " : "", out);
	return sl_error(err, -EIO, "CNI plugin %s %s: %s%s%s (CNI error code %d)", type, cmd, msg,
			details && *details ? ": " : "", details ? details : "",
			json_object_object_get_ex(e, "code", &code) ? json_object_get_int(code)
								    : 0);
}

/*
 * How long a plugin may take, SL_CNI_TIMEOUT seconds (default 60): a hung
 * plugin must not hold sl-up. Return the milliseconds, or -EINVAL.
 */
static int plugin_timeout_ms(struct sl_error *err)
{
	const char *v = getenv("SL_CNI_TIMEOUT");
	char *end = NULL;
	unsigned long s;

	if (!v || !*v)
		return 60 * 1000;
	errno = 0;
	s = strtoul(v, &end, 10);
	if (errno || *end || s < 1 || s > 3600)
		return sl_error(err, -EINVAL, "bad SL_CNI_TIMEOUT '%s': seconds, 1 to 3600", v);
	return (int)s * 1000;
}

/* A plugin's CNI_* variables, "KEY=VALUE" (or "CNI_ARGS" alone: unset), for sl_spawn. */
struct plugin_env {
	char *own[6];
	const char *env[7];
};

static void plugin_env_free(struct plugin_env *e)
{
	for (size_t i = 0; i < ARRAY_SIZE(e->own); i++)
		free(e->own[i]);
}
#define _cleanup_plugin_env_ __attribute__((cleanup(plugin_env_free)))

static int plugin_env(const struct sl_cni_exec *x, struct plugin_env *e)
{
	const char *const kv[][2] = { { "CNI_COMMAND", x->cmd },   { "CNI_CONTAINERID", x->container },
				      { "CNI_NETNS", x->netns },   { "CNI_IFNAME", x->ifname },
				      { "CNI_PATH", x->path },	   { "CNI_ARGS", x->args } };

	for (size_t i = 0; i < ARRAY_SIZE(kv); i++) {
		if (!kv[i][1]) { /* no CNI_ARGS: none of ours either */
			e->env[i] = kv[i][0];
			continue;
		}
		if (asprintf(&e->own[i], "%s=%s", kv[i][0], kv[i][1]) < 0) {
			e->own[i] = NULL;
			return -ENOMEM;
		}
		e->env[i] = e->own[i];
	}
	return 0;
}

/**
 * sl_cni_exec() - run one CNI plugin and read its answer
 * @x: the plugin's type, CNI_COMMAND and the other CNI_* values
 * @conf: the network config it reads on stdin
 * @result: where an answer that is a JSON object goes, or NULL: none wanted
 * @err: why, when it fails: the plugin's own msg and code when it gave them
 *
 * The plugin gets our environment and the CNI_* variables; its config comes
 * from a memfd, so that a plugin that answers before it reads cannot block
 * us; it has SL_CNI_TIMEOUT seconds, and its answer is kept to 1 MiB.
 *
 * Return: 0, -ENXIO (no such plugin), -ETIMEDOUT, -EIO (it failed), -errno
 */
int sl_cni_exec(const struct sl_cni_exec *x, const char *conf, struct json_object **result,
		struct sl_error *err)
{
	_cleanup_close_ int in = -1;
	_cleanup_free_ char *out = NULL;
	_cleanup_plugin_env_ struct plugin_env ce = { 0 };
	char exe[4096];
	struct sl_spawn sp = { exe, (char *[]){ exe, NULL }, false,
			       { -1, SL_SPAWN_CAPTURE, SL_SPAWN_INHERIT }, ce.env };
	struct sl_spawn_out o = { .max = CNI_JSON_MAX };
	int st, r, timeout;

	if ((r = find_plugin(x->type, x->path, exe, sizeof(exe), err)) < 0 ||
	    (timeout = r = plugin_timeout_ms(err)) < 0)
		return r;
	in = memfd_create("sl-cni-conf", MFD_CLOEXEC);
	if (in < 0 || write(in, conf, strlen(conf)) != (ssize_t)strlen(conf) ||
	    lseek(in, 0, SEEK_SET) < 0)
		return sl_error(err, -errno, "CNI config for %s: %s", x->type, strerror(errno));
	if ((r = plugin_env(x, &ce)) < 0)
		return sl_error(err, r, "CNI plugin %s: no memory for its environment", x->type);
	sp.fd[0] = in;
	r = st = sl_spawn_run(&sp, &o, timeout);
	out = o.buf;
	if (r == -ETIMEDOUT)
		return sl_error(err, r, "CNI plugin %s %s: no answer within %d s (SL_CNI_TIMEOUT)",
				x->type, x->cmd, timeout / 1000);
	if (r < 0)
		return r;
	if (st)
		return plugin_error(x->type, x->cmd, out, st, err);
	if (!result)
		return 0;
	*result = json_tokener_parse(out);
	if (!*result || !json_object_is_type(*result, json_type_object)) {
		json_object_put(*result);
		*result = NULL;
		return sl_error(err, -EIO, "CNI plugin %s %s: its result is not a JSON object",
				x->type, x->cmd);
	}
	return 0;
}

struct run {
	const struct sl_cni_cfg *c;
	const char *cmd; /* ADD DEL CHECK */
	struct json_object *list;
};

/*
 * One plugin of the list, @cmd, with @prev as prevResult (NULL: none), its
 * config completed with the list's name and version. An ADD's result goes
 * to @result.
 */
static int plugin_run(const struct run *x, struct json_object *plugin, struct json_object *prev,
		      struct json_object **result, struct sl_error *err)
{
	_cleanup_json_ struct json_object *conf = NULL;
	const char *type = sl_json_str(plugin, "type");
	char id[128], ns[4096];
	struct json_object *v;
	int r;

	if (!type)
		return sl_error(err, -EINVAL, "CNI network %s: a plugin without \"type\"",
				x->c->network);
	if (json_object_deep_copy(plugin, &conf, NULL) < 0)
		return -ENOMEM;
	if (json_object_object_get_ex(x->list, "name", &v))
		json_object_object_add(conf, "name", json_object_get(v));
	if (json_object_object_get_ex(x->list, "cniVersion", &v))
		json_object_object_add(conf, "cniVersion", json_object_get(v));
	if (prev)
		json_object_object_add(conf, "prevResult", json_object_get(prev));
	container_id(x->c->name, id, sizeof(id));
	if ((r = sl_netns_path(x->c->name, ns, sizeof(ns))) < 0)
		return r;
	return sl_cni_exec(&(struct sl_cni_exec){ .type = type, .cmd = x->cmd, .container = id,
						  .netns = ns, .ifname = x->c->ifname,
						  .path = plugin_path() },
			   json_object_to_json_string_ext(conf, JSON_C_TO_STRING_PLAIN), result,
			   err);
}

static struct json_object *plugin_at(struct json_object *list, size_t i)
{
	struct json_object *plugins;

	json_object_object_get_ex(list, "plugins", &plugins);
	return json_object_array_get_idx(plugins, i);
}

static size_t plugin_count(struct json_object *list)
{
	struct json_object *plugins;

	if (!json_object_object_get_ex(list, "plugins", &plugins) ||
	    !json_object_is_type(plugins, json_type_array))
		return 0;
	return json_object_array_length(plugins);
}

/* DEL of the whole list, last plugin first; the first failure is reported. */
static int chain_del(const struct run *x, struct json_object *prev, struct sl_error *err)
{
	int first = 0;

	for (size_t i = plugin_count(x->list); i-- > 0;) {
		struct sl_error why = { 0 };
		int r = plugin_run(x, plugin_at(x->list, i), prev, NULL, &why);

		if (r < 0 && !first) {
			first = r;
			sl_error(err, r, "%s", sl_error_msg(&why, r));
		}
	}
	return first;
}

static int result_path(const char *name, char *buf, size_t len)
{
	return sl_run_path(buf, len, "%s/%s", name, SL_CNI_RESULT);
}

/* IPv4 "a.b.c.d/p" of a result's ips[] entry. */
static int ip_entry(struct json_object *e, uint32_t *ip, unsigned *prefix)
{
	const char *a = sl_json_str(e, "address");
	struct sl_cidr c;

	if (!a || !strchr(a, '/') || sl_ifaddr_parse(a, ip, &c) < 0)
		return -EINVAL;
	*prefix = c.prefix;
	return 0;
}

/**
 * sl_cni_result_parse() - what a guest needs from a CNI result
 * @json: the result (CNI spec 1.0.0 or 0.4.0 "ips"/"routes"/"dns")
 * @out: SL_IP SL_GW SL_PREFIX, SL_DNS when the result names servers
 * @err: why, when it fails
 *
 * The first IPv4 address of ips[] is the VM's; its gateway, or else the
 * gateway of a default route, is the VM's gateway. Plugins are not ours:
 * every field is checked.
 *
 * Return: 0, or -EINVAL with the error recorded
 */
int sl_cni_result_parse(const char *json, struct sl_kv *out, struct sl_error *err)
{
	_cleanup_json_ struct json_object *res = json_tokener_parse(json);
	struct json_object *ips, *routes, *dns, *ns;
	uint32_t ip = 0, gw = 0;
	unsigned prefix = 0;
	char a[SL_IP_STRLEN], servers[256] = "";
	size_t o = 0;
	int r = 0;

	if (!res || !json_object_is_type(res, json_type_object))
		return sl_error(err, -EINVAL, "the CNI result is not a JSON object");
	if (json_object_object_get_ex(res, "ips", &ips) &&
	    json_object_is_type(ips, json_type_array))
		for (size_t i = 0; i < json_object_array_length(ips) && !ip; i++) {
			struct json_object *e = json_object_array_get_idx(ips, i);
			const char *g = sl_json_str(e, "gateway");

			if (ip_entry(e, &ip, &prefix) < 0) {
				ip = 0;
				continue;
			}
			if (g && sl_ip_parse(g, &gw) < 0)
				gw = 0;
		}
	if (!ip || prefix > 31)
		return sl_error(err, -EINVAL, "the CNI result has no IPv4 address (ips[])");
	if (!gw && json_object_object_get_ex(res, "routes", &routes) &&
	    json_object_is_type(routes, json_type_array))
		for (size_t i = 0; i < json_object_array_length(routes) && !gw; i++) {
			struct json_object *e = json_object_array_get_idx(routes, i);
			const char *d = sl_json_str(e, "dst"), *g = sl_json_str(e, "gw");

			if (d && g && !strcmp(d, "0.0.0.0/0") && sl_ip_parse(g, &gw) < 0)
				gw = 0;
		}
	if (!gw)
		return sl_error(err, -EINVAL,
				"the CNI result gives no gateway (ips[].gateway, or a "
				"default route)");
	if (json_object_object_get_ex(res, "dns", &dns) &&
	    json_object_object_get_ex(dns, "nameservers", &ns) &&
	    json_object_is_type(ns, json_type_array))
		for (size_t i = 0; i < json_object_array_length(ns); i++) {
			const char *s = json_object_get_string(json_object_array_get_idx(ns, i));
			uint32_t x;

			if (!s || sl_ip_parse(s, &x) < 0 || o + SL_IP_STRLEN + 1 >= sizeof(servers))
				continue; /* IPv6 ones: the guest has no IPv6 */
			o += (size_t)snprintf(servers + o, sizeof(servers) - o, "%s%s",
					      o ? "," : "", sl_ip_fmt(x, a));
		}
	r |= sl_kv_set(out, "SL_IP", sl_ip_fmt(ip, a));
	r |= sl_kv_set(out, "SL_GW", sl_ip_fmt(gw, a));
	r |= sl_kv_setf(out, "SL_PREFIX", "%u", prefix);
	if (servers[0])
		r |= sl_kv_set(out, "SL_DNS", servers);
	return r ? -ENOMEM : 0;
}

/* Keep the ADD result beside the VM's env file, never through a link. */
static int result_save(const char *name, struct json_object *res, struct sl_error *err)
{
	char path[4096];
	_cleanup_fclose_ FILE *f = NULL;

	if (result_path(name, path, sizeof(path)) < 0)
		return sl_error(err, -ENAMETOOLONG, "%s: state path too long", name);
	f = sl_run_fopen_new(path);
	if (!f || fputs(json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN), f) < 0 ||
	    fflush(f) != 0)
		return sl_error(err, -errno, "%s: %s", path, strerror(errno));
	return 0;
}

/* What a result gives the VM's env file, with the attachment's keys. */
static int result_kv(const struct sl_cni_cfg *c, struct json_object *res, struct sl_kv *out,
		     struct sl_error *err)
{
	const char *text = json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN);
	int r;

	if ((r = sl_cni_result_parse(text, out, err)) < 0 ||
	    (r = sl_kv_set(out, "SL_MODE", sl_mode_name(SL_NET_CNI))) < 0 ||
	    (r = sl_kv_set(out, "SL_CNI_NETWORK", c->network)) < 0 ||
	    (r = sl_kv_set(out, "SL_CNI_IFNAME", c->ifname)) < 0)
		return r;
	return 0;
}

static const char *const cni_keys[] = { "SL_MODE", "SL_CNI_NETWORK", "SL_CNI_IFNAME", "SL_IP",
					"SL_GW",   "SL_PREFIX",	     "SL_DNS",	      NULL };

/*
 * What sl_cni_add() recorded: the network, the interface and the kept
 * result. Return 1 when the VM has an attachment, 0 when not.
 */
static int attachment(const char *name, struct sl_kv *st, struct sl_cni_cfg *c,
		      struct json_object **res, struct sl_error *err)
{
	char path[4096];
	int r;

	*res = NULL;
	if ((r = sl_state_load(name, st, err)) < 0)
		return r == -ENXIO || r == -ENOENT ? 0 : r;
	c->name = name;
	c->network = sl_kv_get(st, "SL_CNI_NETWORK");
	c->ifname = sl_kv_get(st, "SL_CNI_IFNAME");
	if (!c->network)
		return 0;
	if (!c->ifname)
		c->ifname = SL_CNI_IFNAME_DEFAULT;
	if (result_path(name, path, sizeof(path)) == 0)
		*res = read_json(path, true); /* gone: DEL without prevResult */
	return 1;
}

/*
 * The VM's attachment, when it has one: to the same network by the same
 * interface it is this add's (adding again is harmless, as with the other
 * tools: a re-run of sl-up must not ADD twice, which the reference
 * plugins refuse, and then DEL what runs); to another it is refused.
 * Return 1 with @out filled, 0 when there is none, or -EEXIST.
 */
static int attached(const struct sl_cni_cfg *c, struct sl_kv *out, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv st = { 0 };
	_cleanup_json_ struct json_object *res = NULL;
	struct sl_cni_cfg now = { 0 };
	int r = attachment(c->name, &st, &now, &res, err);

	if (r <= 0)
		return r;
	if (strcmp(now.network, c->network) || strcmp(now.ifname, c->ifname))
		return sl_error(err, -EEXIST,
				"%s is attached to CNI network %s by %s already (sl-cni-run del %s "
				"first)",
				c->name, now.network, now.ifname, c->name);
	if (!res)
		return 0; /* no kept result: attach again */
	r = result_kv(c, res, out, err);
	return r < 0 ? r : 1;
}

/**
 * sl_cni_network_ok() - whether a CNI network can be run: its conflist is
 * there, and each of its plugins
 * @network: the conflist's name
 * @err: why not
 *
 * Return: 0, or -ENXIO / -EINVAL with the error recorded
 */
int sl_cni_network_ok(const char *network, struct sl_error *err)
{
	_cleanup_json_ struct json_object *list = NULL;
	char exe[4096];
	int r = load_conflist(network, &list, err);

	for (size_t i = 0; r == 0 && i < plugin_count(list); i++) {
		const char *type = sl_json_str(plugin_at(list, i), "type");

		r = type ? find_plugin(type, plugin_path(), exe, sizeof(exe), err)
			 : sl_error(err, -EINVAL, "CNI network %s: a plugin without \"type\"",
				    network);
	}
	return r;
}

/**
 * sl_cni_add() - attach a VM's namespace by the CNI chain of a network
 * @c: VM (its namespace must exist), network name, interface name
 * @out: SL_MODE=cni SL_CNI_NETWORK SL_CNI_IFNAME SL_IP SL_GW SL_PREFIX
 *	 (SL_DNS)
 * @err: why, when it fails
 *
 * Each plugin of the conflist gets ADD, with the result of the one before
 * as prevResult. A plugin that fails is reported in its own words, and the
 * whole list gets DEL, so nothing is left. Adding again to the same network
 * gives the kept attachment; to another is -EEXIST.
 *
 * Return: 0; -ENXIO (no such network, plugin or namespace), -EINVAL (a bad
 * conflist or result), -EEXIST (attached to another network), -EIO (a
 * plugin failed); the error recorded
 */
int sl_cni_add(const struct sl_cni_cfg *c, struct sl_kv *out, struct sl_error *err)
{
	_cleanup_json_ struct json_object *list = NULL, *prev = NULL;
	struct run x = { c, "ADD", NULL };
	int r;

	if ((r = sl_name_check(c->name, err)) < 0 ||
	    (r = sl_ifname_check("CNI interface", c->ifname, err)) < 0)
		return r;
	if (sl_netns_exists(c->name) <= 0)
		return sl_error(err, -ENXIO, "%s: no namespace (run sl-netns add %s)", c->name,
				c->name);
	if ((r = attached(c, out, err)) != 0)
		return r < 0 ? r : 0;
	if ((r = load_conflist(c->network, &list, err)) < 0)
		return r;
	x.list = list;
	for (size_t i = 0; i < plugin_count(list); i++) {
		struct json_object *res = NULL;

		r = plugin_run(&x, plugin_at(list, i), prev, &res, err);
		if (r < 0) {
			struct run d = { c, "DEL", list };

			chain_del(&d, prev, NULL);
			return sl_error_wrap(err, r, "%s", c->name);
		}
		json_object_put(prev);
		prev = res;
	}
	{
		struct run d = { c, "DEL", list };

		if ((r = result_kv(c, prev, out, err)) < 0 ||
		    (r = result_save(c->name, prev, err)) < 0 ||
		    (r = sl_state_update(c->name, out, NULL, err)) < 0) {
			chain_del(&d, prev, NULL);
			return sl_error_wrap(err, r, "%s: CNI network %s", c->name, c->network);
		}
	}
	return 0;
}

/**
 * sl_cni_del() - detach a VM: DEL of its network's whole chain
 * @name: the VM
 * @err: why, when it fails
 *
 * Runs also when the namespace is gone (the plugins release what they
 * hold outside it: leases, host links, rules). The kept result is each
 * plugin's prevResult.
 *
 * Return: 0, also when the VM has no attachment; -ENXIO (the conflist is
 * gone) or -EIO (a plugin failed; the others ran), the error recorded
 */
int sl_cni_del(const char *name, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv st = { 0 };
	_cleanup_json_ struct json_object *list = NULL, *res = NULL;
	struct sl_cni_cfg c = { 0 };
	char path[4096];
	int r;

	if ((r = sl_name_check(name, err)) < 0)
		return r;
	if ((r = attachment(name, &st, &c, &res, err)) <= 0)
		return r;
	if ((r = load_conflist(c.network, &list, err)) < 0)
		return sl_error_wrap(err, r, "%s: cannot DEL", name);
	{
		struct run x = { &c, "DEL", list };

		if ((r = chain_del(&x, res, err)) < 0)
			return sl_error_wrap(err, r, "%s", name);
	}
	if (result_path(name, path, sizeof(path)) == 0)
		unlink(path);
	return sl_state_update(name, NULL, cni_keys, err);
}

/**
 * sl_cni_check() - CHECK of a VM's attachment, plugin by plugin
 * @name: the VM
 * @err: why, when it fails
 *
 * Return: 0 when every plugin is content; 1 when the VM has no attachment;
 * -EIO (a plugin found a difference), -EINVAL (a conflist older than
 * 0.4.0 has no CHECK), the error recorded
 */
int sl_cni_check(const char *name, struct sl_error *err)
{
	_cleanup_kv_ struct sl_kv st = { 0 };
	_cleanup_json_ struct json_object *list = NULL, *res = NULL;
	struct sl_cni_cfg c = { 0 };
	const char *version;
	int r;

	if ((r = sl_name_check(name, err)) < 0)
		return r;
	if ((r = attachment(name, &st, &c, &res, err)) < 0)
		return r;
	if (r == 0) {
		sl_info("check: %s: no CNI attachment", name);
		return 1;
	}
	if ((r = load_conflist(c.network, &list, err)) < 0)
		return r;
	version = sl_json_str(list, "cniVersion");
	if (!version || (strncmp(version, "0.4", 3) && version[0] < '1'))
		return sl_error(err, -EINVAL,
				"CNI network %s: cniVersion %s has no CHECK (0.4.0 "
				"or later)",
				c.network, version ? version : "(none)");
	if (!res)
		return sl_error(err, -EIO, "%s: no kept CNI result to CHECK against", name);
	{
		struct run x = { &c, "CHECK", list };

		for (size_t i = 0; i < plugin_count(list); i++)
			if ((r = plugin_run(&x, plugin_at(list, i), res, NULL, err)) < 0)
				return sl_error_wrap(err, r, "%s", name);
	}
	return 0;
}
