/* SPDX-License-Identifier: MIT */
/*
 * `berth kube`: a worker as Kubernetes objects (doc/kubernetes.md).  Pure:
 * the app, a resolved worker and the options in, jansson objects out, each
 * built member by member in a fixed order (jansson keeps insertion order),
 * so the same input gives the same bytes.  kube-context.c writes the
 * context the pod's berth reads; kube-yaml.c turns the objects into YAML.
 */
#ifndef BERTH_KUBE_H
#define BERTH_KUBE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "context.h"
#include "diag.h"
#include "boxplan.h"
#include "sizelimit.h"

/* Where the pod's berth finds its context: the Secret's mount and key. */
#define KUBE_CONTEXT_DIR      "/run/berth/context"
#define KUBE_CONTEXT_KEY      "context.json"
#define KUBE_DEFAULT_APP_ROOT "/app"
#define KUBE_DEFAULT_NS	      "default"
#define KUBE_DEFAULT_UID      65534
/* terminationGracePeriodSeconds = berth's stop deadline + this: the time
 * berth needs after its deadline to SIGKILL the worker's processes, reap
 * them and exit (doc/kubernetes.md).  With the 15 s default: 30 s. */
#define KUBE_GRACE_MARGIN_S 15
/* The pod's /run (berth's box gives the worker 16 MiB). */
#define KUBE_RUN_SIZE_MIB 16
/* A StatefulSet's pods carry "<name>-<10 characters>" as a label value
 * (63 at most), so its name may have 52. */
#define KUBE_NAME_MAX 52

struct kube_opts {
	const char *image;	       /* required */
	const char *ns;		       /* metadata.namespace, and the services' DNS names */
	const char *app_root;	       /* where the app is in the image */
	const char *storage_class;     /* per-instance claims, or NULL (the cluster's default) */
	const char *shared_class;      /* the network-storage claims, or NULL */
	uint32_t instances;	       /* replicas */
	uint32_t uid, gid;	       /* the pod's user */
	uint64_t stop_timeout_ms;      /* berth's stop deadline in the pod */
	struct sizelimit_overrides lo; /* what AUTO means (have_auto_size) */
};

/* An object name: s with '_' as '-' (DNS-1123 labels have no '_'). */
char *kube_dns_name(const char *s);

/*
 * Append the objects of the box plan bp (of the worker bp->w: its limits
 * and /tmp bound, as berth's own box would have them) to docs: the
 * worker's context Secret (context_json, the text of the context file),
 * the headless Service its StatefulSet names, the NetworkPolicy denying
 * all ingress, the StatefulSet.  Problems (AUTO without a meaning, a disk
 * too small for its mounts, a name too long) go to d: -EINVAL, docs
 * untouched.
 */
int kube_worker_objects(const struct app *app, const struct boxplan *bp, const struct kube_opts *o,
			const char *context_json, json_t *docs, struct diags *d);

/* The box plan's request for w in a pod: the limits (o->lo: what AUTO
 * means), no network of berth's own (the cluster's). */
struct boxplan_request kube_plan_request(const struct app *app, const struct worker *w,
					 const struct context *ctx, const struct kube_opts *o);

/*
 * Append the ReadWriteMany claim of each network-storage service the
 * workers ws[0..n) mount, once each, in the order first named.  A service
 * without a `disk` in services.yaml goes to d: -EINVAL.
 */
int kube_service_claims(const struct app *app, const struct worker *ws, size_t n,
			const struct kube_opts *o, json_t *docs, struct diags *d);

/*
 * The context file the pod's berth reads (--context), as text: every
 * fact of ctx written out (project, entropy, tree id, environment ...: the
 * pod finds no state directory and no git), app_dir the app root in the
 * image unless ctx has one, auto_size what AUTO means here, and each
 * service w's relationships name given the host <service>.<ns>.svc unless
 * ctx gives one.  Freshly allocated.
 */
char *kube_context_json(const struct context *ctx, const struct worker *w,
			const struct kube_opts *o);

/* The documents as a YAML stream (libyaml's emitter), each starting with
 * "---".  0 and *out (freshly allocated, NUL-terminated), or -EINVAL. */
int kube_yaml(const json_t *docs, char **out, size_t *len);

#endif
