/* names.c - song names from tags, and telling equal names apart. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pm/htable.h"
#include "p2pm/log.h"
#include "p2pm/proto.h"
#include "names.h"

/* the largest number a name is told apart by: " (9999)" */
#define NAMES_MAX_DUPLICATE 9999

/* What is known of one song file. */
struct names_file {
	struct filekey_id id;	/* the version its tags were read from */
	char *tagname;		/* "" for none */
	char *shown;		/* the name last given to it, NULL before */
	unsigned seen;		/* the names_apply it was last listed in */
};

struct names {
	pthread_mutex_t lock;	/* guards files and gen */
	struct htable files;	/* path -> struct names_file */
	unsigned gen;
	void (*changed)(void);
};

struct names *
names_new(void (*changed)(void))
{
	struct names *n = calloc(1, sizeof(*n));

	if (n == NULL || htable_init(&n->files) < 0) {
		free(n);
		return NULL;
	}
	pthread_mutex_init(&n->lock, NULL);
	n->changed = changed;
	return n;
}

static void
names_file_free(struct names_file *f)
{
	free(f->tagname);
	free(f->shown);
	free(f);
}

void
names_free(struct names *n)
{
	struct htable_iter it;
	struct htable_entry *e;

	if (n == NULL)
		return;
	htable_iter_start(&it, &n->files);
	while ((e = htable_iter_next(&it)) != NULL)
		names_file_free(e->val);
	htable_free(&n->files);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

void
names_of_tags(const struct probe_info *info, char out[PROTO_MAX_NAME + 1])
{
	const char *artist = info->tag[PROBE_ARTIST], *title = info->tag[PROBE_TITLE];
	int len;

	out[0] = '\0';
	if (artist[0] == '\0' || title[0] == '\0')
		return;
	len = snprintf(out, PROTO_MAX_NAME + 1, "%s - %s", artist, title);
	if (len < 0 || len > PROTO_MAX_NAME || !proto_name_valid(out, (size_t)len))
		out[0] = '\0';
}

/* True if name is base, or base told apart (" (N)"). */
static int
names_is_base(const char *name, const char *base)
{
	size_t bl = strlen(base);
	const char *p = name + bl;

	if (strncmp(name, base, bl) != 0)
		return 0;
	if (*p == '\0')
		return 1;
	if (strncmp(p, " (", 2) != 0 || p[2] < '1' || p[2] > '9')
		return 0;
	p += 2 + strspn(p + 2, "0123456789");
	return strcmp(p, ")") == 0;
}

/* The file record of path, made if missing; NULL if out of memory. Call
 * with the lock held. */
static struct names_file *
names_file_of(struct names *n, const char *path)
{
	struct names_file *f = htable_get(&n->files, path, strlen(path));

	if (f != NULL)
		return f;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	if (htable_put(&n->files, path, strlen(path), f) == NULL) {
		free(f);
		return NULL;
	}
	return f;
}

int
names_set(struct names *n, const char *path, const struct filekey_id *id,
    const char *tagname, const char *name)
{
	struct names_file *f;
	char *copy = strdup(tagname);
	int other;

	/* a file without a tag name keeps the name it was queued under */
	other = tagname[0] != '\0' && !names_is_base(name, tagname);
	if (copy == NULL)
		return other;
	pthread_mutex_lock(&n->lock);
	if ((f = names_file_of(n, path)) != NULL) {
		free(f->tagname);
		f->tagname = copy;
		f->id = *id;
	} else
		free(copy);
	pthread_mutex_unlock(&n->lock);
	if (other) {
		log_debug("%s: named '%s' by its tags", path, tagname);
		if (n->changed != NULL)
			n->changed();
	}
	return other;
}

/* Sets *name to text (a copy), if it is a valid song name. */
static int
names_replace(char **name, const char *text)
{
	size_t len = strlen(text);
	char *copy;

	if (len == 0 || len > PROTO_MAX_NAME || !proto_name_valid(text, len))
		return 0;
	if ((copy = strdup(text)) == NULL)
		return -1;
	free(*name);
	*name = copy;
	return 0;
}

/* The tag name of the file at path (identity id) if known, from the
 * record in the cache when not known and look is set. Call with the
 * lock held. Returns NULL if unknown. */
static const char *
names_tagname(struct names *n, struct cache *c, const char *path,
    const struct filekey_id *id, int look)
{
	struct names_file *f = htable_get(&n->files, path, strlen(path));
	char line[PROBE_LINE_MAX], tagname[PROTO_MAX_NAME + 1];
	struct probe_info info;

	if (f != NULL && f->tagname != NULL && filekey_id_equal(&f->id, id))
		return f->tagname;
	if (!look || filekey_info_get(c, path, id, NULL, line, sizeof(line)) < 0 ||
	    probe_parse(line, &info) < 0)
		return NULL;
	names_of_tags(&info, tagname);
	if ((f = names_file_of(n, path)) == NULL)
		return NULL;
	free(f->tagname);
	if ((f->tagname = strdup(tagname)) == NULL)
		return NULL;
	f->id = *id;
	return f->tagname;
}

/* Orders entries (pointers) by path. */
static int
names_path_cmp(const void *a, const void *b)
{
	const struct library_entry *x = *(struct library_entry *const *)a;
	const struct library_entry *y = *(struct library_entry *const *)b;

	return strcmp(x->path, y->path);
}

int
names_apply(struct names *n, struct cache *c, struct library *lib,
    size_t from, int all)
{
	struct library_entry **v;
	struct htable count, first;
	struct htable_iter it;
	struct htable_entry *e;
	size_t m = lib->n > from ? lib->n - from : 0;
	int rc = 0;

	if ((v = malloc((m ? m : 1) * sizeof(*v))) == NULL)
		return -1;
	if (htable_init(&count) < 0 || htable_init(&first) < 0) {
		htable_free(&count);
		free(v);
		return -1;
	}
	pthread_mutex_lock(&n->lock);
	n->gen++;
	/* tag names first */
	for (size_t i = 0; i < m; i++) {
		struct library_entry *le = &lib->v[from + i];
		const char *tn;

		v[i] = le;
		if (le->kind != LIBRARY_FILE)
			continue;
		tn = names_tagname(n, c, le->path, &le->id, all);
		if (tn != NULL && tn[0] != '\0' && names_replace(&le->name, tn) < 0)
			rc = -1;
	}
	/* then the same name told apart, in path order */
	qsort(v, m, sizeof(*v), names_path_cmp);
	for (size_t i = 0; i < m && rc == 0; i++) {
		struct library_entry *le = v[i];
		uintptr_t k = (uintptr_t)htable_get(&count, le->name, strlen(le->name));
		char told[PROTO_MAX_NAME + 16];
		struct names_file *f = NULL;

		/* a song directory's name is what its song.name says */
		if (le->kind != LIBRARY_FILE)
			continue;
		if (k == 0) {
			if (htable_put(&count, le->name, strlen(le->name), (void *)1) == NULL ||
			    htable_put(&first, le->name, strlen(le->name), le->path) == NULL)
				rc = -1;
		} else if (k < NAMES_MAX_DUPLICATE) {
			htable_del(&count, le->name, strlen(le->name));
			if (htable_put(&count, le->name, strlen(le->name),
			    (void *)(k + 1)) == NULL)
				rc = -1;
			snprintf(told, sizeof(told), "%s (%zu)", le->name, (size_t)k + 1);
			if (rc == 0 && strlen(told) <= PROTO_MAX_NAME) {
				const char *fp = htable_get(&first, le->name, strlen(le->name));
				f = le->kind == LIBRARY_FILE ? names_file_of(n, le->path) : NULL;
				if (f != NULL && (f->shown == NULL || strcmp(f->shown, told) != 0)) {
					log_info("%s and %s would both be '%s': the second is "
					    "shared as '%s'", fp, le->path, le->name, told);
					free(f->shown);
					f->shown = strdup(told);
				}
				if (names_replace(&le->name, told) < 0)
					rc = -1;
			}
		}
		if (f != NULL || (f = htable_get(&n->files, le->path,
		    strlen(le->path))) != NULL)
			f->seen = n->gen;
	}
	/* forget the files no longer listed */
	htable_iter_start(&it, &n->files);
	while ((e = htable_iter_next(&it)) != NULL) {
		struct names_file *f = e->val;
		if (f->seen != n->gen && rc == 0) {
			htable_del(&n->files, e->key, e->keylen);
			names_file_free(f);
		}
	}
	pthread_mutex_unlock(&n->lock);
	htable_free(&count);
	htable_free(&first);
	free(v);
	return rc;
}
