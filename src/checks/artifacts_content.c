/*
 * artifacts_content: the OCI content of the artifacts check's run, unique
 * to it (its run id is in every blob): the subject image (config, one
 * layer, manifest), the artifact (artifactType, the empty config, one
 * layer, subject), a manifest whose subject does not exist, the chunked
 * and delete-proof blobs, and the tag-schema fallback index.
 */
#include "checks/artifacts_internal.h"
#include "checks/probe.h"
#include "util/digest.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* A document's compact bytes, in memory of our own (jansson's allocator may be another). */
static char *dump(json_t *doc, size_t *len)
{
	const size_t flags = JSON_COMPACT | JSON_SORT_KEYS;
	size_t n = json_dumpb(doc, NULL, 0, flags);
	char *s;

	if (!n)
		xdie("cannot encode a manifest");
	s = xmalloc(n + 1);
	if (json_dumpb(doc, s, n, flags) != n)
		xdie("cannot encode a manifest");
	s[n] = '\0';
	*len = n;
	return s;
}


/* ---- the content of the run ------------------------------------------- */

static void set_blob(struct blob *b, char *data, size_t len)
{
	b->data = data;
	b->len = len;
	b->digest = sha256_digest_of(data, len);
	b->upload = 1;
}

static void set_manifest(struct manifest *m, json_t *doc, const char *type)
{
	m->body = dump(doc, &m->len);
	m->digest = sha256_digest_of(m->body, m->len);
	m->type = type;
	json_decref(doc);
}

static json_t *descriptor(const char *type, const struct blob *b)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", type, "digest", b->digest,
			 "size", (json_int_t)b->len);
}

static json_t *artifact_doc(struct verify *v, const char *subject, size_t subject_size,
			    const char *purpose)
{
	return json_pack("{s:i, s:s, s:s, s:{s:s, s:s, s:i, s:s}, s:[o], s:{s:s, s:s, s:I}, s:{s:s, s:s}}",
			 "schemaVersion", 2, "mediaType", MANIFEST_TYPE, "artifactType", ARTIFACT_TYPE,
			 "config", "mediaType", EMPTY_TYPE, "digest", EMPTY_DIGEST, "size", 2, "data", "e30=",
			 "layers", descriptor(ARTIFACT_LAYER_TYPE, &v->blobs[B_ART_LAYER]),
			 "subject", "mediaType", MANIFEST_TYPE, "digest", subject,
			 "size", (json_int_t)subject_size,
			 "annotations", RUN_ANNOTATION, v->run_id, "org.ocidoctor.purpose", purpose);
}

void av_make_content(struct verify *v)
{
	char *layer = xstrfmt("ocidoctor subject layer, run %s\n", v->run_id);
	char *art = xstrfmt("{\"ocidoctor\":\"probe\",\"run\":\"%s\"}", v->run_id);
	char missing[65];
	char *missing_digest, *config, *chunked, *proof;
	json_t *cfg;
	size_t len, i;

	set_blob(&v->blobs[B_LAYER], layer, strlen(layer));
	cfg = json_pack("{s:s, s:s, s:{s:s, s:[s]}, s:{s:{s:s}}}", "architecture", "amd64",
			"os", "linux", "rootfs", "type", "layers", "diff_ids", v->blobs[B_LAYER].digest,
			"config", "Labels", RUN_ANNOTATION, v->run_id);
	config = dump(cfg, &len);
	json_decref(cfg);
	set_blob(&v->blobs[B_CONFIG], config, len);
	set_blob(&v->blobs[B_EMPTY], xstrdup("{}"), 2);
	set_blob(&v->blobs[B_ART_LAYER], art, strlen(art));
	chunked = xmalloc((size_t)(v->chunk * CHUNKS));
	for (i = 0; i < (size_t)(v->chunk * CHUNKS); i++)
		chunked[i] = v->run_id[i % 16];
	memcpy(chunked, v->run_id, 16);
	set_blob(&v->blobs[B_CHUNKED], chunked, (size_t)(v->chunk * CHUNKS));
	proof = xstrfmt("ocidoctor delete proof, run %s\n", v->run_id);
	set_blob(&v->blobs[B_PROOF], proof, strlen(proof));

	set_manifest(&v->mans[M_SUBJECT],
		     json_pack("{s:i, s:s, s:o, s:[o], s:{s:s}}", "schemaVersion", 2,
			       "mediaType", MANIFEST_TYPE,
			       "config", descriptor(CONFIG_TYPE, &v->blobs[B_CONFIG]),
			       "layers", descriptor(LAYER_TYPE, &v->blobs[B_LAYER]),
			       "annotations", RUN_ANNOTATION, v->run_id),
		     MANIFEST_TYPE);
	set_manifest(&v->mans[M_ARTIFACT],
		     artifact_doc(v, v->mans[M_SUBJECT].digest, v->mans[M_SUBJECT].len, "artifact"),
		     MANIFEST_TYPE);
	random_hex(missing, 32);
	missing_digest = xstrfmt("sha256:%s", missing);
	set_manifest(&v->mans[M_ORPHAN], artifact_doc(v, missing_digest, 512, "missing-subject"),
		     MANIFEST_TYPE);
	free(missing_digest);
	v->fallback_tag = xstrdup(v->mans[M_SUBJECT].digest);
	*strchr(v->fallback_tag, ':') = '-';
}


