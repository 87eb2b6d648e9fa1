/* SPDX-License-Identifier: MIT */
/* The egress plan (egress.c, egress-rules.c) and its addresses (netaddr.c). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "egress.h"
#include "netaddr.h"
#include "util.h"

static char *canon(const char *const *v, size_t n)
{
	return netaddr_canon_set(v, n);
}

START_TEST(test_cidr)
{
	static const char *const good[][2] = {
		{"192.0.2.7", "192.0.2.7"},
		{"192.0.2.7/32", "192.0.2.7"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"2001:db8::1/32", "2001:db8::/32"},
		{"::/0", "::/0"},
		{"fd00::1", "fd00::1"},
	};
	static const char *const bad[] = {
		"",	   "10.0.0.0/33", "10.0.0/8",	  "10.0.0.0/", "10.0.0.0/-1",
		"::1/129", "example.com", "10.0.0.0/8/8", "1.2.3.4 ",  "10.0.0.0/08x"};
	struct netaddr a;
	char buf[NETADDR_STRLEN];

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		ck_assert_msg(netaddr_parse_cidr(good[i][0], &a) == 0, "%s refused", good[i][0]);
		netaddr_format(&a, buf);
		ck_assert_str_eq(buf, good[i][1]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(netaddr_parse_cidr(bad[i], &a) == -EINVAL, "'%s' accepted", bad[i]);
	ck_assert_int_eq(netaddr_parse_ip("10.0.0.0/8", &a), -EINVAL);
	ck_assert_int_eq(netaddr_parse_ip("127.0.0.53", &a), 0);
	ck_assert(netaddr_is_loopback(&a));
	ck_assert_int_eq(netaddr_parse_ip("::1", &a), 0);
	ck_assert(netaddr_is_loopback(&a));
	ck_assert_int_eq(netaddr_parse_ip("10.0.0.1", &a), 0);
	ck_assert(!netaddr_is_loopback(&a));
}
END_TEST

START_TEST(test_hostname)
{
	static const char *const good[] = {"example.com", "api.example.test", "localhost",
					   "a-b.c0",	  "example.com.",     "x.y.z.1a"};
	static const char *const bad[] = {
		"",	   ".",	  "-a.com",	   "a-.com", "a..com", "a_b.com",
		"1.2.3.4", "::1", "*.example.com", "a b",    "é.com",  "example.com.."};
	char label[80], many[300];

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		ck_assert_msg(netaddr_valid_hostname(good[i]), "%s refused", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(!netaddr_valid_hostname(bad[i]), "'%s' accepted", bad[i]);
	memset(label, 'a', 64);
	strcpy(label + 64, ".com");
	ck_assert(!netaddr_valid_hostname(label)); /* a 64-character label */
	for (size_t i = 0; i < 127; i++)
		memcpy(many + 2 * i, "a.", 2);
	strcpy(many + 254, "a");
	ck_assert(!netaddr_valid_hostname(many)); /* 255 characters */
}
END_TEST

START_TEST(test_canon_set)
{
	const char *a[] = {"10.0.0.1", "10.0.0.0", "10.0.0.2-10.0.0.3", "192.0.2.7/32"};
	const char *b[] = {"10.0.0.0/30", "192.0.2.7"};
	const char *c[] = {"443", "80", "81", "82"};
	const char *d[] = {"lo"};
	const char *e[] = {"10.0.0.1", "10.0.0.3"};
	const char *f[] = {"10.0.0.0/9", "10.128.0.0/9", "::1", "1-3"};
	char *s;

	s = canon(a, 4);
	ck_assert_str_eq(s, "{10.0.0.0/30,192.0.2.7}");
	free(s);
	s = canon(b, 2);
	ck_assert_str_eq(s, "{10.0.0.0/30,192.0.2.7}");
	free(s);
	s = canon(c, 4);
	ck_assert_str_eq(s, "{80-82,443}");
	free(s);
	s = canon(d, 1);
	ck_assert_str_eq(s, "{lo}");
	free(s);
	s = canon(e, 2);
	ck_assert_str_eq(s, "{10.0.0.1,10.0.0.3}");
	free(s);
	s = canon(f, 4);
	ck_assert_str_eq(s, "{10.0.0.0/8,::1,1-3}");
	free(s);
	s = canon(NULL, 0);
	ck_assert_str_eq(s, "{}");
	free(s);
}
END_TEST

START_TEST(test_resolv)
{
	char **v = egress_parse_resolv("# comment\nnameserver 10.0.0.53\nsearch x\n"
				       "nameserver fe80::1%eth0\nnameserver bogus\n"
				       "nameserver 10.0.0.53\nnameserver\t::1 # x\n");

	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v[0], "10.0.0.53");
	ck_assert_str_eq(v[1], "fe80::1");
	ck_assert_str_eq(v[2], "::1");
	ck_assert_ptr_null(v[3]);
	strv_free(v);
	ck_assert_ptr_null(egress_parse_resolv("search example.com\n"));
}
END_TEST

