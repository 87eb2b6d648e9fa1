/* SPDX-License-Identifier: MIT */
/*
 * The pure parts of net: --network parsing and the auto default, the
 * ruleset text and its canonical description, the hosts file (addresses
 * and names validated), and the initial-namespace detection on this
 * host's own namespace.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "egress.h"
#include "net.h"
#include "sandbox.h"
#include "util.h"

START_TEST(test_parse_mode)
{
	static const char *const bad[] = {"",	   "Private", "netns:", "netns:relative",
					  "netns", "host",    "none "};
	struct net_opts o;
	const char *msg;

	ck_assert_int_eq(net_parse_mode("auto", &o, &msg), 0);
	ck_assert_int_eq(o.mode, NET_AUTO);
	ck_assert_int_eq(net_mode_effective(&o, true), NET_CURRENT);
	ck_assert_int_eq(net_mode_effective(&o, false), NET_PRIVATE);
	ck_assert_int_eq(net_parse_mode("none", &o, &msg), 0);
	ck_assert_int_eq(net_mode_effective(&o, true), NET_NONE);
	ck_assert_int_eq(net_parse_mode("current", &o, &msg), 0);
	ck_assert_int_eq(o.mode, NET_CURRENT);
	ck_assert_int_eq(net_parse_mode("private", &o, &msg), 0);
	ck_assert_int_eq(o.mode, NET_PRIVATE);
	ck_assert_int_eq(net_parse_mode("netns:/run/netns/x", &o, &msg), 0);
	ck_assert_int_eq(o.mode, NET_NETNS);
	ck_assert_str_eq(o.netns_path, "/run/netns/x");
	net_opts_free(&o);
	net_opts_free(&o);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_msg(net_parse_mode(bad[i], &o, &msg) == -EINVAL, "'%s' accepted", bad[i]);
		ck_assert_ptr_nonnull(msg);
	}
}
END_TEST

/* A plan with every kind of egress rule (the golden listing
 * tests/data/nft/berth-table-1.0.6.json is this plan, installed by nft
 * 1.0.6 and listed). */
static void test_plan(struct egress_plan *p)
{
	json_t *fw =
		json_loads("{\"outbound\": [{\"protocol\": \"tcp\", \"ips\": [\"10.1.0.0/16\", "
			   "\"2001:db8::/32\", \"192.0.2.7\"], \"ports\": [443, 80]}, "
			   "{\"domains\": [\"api.example.test\"], \"ports\": [443]}, "
			   "{\"ports\": [8080]}]}",
			   0, NULL);
	json_t *rels = json_loads("{\"emails\": [{\"ip\": \"127.0.0.1\", \"port\": 5672, "
				  "\"host\": \"emails.internal\"}]}",
				  0, NULL);
	json_t *svc =
		json_loads("[{\"name\": \"mysqldb\", \"ip\": \"127.0.0.1\", \"port\": 3306}, "
			   "{\"name\": \"rabbitqueue\", \"ip\": \"127.0.0.1\", \"port\": 5672}, "
			   "{\"name\": \"cache\", \"ip\": \"fd00::5\", \"port\": 6379}]",
			   0, NULL);
	const char *ns[] = {"10.255.255.53", "fd00::53", NULL}, *host[] = {"198.51.100.4", NULL};
	const char *v4[] = {"203.0.113.9", "203.0.113.10", NULL}, *v6[] = {"2001:db8:1::9", NULL};
	struct egress_input in = {fw, rels, svc, "192.0.2.1", host, ns};

	ck_assert_int_eq(egress_plan_build(&in, p), 0);
	egress_set_resolved(p, 1, v4, v6);
	json_decref(fw);
	json_decref(rels);
	json_decref(svc);
}

START_TEST(test_rules_text)
{
	struct egress_plan p;
	char *t;
	json_t *d;

	test_plan(&p);
	t = net_rules_text(&p);

	ck_assert_ptr_nonnull(strstr(t, "table inet berth {"));
	ck_assert_ptr_nonnull(strstr(t, "hook input priority filter; policy drop;"));
	ck_assert_ptr_nonnull(strstr(t, "hook forward priority filter; policy drop;"));
	ck_assert_ptr_nonnull(strstr(t, "hook output priority filter; policy drop;"));
	ck_assert_ptr_nonnull(strstr(t, "iif \"lo\" accept"));
	ck_assert_ptr_nonnull(strstr(t, "ct state established,related accept"));
	ck_assert_ptr_nonnull(strstr(t, "ct state invalid drop"));
	ck_assert_ptr_nonnull(strstr(t, "nd-neighbor-solicit"));
	ck_assert_ptr_nonnull(strstr(t, "packet-too-big"));
	/* the replacement is atomic: add, delete and re-create in one batch */
	ck_assert_ptr_eq(strstr(t, "table inet berth\ndelete table inet berth\n"), t);
	/* in a namespace just made: the same table, no replacement */
	{
		char *f = net_rules_text_fresh(&p);
		const char *body = strstr(t, "table inet berth {");

		ck_assert_ptr_eq(strstr(f, "table inet berth {"), f);
		ck_assert_ptr_null(strstr(f, "delete table"));
		ck_assert_str_eq(f, body);
		free(f);
	}
	/* egress in the same transaction */
	ck_assert_ptr_nonnull(strstr(t, "set fw1_4 {"));
	ck_assert_ptr_nonnull(strstr(t, "tcp dport { 25 } reject with tcp reset"));
	ck_assert_ptr_nonnull(strstr(t, "reject with icmpx admin-prohibited\n\t}\n}\n"));
	free(t);
	d = net_rules_describe(&p);
	/* 3 chains, 2 sets, 5 input rules, 19 output rules */
	ck_assert_uint_eq(json_array_size(d), 29);
	json_decref(d);
	egress_plan_free(&p);
}
END_TEST