/* ---- the tag-schema fallback index ------------------------------------ */

/* Whether an index lists the artifact with its artifactType and run annotation. */
int av_index_has_artifact(struct verify *v, json_t *index, int *count)
{
	json_t *list = json_object_get(index, "manifests"), *d;
	size_t i;
	int found = 0;

	*count = 0;
	json_array_foreach(list, i, d) {
		const char *digest = json_string_value(json_object_get(d, "digest"));
		const char *type = json_string_value(json_object_get(d, "artifactType"));
		const char *run = json_string_value(json_object_get(json_object_get(d, "annotations"),
								     RUN_ANNOTATION));

		if (!digest || strcmp(digest, v->mans[M_ARTIFACT].digest))
			continue;
		(*count)++;
		if (type && !strcmp(type, ARTIFACT_TYPE) && run && !strcmp(run, v->run_id))
			found = 1;
	}
	return found;
}

/*
 * The index to push under the fallback tag: what the tag holds (empty on
 * 404), without an entry of the artifact's digest, plus its descriptor.
 * Returns 0, or -1 with *why when the tag holds something else.
 */
int av_build_index(struct verify *v, const struct registry_call *get, const char **why)
{
	json_t *index = NULL, *list, *kept, *d, *desc;
	size_t i;
	long count;

	if (get->resp.status == 404) {
		index = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", OCI_INDEX_TYPE,
				  "manifests");
	} else if (get->resp.status == 200) {
		const char *got = http_header_get(&get->resp, "Docker-Content-Digest");

		if ((got && !strcmp(got, v->mans[M_SUBJECT].digest)) ||
		    oci_index_valid(get->resp.body.data, get->resp.body.len, &count, why) < 0) {
			*why = "the fallback tag resolves to something that is not an index (the subject itself, as GitLab does)";
			return -1;
		}
		index = json_loadb(get->resp.body.data, get->resp.body.len, 0, NULL);
	} else {
		*why = "reading the fallback tag answered neither 200 nor 404";
		return -1;
	}
	list = json_object_get(index, "manifests");
	kept = json_array();
	json_array_foreach(list, i, d) {
		const char *digest = json_string_value(json_object_get(d, "digest"));

		if (!digest || strcmp(digest, v->mans[M_ARTIFACT].digest))
			json_array_append(kept, d);
	}
	desc = json_pack("{s:s, s:s, s:I, s:s, s:{s:s, s:s}}", "mediaType", MANIFEST_TYPE,
			 "digest", v->mans[M_ARTIFACT].digest, "size", (json_int_t)v->mans[M_ARTIFACT].len,
			 "artifactType", ARTIFACT_TYPE, "annotations", RUN_ANNOTATION, v->run_id,
			 "org.ocidoctor.purpose", "artifact");
	json_array_append_new(kept, desc);
	json_object_set_new(index, "manifests", kept);
	if (!json_object_get(index, "mediaType"))
		json_object_set_new(index, "mediaType", json_string(OCI_INDEX_TYPE));
	set_manifest(&v->mans[M_INDEX], index, OCI_INDEX_TYPE);
	return 0;
}

/* Once the session tells the chunk size: remakes the chunked blob to fit it (three chunks). */
void av_fit_chunked_blob(struct verify *v)
{
	struct blob *b = &v->blobs[B_CHUNKED];
	size_t len = (size_t)(v->chunk * CHUNKS), i;

	if (!b->session || v->chunk > PROBE_CHUNK_MAX)
		return;
	free(b->data);
	free(b->digest);
	b->data = xmalloc(len);
	for (i = 0; i < len; i++)
		b->data[i] = v->run_id[i % 16];
	b->len = len;
	b->digest = sha256_digest_of(b->data, len);
	v->chunked_tried = 1;
}