static json_t *J(const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);

	ck_assert_msg(j != NULL, "%s: %s", s, je.text);
	return j;
}

/* The output chain's canonical rules of a plan, one string. */
static char *rules_of(const struct egress_plan *p)
{
	char **v = NULL;
	size_t n = 0;
	struct strbuf sb = {0};

	egress_want_rules(p, &v, &n);
	for (size_t i = 0; i < n; i++)
		strbuf_printf(&sb, "%s\n", v[i]);
	strv_free(v);
	return strbuf_detach(&sb);
}

/* The example app's mail worker: a relationship to rabbitqueue only. */
START_TEST(test_plan_mail)
{
	json_t *rels = J("{\"emails\": [{\"ip\": \"127.0.0.1\", \"port\": 5672, "
			 "\"instance_ips\": [\"127.0.0.1\"]}]}");
	json_t *svc = J("[{\"name\": \"mysqldb\", \"ip\": \"127.0.0.1\", \"port\": 3306}, "
			"{\"name\": \"rabbitqueue\", \"ip\": \"127.0.0.1\", \"port\": 5672}]");
	const char *ns[] = {"10.0.0.53", "127.0.0.53", NULL}, *host[] = {"198.51.100.4", NULL};
	struct egress_input in = {NULL, rels, svc, "192.0.2.1", host, ns};
	struct egress_plan p;
	char *r;

	ck_assert_int_eq(egress_plan_build(&in, &p), 0);
	ck_assert(p.all_tcp);
	ck_assert_uint_eq(p.n_allow, 1);
	ck_assert_str_eq(p.allow[0].name, "emails");
	/* mysqldb at the gateway and at the host's own address; rabbitqueue
	 * is the relationship's server: not blocked */
	ck_assert_uint_eq(p.n_block, 2);
	r = rules_of(&p);
	ck_assert_str_eq(r,
			 "output: meta oif in {lo} accept\n"
			 "output: ct state in {established,related} accept\n"
			 "output: icmpv6 type in {mld-listener-report,mld2-listener-report,"
			 "nd-neighbor-advert,nd-neighbor-solicit,nd-router-solicit} accept\n"
			 "output: tcp dport in {25} reject tcp reset\n"
			 "output: ip daddr in {192.0.2.1} tcp dport in {3306} reject tcp reset\n"
			 "output: ip daddr in {198.51.100.4} tcp dport in {3306} reject tcp reset\n"
			 "output: ip daddr in {192.0.2.1} tcp dport in {5672} accept\n"
			 "output: ip daddr in {10.0.0.53,192.0.2.1} udp dport in {53} accept\n"
			 "output: ip daddr in {10.0.0.53,192.0.2.1} tcp dport in {53} accept\n"
			 "output: meta l4proto in {tcp} accept\n"
			 "output: meta l4proto in {tcp} reject tcp reset\n"
			 "output: reject icmpx admin-prohibited\n");
	free(r);
	egress_plan_free(&p);

	/* without the loopback mapping (none, current, netns, hook): the
	 * addresses as they are, no host aliases */
	in.loopback_as = NULL;
	in.host_addrs = NULL;
	ck_assert_int_eq(egress_plan_build(&in, &p), 0);
	ck_assert_uint_eq(p.n_block, 1);
	ck_assert_str_eq(p.block[0].name, "mysqldb");
	r = rules_of(&p);
	ck_assert_ptr_nonnull(strstr(
		r, "output: ip daddr in {127.0.0.1} tcp dport in {3306} reject tcp reset\n"));
	free(r);
	egress_plan_free(&p);
	json_decref(rels);
	json_decref(svc);
}
END_TEST