static json_t *rels(const char *host, const char *ip)
{
	return json_pack("{s:[{s:s, s:s, s:i}], s:[{s:s}]}", "database", "host", host, "ip", ip,
			 "port", 3306, "nohost", "scheme", "http");
}

START_TEST(test_hosts_render)
{
	json_t *r = rels("database.internal", "10.1.2.3");
	char *out = NULL;

	ck_assert_int_eq(net_hosts_render(r, NULL, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "127.0.0.1\tlocalhost\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n10.1.2.3\tdatabase.internal\n"));
	free(out);
	json_decref(r);

	/* private mode: this host's loopback is slirp4netns's gateway in there */
	r = rels("database.internal", "127.0.0.1");
	ck_assert_int_eq(net_hosts_render(r, NET_SLIRP_GATEWAY, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "\n10.0.2.2\tdatabase.internal\n"));
	ck_assert_ptr_nonnull(strstr(out, "127.0.0.1\tlocalhost\n"));
	free(out);
	ck_assert_int_eq(net_hosts_render(r, NULL, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "\n127.0.0.1\tdatabase.internal\n"));
	free(out);
	json_decref(r);
	r = rels("database.internal", "10.0.0.9");
	ck_assert_int_eq(net_hosts_render(r, "192.0.2.1", &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "\n10.0.0.9\tdatabase.internal\n"));
	free(out);
	json_decref(r);

	r = rels("cache.internal", "fd00::5");
	ck_assert_int_eq(net_hosts_render(r, NULL, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "\nfd00::5\tcache.internal\n"));
	free(out);
	json_decref(r);

	static const char *const bad[][2] = {
		{"db internal", "10.0.0.1"},
		{"db\n10.6.6.6 evil", "10.0.0.1"},
		{"", "10.0.0.1"},
		{"db.internal", "10.0.0"},
		{"db.internal", "10.0.0.1 x"},
		{"db.internal", "localhost"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		r = rels(bad[i][0], bad[i][1]);
		ck_assert_msg(net_hosts_render(r, NULL, &out) == -EINVAL, "%s %s accepted",
			      bad[i][0], bad[i][1]);
		json_decref(r);
	}
}
END_TEST

START_TEST(test_hosts_file)
{
	json_t *r = rels("database.internal", "10.1.2.3");
	struct net_hosts h;

	/* kept in memory: the mount step writes it into the worker's root */
	ck_assert_int_eq(net_hosts_prepare(r, NULL, &h), 0);
	ck_assert_ptr_nonnull(h.text);
	ck_assert_ptr_nonnull(strstr(h.text, "10.1.2.3\tdatabase.internal"));
	net_hosts_release(&h);
	ck_assert_ptr_null(h.text);
	net_hosts_release(&h);
	json_decref(r);
}
END_TEST

START_TEST(test_initial_detection)
{
	_cleanup_close_ int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	struct stat st;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	/* this test runs in the host's namespace when it is the numbered one */
	if (st.st_ino == 0xEFFFFFF9U)
		ck_assert_int_eq(net_netns_is_initial(fd), 1);
	else
		ck_assert_int_ge(net_netns_is_initial(fd), 0);
}
END_TEST

START_TEST(test_sandbox_describe)
{
	struct sandbox_opts o = {.user = "65534:100", .filter = {.allow_local_listen = true}};
	json_t *d = sandbox_describe(&o, false), *v;

	ck_assert_ptr_nonnull(d);
	v = json_object_get(d, "network");
	ck_assert_str_eq(json_string_value(json_object_get(v, "mode")), "private");
	/* slirp4netns's fixed gateway stands for this host's loopback,
	 * whatever berth's own routes are */
	ck_assert_str_eq(json_string_value(json_object_get(v, "loopback_as")), "10.0.2.2");
	/* 3 chains, 5 input rules, 8 output rules (no resolver in this plan
	 * when resolv.conf has none: count what it has) */
	ck_assert_uint_le(json_array_size(json_object_get(v, "rules")), 8 + 8 + 4);
	ck_assert_uint_ge(json_array_size(json_object_get(v, "rules")), 8 + 8);
	ck_assert_str_eq(
		json_string_value(json_object_get(json_object_get(v, "egress"), "firewall")),
		"all TCP (no firewall.outbound)");
	v = json_object_get(d, "user");
	ck_assert_int_eq(json_integer_value(json_object_get(v, "uid")), 65534);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "gid")), 100);
	ck_assert_str_eq(json_string_value(json_object_get(v, "capabilities")), "none");
	v = json_object_get(d, "seccomp");
	ck_assert(json_is_true(json_object_get(v, "enabled")));
	ck_assert_ptr_nonnull(json_object_get(v, "note"));
	/* the Landlock domain stays with --allow-local-listen, without the TCP bind denial */
	v = json_object_get(d, "landlock");
	ck_assert_int_eq(json_integer_value(json_object_get(v, "abi")),
			 landlock_abi() < 0 ? 0 : landlock_abi());
	ck_assert(json_boolean_value(json_object_get(v, "domain")) == (landlock_abi() >= 1));
	ck_assert_str_eq(json_string_value(json_object_get(v, "tcp_bind")), "allowed");
	ck_assert_uint_eq(json_array_size(json_object_get(v, "fs")), landlock_abi() >= 1 ? 2 : 0);
	ck_assert_uint_eq(json_array_size(json_object_get(v, "scoped")),
			  landlock_abi() >= LANDLOCK_SCOPE_MIN_ABI ? 2 : 0);
	json_decref(d);

	o.user = "0x10";
	ck_assert_ptr_null(sandbox_describe(&o, true));
	o.user = NULL;
	d = sandbox_describe(&o, true);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(d, "network"), "mode")),
			 "current");
	json_decref(d);
}
END_TEST

