/* test_htable.c - the shared hash table: put, get, delete, growth, and
 * walking it while deleting. */
#include <stdio.h>

#include "p2pm/htable.h"
#include "tap.h"

#define N 20000

int
main(void)
{
	struct htable t;
	struct htable_iter it;
	struct htable_entry *e;
	static int vals[N];
	char key[32];
	int ok_all = 1;

	ok(htable_init(&t) == 0 && t.nbuckets == HTABLE_MIN_BUCKETS, "a table starts small");
	for (int i = 0; i < N; i++) {
		int n = snprintf(key, sizeof(key), "key-%d", i);
		vals[i] = i;
		e = htable_put(&t, key, (size_t)n, &vals[i]);
		if (e == NULL || strcmp(e->key, key) != 0)
			ok_all = 0;
	}
	ok(ok_all && t.count == N, "%d keys go in, each kept as a C string", N);
	ok(t.nbuckets >= N, "the buckets grew with the count (%zu)", t.nbuckets);
	ok_all = 1;
	for (int i = 0; i < N; i++) {
		int n = snprintf(key, sizeof(key), "key-%d", i);
		int *v = htable_get(&t, key, (size_t)n);
		if (v == NULL || *v != i)
			ok_all = 0;
	}
	ok(ok_all, "every key finds its value");
	ok(htable_get(&t, "key-", 4) == NULL && htable_get(&t, "key-1", 4) == NULL,
	    "a prefix of a key is not the key");
	ok(htable_get(&t, "a\0b", 3) == NULL && htable_put(&t, "a\0b", 3, vals) != NULL &&
	    htable_get(&t, "a\0b", 3) == vals && htable_get(&t, "a", 1) == NULL,
	    "keys are bytes with a length, NULs included");
	ok(htable_del(&t, "a\0b", 3) == vals && htable_del(&t, "a\0b", 3) == NULL,
	    "delete returns the value once");

	/* delete the odd ones while walking */
	size_t seen = 0;
	htable_iter_start(&it, &t);
	while ((e = htable_iter_next(&it)) != NULL) {
		seen++;
		if (*(int *)e->val % 2 == 1)
			htable_del(&t, e->key, e->keylen);
	}
	ok(seen == N && t.count == N / 2, "a walk sees every entry and may delete the one it is on");
	ok(htable_get(&t, "key-7", 5) == NULL && htable_get(&t, "key-8", 5) == &vals[8],
	    "the odd keys are gone, the even ones stay");
	htable_free(&t);
	htable_iter_start(&it, &t);
	ok(t.count == 0 && htable_iter_next(&it) == NULL, "a freed table is empty");
	return done_testing();
}
