/*
 * keyname: the two spellings of a configuration key. The --config file
 * writes its keys in camelCase (caFile, scratchRepository), as the design
 * it implements names them; a serve modules file writes them in snake_case
 * (ca_file, scratch_repository), as Prometheus configurations do. Each
 * file has one spelling and accepts the other as an alias, so a key copied
 * from one file into the other still works.
 */
#ifndef OCIDOCTOR_KEYNAME_H
#define OCIDOCTOR_KEYNAME_H

/* key in snake_case ("caFile" and "ca_file" both give "ca_file"). Newly allocated. */
char *key_snake_case(const char *key);

/* 1 when a and b name the same key in either spelling, else 0. */
int key_same(const char *a, const char *b);

#endif