static json_t *golden(void)
{
	json_error_t je;
	json_t *j = json_load_file(TEST_DATA_DIR "/nft/berth-table-1.0.6.json", 0, &je);

	ck_assert_msg(j != NULL, "%s", je.text);
	return j;
}

/* The n-th object of kind ("chain", "rule") in the listing. */
static json_t *nth(json_t *root, const char *kind, size_t n)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(root, "nftables"), i,
			   v) if (json_object_get(v, kind) &&
				  n-- == 0) return json_object_get(v, kind);
	return NULL;
}

/* The element list of the first named set. */
static json_t *set_elems(json_t *root)
{
	return json_object_get(nth(root, "set", 0), "elem");
}

/* Every "meta l4proto NAME" match of the listing with NAME's number, as
 * libnftables lists them where /etc/protocols is missing (a minimal
 * container image); returns how many were changed.  swap: tcp as udp's. */
static int protos_as_numbers(json_t *v, bool swap)
{
	static const struct {
		const char *name;
		int num;
	} protos[] = {{"icmp", 1}, {"tcp", 6}, {"udp", 17}, {"ipv6-icmp", 58}};
	const char *key, *name;
	json_t *m, *e;
	size_t i;
	int n = 0;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e) n += protos_as_numbers(e, swap);
		return n;
	}
	if (!json_is_object(v))
		return 0;
	m = json_object_get(v, "match");
	key = json_string_value(
		json_object_get(json_object_get(json_object_get(m, "left"), "meta"), "key"));
	name = json_string_value(json_object_get(m, "right"));
	if (key && strcmp(key, "l4proto") == 0 && name) {
		for (i = 0; i < ARRAY_SIZE(protos); i++)
			if (strcmp(name, protos[i].name) == 0) {
				int num = swap && protos[i].num == 6 ? 17 : protos[i].num;
				json_object_set_new(m, "right", json_integer(num));
				return 1;
			}
	}
	json_object_foreach(v, key, e) n += protos_as_numbers(e, swap);
	return n;
}

START_TEST(test_rules_check_proto_numbers)
{
	struct egress_plan p;
	json_t *j = golden();

	test_plan(&p);
	ck_assert_int_gt(protos_as_numbers(j, false), 0);
	ck_assert_int_eq(net_rules_check(j, &p), 0);
	json_decref(j);
	j = golden();
	ck_assert_int_gt(protos_as_numbers(j, true), 0); /* tcp listed as 17 */
	ck_assert_int_eq(net_rules_check(j, &p), -EBADMSG);
	json_decref(j);
	egress_plan_free(&p);
}
END_TEST

