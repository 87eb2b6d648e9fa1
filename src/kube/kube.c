/* SPDX-License-Identifier: MIT */
/*
 * A worker's Kubernetes objects (kube.h): a StatefulSet whose instances
 * each keep their own claim, the headless Service it names, a NetworkPolicy
 * denying all ingress, and the Secret holding the context.  The limits come
 * from the box plan (boxplan.h): the limits berth writes to its own cgroups.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cleanup.h"
#include "base64.h"
#include "kube.h"

char *kube_dns_name(const char *s)
{
	char *n = xstrdup(s);

	for (char *p = n; *p; p++)
		if (*p == '_')
			*p = '-';
	return n;
}

/* The recommended labels: the worker (name) as a component of the app
 * (part-of); instance tells two apps' workers of one name apart. */
static json_t *labels(const char *name, const char *instance, const char *component,
		      const char *part_of)
{
	json_t *l = json_object();

	json_object_set_new(l, "app.kubernetes.io/name", json_string(name));
	json_object_set_new(l, "app.kubernetes.io/instance", json_string(instance));
	json_object_set_new(l, "app.kubernetes.io/component", json_string(component));
	json_object_set_new(l, "app.kubernetes.io/part-of", json_string(part_of));
	json_object_set_new(l, "app.kubernetes.io/managed-by", json_string("berth"));
	return l;
}

static json_t *worker_labels(const struct worker *w, const char *instance)
{
	return labels(w->name, instance, "worker", w->app_name);
}

/* What selects the worker's pods: two of the labels, never changed. */
static json_t *selector(const struct worker *w, const char *instance)
{
	json_t *s = json_object();

	json_object_set_new(s, "app.kubernetes.io/name", json_string(w->name));
	json_object_set_new(s, "app.kubernetes.io/instance", json_string(instance));
	return s;
}

static json_t *object(const char *api, const char *kind, const char *name,
		      const struct kube_opts *o, json_t *labels)
{
	json_t *obj = json_object(), *meta = json_object();

	json_object_set_new(obj, "apiVersion", json_string(api));
	json_object_set_new(obj, "kind", json_string(kind));
	json_object_set_new(meta, "name", json_string(name));
	json_object_set_new(meta, "namespace", json_string(o->ns));
	json_object_set_new(meta, "labels", labels);
	json_object_set_new(obj, "metadata", meta);
	return obj;
}

/* A quantity of bytes: "<n>Mi" when whole MiB (the size table's unit). */
static json_t *bytes_quantity(uint64_t b)
{
	char buf[32];

	if (b % (1ULL << 20) == 0)
		snprintf(buf, sizeof(buf), "%" PRIu64 "Mi", b >> 20);
	else
		snprintf(buf, sizeof(buf), "%" PRIu64, b);
	return json_string(buf);
}

/* A claim's size: `disk` is MB (10^6 bytes), Kubernetes' "M". */
static json_t *claim_spec(const char *mode, const char *storage_class, uint64_t mb)
{
	json_t *spec = json_object();
	char size[32];

	snprintf(size, sizeof(size), "%" PRIu64 "M", mb);
	json_object_set_new(spec, "accessModes", json_pack("[s]", mode));
	if (storage_class)
		json_object_set_new(spec, "storageClassName", json_string(storage_class));
	json_object_set_new(spec, "resources", json_pack("{s:{s:s}}", "requests", "storage", size));
	return spec;
}

/* requests = limits: the memory and CPU berth writes to memory.max and
 * cpu.max (quota / period, as millicores). */
static json_t *resources(const struct cgroup_limits *l)
{
	json_t *q = json_object();
	char cpu[32];

	snprintf(cpu, sizeof(cpu), "%" PRIu64 "m", l->cpu_quota_us * 1000 / l->cpu_period_us);
	json_object_set_new(q, "cpu", json_string(cpu));
	json_object_set_new(q, "memory", bytes_quantity(l->memory_bytes));
	return json_pack("{s:o, s:o}", "requests", json_deep_copy(q), "limits", q);
}

/* berth's box: not root unless asked, no privilege escalation, no
 * capabilities, read-only root, the runtime's default seccomp profile. */
