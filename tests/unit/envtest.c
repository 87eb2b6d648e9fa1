/* SPDX-License-Identifier: MIT */
/*
 * Reading a built worker environment in the unit tests (test-env and
 * test-env-app share these).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "envtest.h"
#include "pyjson.h"

const char envtest_rels_queue[] =
	"{\"database\": [{\"cluster\": \"abcdefgh12345-main-abcd123\", \"epoch\": 0, "
	"\"fragment\": null, \"host\": \"database.internal\", \"host_mapped\": false, "
	"\"hostname\": \"database.internal\", \"instance_ips\": [\"127.0.0.1\"], "
	"\"ip\": \"127.0.0.1\", \"password\": \"\", \"path\": \"main\", \"port\": 3306, "
	"\"public\": false, \"query\": {\"is_master\": true}, \"rel\": \"mysql\", "
	"\"scheme\": \"mysql\", \"service\": \"mysqldb\", \"type\": \"mariadb:10.6\", "
	"\"username\": \"user\"}], "
	"\"messages\": [{\"cluster\": \"abcdefgh12345-main-abcd123\", \"epoch\": 0, "
	"\"fragment\": null, \"host\": \"messages.internal\", \"host_mapped\": false, "
	"\"hostname\": \"messages.internal\", \"instance_ips\": [\"127.0.0.1\"], "
	"\"ip\": \"127.0.0.1\", \"password\": \"guest\", \"path\": null, \"port\": 5672, "
	"\"public\": false, \"query\": {}, \"rel\": \"rabbitmq\", \"scheme\": \"amqp\", "
	"\"service\": \"rabbitqueue\", \"type\": \"rabbitmq:3.13\", \"username\": \"guest\"}]}";

const char *envtest_get(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (char **p = envp; *p; p++)
		if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
			return *p + n + 1;
	return NULL;
}

char *envtest_get_decoded(char **envp, const char *name)
{
	const char *v = envtest_get(envp, name);
	unsigned char *out;
	size_t len;

	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(base64_decode(v, strlen(v), &out, &len), 0);
	ck_assert_uint_eq(strlen((char *)out), len);
	return (char *)out;
}

json_t *envtest_get_json(char **envp, const char *name)
{
	char *text = envtest_get_decoded(envp, name);
	json_t *j = json_loads(text, 0, NULL);
	char *again;

	ck_assert_ptr_nonnull(j);
	/* The text is exactly Python's json.dumps(sort_keys=True) of itself. */
	ck_assert_int_eq(pyjson_dumps(j, &again), 0);
	ck_assert_str_eq(again, text);
	free(again);
	free(text);
	return j;
}
