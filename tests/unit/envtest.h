/* SPDX-License-Identifier: MIT */
/*
 * Reading a built worker environment in the unit tests: a variable's
 * value, its base64-decoded text, its JSON.
 */
#ifndef BERTH_ENVTEST_H
#define BERTH_ENVTEST_H

#include <jansson.h>

/* PLATFORM_RELATIONSHIPS of a queue worker with a MariaDB "database" and
 * a RabbitMQ "messages" (the example app's in contrib/examples, and
 * test-env's fixture), as Python's json.dumps(sort_keys=True) writes it. */
extern const char envtest_rels_queue[];

/* The value of name in envp, or NULL. */
const char *envtest_get(char **envp, const char *name);

/* The base64-decoded value of name, as text (fails the test when name is
 * missing, not base64 or holds a NUL); the caller frees it. */
char *envtest_get_decoded(char **envp, const char *name);

/* The decoded value of name as JSON, which must be exactly what Python's
 * json.dumps(sort_keys=True) writes for it; the caller decrefs it. */
json_t *envtest_get_json(char **envp, const char *name);

#endif
