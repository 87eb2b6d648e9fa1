/* SPDX-License-Identifier: MIT */
/*
 * PLATFORM_RELATIONSHIPS: each of a worker's relationships as an array of
 * one endpoint object with the full key set, from the service type's
 * defaults, services.yaml endpoints, and the context's real addresses and
 * credentials.  Pure.
 */
#ifndef BERTH_RELATIONSHIPS_H
#define BERTH_RELATIONSHIPS_H

#include <jansson.h>

#include "app.h"
#include "context.h"
#include "diag.h"

/* Per service type: what a relationship endpoint looks like by default. */
struct relationships_type {
	const char *type; /* base type, before ':' ("mariadb") */
	const char *scheme;
	const char *endpoint; /* the default endpoint (= "rel") */
	int port;
	const char *username; /* NULL = JSON null */
	const char *password;
	const char *path;
	bool is_master; /* query {"is_master": true} */
};

/*
 * {relationship: [endpoint]} for the worker's relationships; {} when it
 * has none.  Returns 0 and *out, or -EINVAL (a relationship to an unknown
 * service or endpoint).  Problems go to errors and warnings with the
 * entry's place, or are logged where those are NULL.  `berth check` runs
 * this for every worker, so that env and run never refuse what it passed.
 */
int relationships_build(const struct app *app, const struct worker *w, const struct context *ctx,
			struct diags *errors, struct diags *warnings, json_t **out);

/*
 * Every service endpoint the app's services.yaml and the context know,
 * as [{"name": ..., "ip": ..., "port": N}]: each service at its address
 * (context services.<name>.ip, else 127.0.0.1) and port (the context's,
 * else its type's), each endpoint the context gives it, and each
 * relationship override of the context that moves an address or port.
 * Endpoints without a known port are left out.  What the egress plan
 * refuses to workers that have no relationship to them.  New reference.
 */
json_t *relationships_services(const struct app *app, const struct context *ctx);

#endif