START_TEST(test_rules_check)
{
	struct egress_plan p;
	json_t *j = golden(), *r, *expr, *a;

	test_plan(&p);
	/* what nft 1.0.6 lists after the installation */
	ck_assert_int_eq(net_rules_check(j, &p), 0);

	/* spelled differently, same rules: explicit dependency, == for a set */
	expr = json_object_get(nth(j, "rule", 3), "expr");
	json_array_insert_new(expr, 0,
			      json_pack("{s:{s:s, s:{s:{s:s}}, s:s}}", "match", "op", "==", "left",
					"meta", "key", "l4proto", "right", "ipv6-icmp"));
	json_object_set_new(json_object_get(json_array_get(expr, 1), "match"), "op",
			    json_string("in"));
	ck_assert_int_eq(net_rules_check(j, &p), 0);
	/* a set element as a /32 prefix, elements in another order, adjacent
	 * addresses as a range: the same set */
	a = set_elems(j);
	json_array_set_new(a, 0,
			   json_pack("{s:{s:s, s:i}}", "prefix", "addr", "203.0.113.9", "len", 32));
	json_array_append_new(a, json_string("203.0.113.10"));
	json_array_remove(a, 1);
	ck_assert_int_eq(net_rules_check(j, &p), 0);
	json_array_clear(a);
	json_array_append_new(a, json_pack("{s:[s, s]}", "range", "203.0.113.9", "203.0.113.10"));
	ck_assert_int_eq(net_rules_check(j, &p), 0);
	json_decref(j);

	/* an extra rule */
	j = golden();
	r = json_deep_copy(json_array_get(json_object_get(j, "nftables"), 7));
	json_object_set_new(json_object_get(r, "rule"), "expr", json_pack("[{s:n}]", "accept"));
	json_array_append_new(json_object_get(j, "nftables"), r);
	ck_assert_int_eq(net_rules_check(j, &p), -EBADMSG);
	json_decref(j);

	/* a policy changed */
	j = golden();
	json_object_set_new(nth(j, "chain", 0), "policy", json_string("accept"));
	ck_assert_int_eq(net_rules_check(j, &p), -EBADMSG);
	json_decref(j);
	j = golden();
	json_object_set_new(nth(j, "chain", 2), "policy", json_string("accept"));
	ck_assert_int_eq(net_rules_check(j, &p), -EBADMSG);
	json_decref(j);

	/* a rule missing, rules reordered, one ICMPv6 type fewer */
	j = golden();
	json_array_remove(json_object_get(j, "nftables"), 8);
	ck_assert_int_eq(net_rules_check(j, &p), -EBADMSG);
	json_decref(j);
	j = golden();
	expr = json_object_get(nth(j, "rule", 3), "expr");
	json_array_remove(
		json_object_get(
			json_object_get(json_object_get(json_array_get(expr, 0), "match"), "right"),
			"set"),
		0);
	ck_assert_int_eq(net_rules_check(j, &p), -EBADMSG);
	json_decref(j);

	/* egress: port 25's reject made an accept; a set element more; an
	 * allowed port more */
	j = golden();
	expr = json_object_get(nth(j, "rule", 8), "expr");
	json_array_set_new(expr, 1, json_pack("{s:n}", "accept"));
	ck_assert_int_eq(net_rules_check(j, &p), -EBADMSG);
	json_decref(j);
	j = golden();
	json_array_append_new(set_elems(j), json_string("198.51.100.1"));
	ck_assert_int_eq(net_rules_check(j, &p), -EBADMSG);
	json_decref(j);
	j = golden();
	expr = json_object_get(nth(j, "rule", 20), "expr");
	json_object_set_new(json_object_get(json_array_get(expr, 1), "match"), "right",
			    json_pack("{s:[i, i, i]}", "set", 80, 443, 8443));
	ck_assert_int_eq(net_rules_check(j, &p), -EBADMSG);
	json_decref(j);

	/* an object of another kind in the table (a set, a chain) */
	j = golden();
	json_array_append_new(json_object_get(j, "nftables"),
			      json_pack("{s:{s:s, s:s, s:s}}", "set", "family", "inet", "table",
					"berth", "name", "x"));
	ck_assert_int_eq(net_rules_check(j, &p), -EBADMSG);
	json_decref(j);
	j = golden();
	r = json_deep_copy(json_array_get(json_object_get(j, "nftables"), 4));
	json_object_set_new(json_object_get(r, "chain"), "name", json_string("sneaky"));
	json_array_append_new(json_object_get(j, "nftables"), r);
	ck_assert_int_eq(net_rules_check(j, &p), -EBADMSG);
	json_decref(j);
	egress_plan_free(&p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_parse_mode);
	tcase_add_test(tc, test_rules_text);
	tcase_add_test(tc, test_rules_check);
	tcase_add_test(tc, test_rules_check_proto_numbers);
	tcase_add_test(tc, test_hosts_render);
	tcase_add_test(tc, test_hosts_file);
	tcase_add_test(tc, test_initial_detection);
	tcase_add_test(tc, test_sandbox_describe);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