static json_t *container_security(const struct kube_opts *o)
{
	json_t *s = json_object();

	json_object_set_new(s, "runAsNonRoot", json_boolean(o->uid != 0));
	json_object_set_new(s, "runAsUser", json_integer(o->uid));
	json_object_set_new(s, "runAsGroup", json_integer(o->gid));
	json_object_set_new(s, "allowPrivilegeEscalation", json_false());
	json_object_set_new(s, "privileged", json_false());
	json_object_set_new(s, "readOnlyRootFilesystem", json_true());
	json_object_set_new(s, "capabilities", json_pack("{s:[s]}", "drop", "ALL"));
	json_object_set_new(s, "seccompProfile", json_pack("{s:s}", "type", "RuntimeDefault"));
	return s;
}

static json_t *mount_entry(const char *volume, const char *path, const char *sub, bool ro)
{
	json_t *m = json_object();

	json_object_set_new(m, "name", json_string(volume));
	json_object_set_new(m, "mountPath", json_string(path));
	if (sub && *sub)
		json_object_set_new(m, "subPath", json_string(sub));
	if (ro)
		json_object_set_new(m, "readOnly", json_true());
	return m;
}

static const char *volume_of(const struct mount *m, char *buf, size_t len)
{
	switch (m->source) {
	case MOUNT_LOCAL:
		return "storage";
	case MOUNT_TMP:
		return "scratch";
	case MOUNT_SERVICE:
		break;
	}
	_cleanup_free_ char *svc = kube_dns_name(m->service);
	snprintf(buf, len, "shared-%s", svc);
	return buf;
}

/* The context, /run and /tmp, then each mount of the config at its path in
 * the app root: local ones a directory (source_path) of the instance's
 * claim, tmp ones of the scratch volume, service ones of the shared claim. */
static json_t *volume_mounts(const struct worker *w, const struct kube_opts *o)
{
	json_t *a = json_array();
	char buf[64];

	json_array_append_new(a, mount_entry("run", "/run", NULL, false));
	json_array_append_new(a, mount_entry("context", KUBE_CONTEXT_DIR, NULL, true));
	json_array_append_new(a, mount_entry("tmp", "/tmp", NULL, false));
	for (size_t i = 0; i < w->n_mounts; i++) {
		const struct mount *m = &w->mounts[i];
		_cleanup_free_ char *path = xasprintf("%s/%s", o->app_root, m->path);

		json_array_append_new(a, mount_entry(volume_of(m, buf, sizeof(buf)), path,
						     m->source_path, false));
	}
	return a;
}

static json_t *memory_dir(const char *name, uint64_t bytes)
{
	return json_pack("{s:s, s:{s:s, s:o}}", "name", name, "emptyDir", "medium", "Memory",
			 "sizeLimit", bytes_quantity(bytes));
}

static bool has_mount(const struct worker *w, enum mount_source src)
{
	for (size_t i = 0; i < w->n_mounts; i++)
		if (w->mounts[i].source == src)
			return true;
	return false;
}

/* The pod's volumes; /tmp and the tmp mounts are memory, bounded as the
 * plan bounds berth's /tmp (1 GiB, or the memory limit when lower). */
static json_t *volumes(const struct worker *w, const char *name, const struct boxplan *bp)
{
	uint64_t tmp = bp->view.tmp_size;
	_cleanup_free_ char *secret = xasprintf("%s-context", name);
	json_t *a = json_array();
	char buf[64];

	json_array_append_new(a, memory_dir("run", (uint64_t)KUBE_RUN_SIZE_MIB << 20));
	json_array_append_new(a, json_pack("{s:s, s:{s:s, s:i}}", "name", "context", "secret",
					   "secretName", secret, "defaultMode", 0444));
	json_array_append_new(a, memory_dir("tmp", tmp));
	if (has_mount(w, MOUNT_TMP))
		json_array_append_new(a, memory_dir("scratch", tmp));
	for (size_t i = 0; i < w->n_mounts; i++) {
		const struct mount *m = &w->mounts[i];
		bool seen = false;

		if (m->source != MOUNT_SERVICE)
			continue;
		for (size_t k = 0; k < i; k++)
			seen |= w->mounts[k].source == MOUNT_SERVICE &&
				strcmp(w->mounts[k].service, m->service) == 0;
		if (seen)
			continue;
		_cleanup_free_ char *claim = kube_dns_name(m->service);
		json_array_append_new(a, json_pack("{s:s, s:{s:s}}", "name",
						   volume_of(m, buf, sizeof(buf)),
						   "persistentVolumeClaim", "claimName", claim));
	}
	return a;
}