START_TEST(test_plan_firewall)
{
	json_t *fw = J("{\"outbound\": [{\"protocol\": \"tcp\", \"ips\": [\"10.1.2.3/16\", "
		       "\"2001:db8::/32\", \"10.1.0.0/16\"], \"ports\": [443, 80]}, "
		       "{\"domains\": [\"api.example.test\", \"api.example.test\"]}, {}]}");
	json_t *rels = J("{\"db\": [{\"ip\": \"10.0.3.7\", \"port\": 3306}], "
			 "\"app\": [{\"ip\": \"10.0.3.9\", \"port\": null}]}");
	json_t *svc = J("[{\"name\": \"mysqldb\", \"ip\": \"10.0.3.7\", \"port\": 3306}, "
			"{\"name\": \"other\", \"ip\": \"fd00::7\", \"port\": 5432}, "
			"{\"name\": \"noport\", \"ip\": \"10.0.3.8\"}]");
	struct egress_input in = {fw, rels, svc, NULL, NULL, NULL};
	struct egress_plan p;
	const char *v4[] = {"203.0.113.9", NULL};
	char *r, *t, *u;
	struct strbuf sb = {0};
	json_t *d;

	ck_assert_int_eq(egress_plan_build(&in, &p), 0);
	ck_assert(!p.all_tcp);
	ck_assert_uint_eq(p.n_rules, 3);
	ck_assert_str_eq(p.rules[0].cidrs[0], "10.1.0.0/16");
	ck_assert_ptr_null(p.rules[0].cidrs[2]); /* the same network once */
	ck_assert_ptr_null(p.rules[1].domains[1]);
	ck_assert(egress_has_domains(&p));
	ck_assert_uint_eq(p.n_allow, 1); /* a relationship without a port: no rule */
	ck_assert_uint_eq(p.n_block, 1);
	ck_assert_str_eq(p.block[0].name, "other");
	egress_set_resolved(&p, 1, v4, NULL);
	r = rules_of(&p);
	ck_assert_str_eq(strstr(r, "output: tcp dport in {25}"),
			 "output: tcp dport in {25} reject tcp reset\n"
			 "output: ip6 daddr in {fd00::7} tcp dport in {5432} reject tcp reset\n"
			 "output: ip daddr in {10.0.3.7} tcp dport in {3306} accept\n"
			 "output: ip daddr in {10.1.0.0/16} tcp dport in {80,443} accept\n"
			 "output: ip6 daddr in {2001:db8::/32} tcp dport in {80,443} accept\n"
			 "output: ip daddr in {@fw1_4} meta l4proto in {tcp} accept\n"
			 "output: ip6 daddr in {@fw1_6} meta l4proto in {tcp} accept\n"
			 "output: meta l4proto in {tcp} accept\n"
			 "output: meta l4proto in {tcp} reject tcp reset\n"
			 "output: reject icmpx admin-prohibited\n");
	free(r);
	egress_nft_sets(&p, &sb);
	t = strbuf_detach(&sb);
	ck_assert_str_eq(t, "\tset fw1_4 {\n\t\ttype ipv4_addr\n\t\telements = { 203.0.113.9 }\n"
			    "\t}\n\tset fw1_6 {\n\t\ttype ipv6_addr\n\t}\n");
	free(t);
	u = egress_nft_update(&p);
	ck_assert_str_eq(u, "flush set inet berth fw1_4\n"
			    "add element inet berth fw1_4 { 203.0.113.9 }\n"
			    "flush set inet berth fw1_6\n");
	free(u);
	d = egress_describe(&p);
	ck_assert_uint_eq(json_array_size(json_object_get(d, "firewall")), 3);
	ck_assert_str_eq(json_string_value(json_array_get(
				 json_object_get(json_array_get(json_object_get(d, "firewall"), 1),
						 "resolved"),
				 0)),
			 "203.0.113.9");
	json_decref(d);
	egress_plan_free(&p);
	egress_plan_free(&p);

	/* firewall: {} and outbound: null allow all TCP; outbound: [] nothing */
	json_decref(fw);
	in.firewall = fw = J("{}");
	ck_assert_int_eq(egress_plan_build(&in, &p), 0);
	ck_assert(p.all_tcp);
	egress_plan_free(&p);
	json_decref(fw);
	in.firewall = fw = J("{\"outbound\": []}");
	ck_assert_int_eq(egress_plan_build(&in, &p), 0);
	ck_assert(!p.all_tcp);
	r = rules_of(&p);
	ck_assert_ptr_null(strstr(r, "meta l4proto in {tcp} accept"));
	free(r);
	egress_plan_free(&p);
	/* what check refuses, the plan refuses too */
	json_decref(fw);
	in.firewall = fw = J("{\"outbound\": [{\"ips\": [\"10.0.0.0/33\"]}]}");
	ck_assert_int_eq(egress_plan_build(&in, &p), -EINVAL);
	json_decref(fw);
	in.firewall = fw =
		J("{\"outbound\": [{\"ips\": [\"10.0.0.0/8\"], \"domains\": [\"a.b\"]}]}");
	ck_assert_int_eq(egress_plan_build(&in, &p), -EINVAL);
	json_decref(fw);
	in.firewall = fw = J("{\"outbound\": [{\"ports\": [0]}]}");
	ck_assert_int_eq(egress_plan_build(&in, &p), -EINVAL);
	json_decref(fw);
	json_decref(rels);
	json_decref(svc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("egress");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_cidr);
	tcase_add_test(tc, test_hostname);
	tcase_add_test(tc, test_canon_set);
	tcase_add_test(tc, test_resolv);
	tcase_add_test(tc, test_plan_mail);
	tcase_add_test(tc, test_plan_firewall);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