/* berth, in pod mode, as the container's PID 1. */
static json_t *container(const struct worker *w, const struct kube_opts *o,
			 const struct boxplan *bp)
{
	_cleanup_free_ char *cname = kube_dns_name(w->name);
	json_t *c = json_object(), *args = json_array();

	json_array_append_new(args, json_string("-C"));
	json_array_append_new(args, json_string(o->app_root));
	json_array_append_new(args, json_string("--context"));
	json_array_append_new(args, json_string(KUBE_CONTEXT_DIR "/" KUBE_CONTEXT_KEY));
	json_array_append_new(args, json_string("run"));
	json_array_append_new(args, json_string("--pod"));
	/* always: the image's BERTH_STOP_TIMEOUT must not move the deadline
	 * the grace period was computed from */
	json_array_append_new(args, json_string("--stop-timeout"));
	if (o->stop_timeout_ms % 1000 == 0)
		json_array_append_new(args,
				      json_sprintf("%" PRIu64 "s", o->stop_timeout_ms / 1000));
	else
		json_array_append_new(args, json_sprintf("%" PRIu64 "ms", o->stop_timeout_ms));
	json_array_append_new(args, json_string(w->name));
	json_object_set_new(c, "name", json_string(cname));
	json_object_set_new(c, "image", json_string(o->image));
	json_object_set_new(c, "command", json_pack("[s]", "berth"));
	json_object_set_new(c, "args", args);
	json_object_set_new(c, "env", json_pack("[{s:s, s:s}]", "name", "BERTH_POD", "value", "1"));
	json_object_set_new(c, "resources", resources(&bp->limits));
	json_object_set_new(c, "securityContext", container_security(o));
	json_object_set_new(c, "volumeMounts", volume_mounts(w, o));
	return c;
}

static json_t *pod_spec(const struct worker *w, const char *name, const struct kube_opts *o,
			const struct boxplan *bp)
{
	json_t *s = json_object();
	uint64_t grace = (o->stop_timeout_ms + 999) / 1000 + KUBE_GRACE_MARGIN_S;

	/* the worker talks to no API server, and its environment is berth's */
	json_object_set_new(s, "automountServiceAccountToken", json_false());
	json_object_set_new(s, "enableServiceLinks", json_false());
	json_object_set_new(s, "terminationGracePeriodSeconds", json_integer((json_int_t)grace));
	/* the claims' files belong to the worker's group */
	json_object_set_new(s, "securityContext", json_pack("{s:i}", "fsGroup", (int)o->gid));
	json_object_set_new(s, "containers", json_pack("[o]", container(w, o, bp)));
	json_object_set_new(s, "volumes", volumes(w, name, bp));
	return s;
}

static json_t *statefulset(const struct worker *w, const char *name, const struct kube_opts *o,
			   const struct boxplan *bp)
{
	json_t *obj = object("apps/v1", "StatefulSet", name, o, worker_labels(w, name));
	json_t *spec = json_object(), *tmpl = json_object();

	json_object_set_new(spec, "serviceName", json_string(name));
	json_object_set_new(spec, "replicas", json_integer(o->instances));
	/* instances are peers: none waits for another to be ready */
	json_object_set_new(spec, "podManagementPolicy", json_string("Parallel"));
	json_object_set_new(spec, "selector", json_pack("{s:o}", "matchLabels", selector(w, name)));
	json_object_set_new(tmpl, "metadata", json_pack("{s:o}", "labels", worker_labels(w, name)));
	json_object_set_new(tmpl, "spec", pod_spec(w, name, o, bp));
	json_object_set_new(spec, "template", tmpl);
	if (has_mount(w, MOUNT_LOCAL)) {
		json_t *meta = json_pack("{s:s, s:o}", "name", "storage", "labels",
					 worker_labels(w, name));
		json_t *claim =
			json_pack("{s:o, s:o}", "metadata", meta, "spec",
				  claim_spec("ReadWriteOnce", o->storage_class, w->disk_mb));
		json_object_set_new(spec, "volumeClaimTemplates", json_pack("[o]", claim));
	}
	json_object_set_new(obj, "spec", spec);
	return obj;
}

static json_t *secret(const struct worker *w, const char *name, const struct kube_opts *o,
		      const char *context_json)
{
	_cleanup_free_ char *sname = xasprintf("%s-context", name);
	_cleanup_free_ char *b64 = base64_encode(context_json, strlen(context_json));
	json_t *obj = object("v1", "Secret", sname, o, worker_labels(w, name));

	json_object_set_new(obj, "type", json_string("Opaque"));
	json_object_set_new(obj, "data", json_pack("{s:s}", KUBE_CONTEXT_KEY, b64));
	return obj;
}

/* Headless: the StatefulSet's pods get stable names; nothing listens. */
static json_t *service(const struct worker *w, const char *name, const struct kube_opts *o)
{
	json_t *obj = object("v1", "Service", name, o, worker_labels(w, name));

	json_object_set_new(
		obj, "spec",
		json_pack("{s:s, s:o}", "clusterIP", "None", "selector", selector(w, name)));
	return obj;
}

/* The box's "no ingress": the policy selects the pods and allows no
 * ingress; Egress is not among its policyTypes, so egress is left alone. */
static json_t *network_policy(const struct worker *w, const char *name, const struct kube_opts *o)
{
	_cleanup_free_ char *pname = xasprintf("%s-deny-ingress", name);
	json_t *obj =
		object("networking.k8s.io/v1", "NetworkPolicy", pname, o, worker_labels(w, name));

	json_object_set_new(obj, "spec",
			    json_pack("{s:{s:o}, s:[s]}", "podSelector", "matchLabels",
				      selector(w, name), "policyTypes", "Ingress"));
	return obj;
}

/* What cannot become an object: diags, -EINVAL. */
static int check_worker(const struct worker *w, const char *name, const struct cgroup_limits *l,
			struct diags *d)
{
	size_t before = d->n;

	if (!l->memory_bytes || !l->cpu_quota_us)
		diags_add(d, w->config_file, 0, 0, "",
			  "workers.%s.size: %s has no meaning on a "
			  "cluster: give --auto-size SIZE (or auto_size in the context)",
			  w->name, size_to_string(w->size));
	if (has_mount(w, MOUNT_LOCAL) && w->disk_mb < APP_PLATFORM_DISK_MIN_MB)
		diags_add(d, w->config_file, 0, 0, "",
			  "workers.%s.disk: %" PRIu64 " MB is too small for its local mounts' "
			  "claim (at least %d MB)",
			  w->name, w->disk_mb, APP_PLATFORM_DISK_MIN_MB);
	if (strlen(name) > KUBE_NAME_MAX)
		diags_add(d, w->config_file, 0, 0, "",
			  "workers.%s: the object name '%s' is longer than %d characters", w->name,
			  name, KUBE_NAME_MAX);
	return d->n > before ? -EINVAL : 0;
}

int kube_worker_objects(const struct app *app, const struct boxplan *bp, const struct kube_opts *o,
			const char *context_json, json_t *docs, struct diags *d)
{
	const struct worker *w = bp->w;
	_cleanup_free_ char *a = kube_dns_name(app->name), *wn = kube_dns_name(w->name);
	_cleanup_free_ char *name = xasprintf("%s-%s", a, wn);

	if (check_worker(w, name, &bp->limits, d) < 0)
		return -EINVAL;
	json_array_append_new(docs, secret(w, name, o, context_json));
	json_array_append_new(docs, service(w, name, o));
	json_array_append_new(docs, network_policy(w, name, o));
	json_array_append_new(docs, statefulset(w, name, o, bp));
	return 0;
}

struct boxplan_request kube_plan_request(const struct app *app, const struct worker *w,
					 const struct context *ctx, const struct kube_opts *o)
{
	return (struct boxplan_request){
		.app = app, .w = w, .ctx = ctx, .limits = o->lo, .no_network = true};
}

int kube_service_claims(const struct app *app, const struct worker *ws, size_t n,
			const struct kube_opts *o, json_t *docs, struct diags *d)
{
	json_t *done = json_object();
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < ws[i].n_mounts; k++) {
			const struct mount *m = &ws[i].mounts[k];
			const struct service *s;

			if (m->source != MOUNT_SERVICE || json_object_get(done, m->service))
				continue;
			json_object_set_new(done, m->service, json_true());
			s = app_find_service(app, m->service);
			if (!s || !s->has_disk) {
				diags_add(d, app->services_file, 0, 0, "",
					  "%s.disk: the network-storage service needs a disk (MB) "
					  "for its shared claim",
					  m->service);
				r = -EINVAL;
				continue;
			}
			_cleanup_free_ char *cname = kube_dns_name(s->name);
			json_t *obj = object("v1", "PersistentVolumeClaim", cname, o,
					     labels(s->name, cname, "network-storage", app->name));
			json_object_set_new(
				obj, "spec",
				claim_spec("ReadWriteMany", o->shared_class, s->disk_mb));
			json_array_append_new(docs, obj);
		}
	}
	json_decref(done);
	return r;
}
