/*
 * config: the YAML configuration file (--config FILE).
 *
 * It reads the `oci:` section, the one a Helm values file already has
 * for the design documents' settings (registryUrl, testRepository,
 * testTag), plus ocidoctor's own keys in the same section or in an
 * `ocidoctor:` section. Other top-level keys belong to other charts and
 * are ignored; inside the two sections an unknown key, a wrong type or
 * a bad value is an error that names the file and line.
 */
#ifndef OCIDOCTOR_CONFIG_H
#define OCIDOCTOR_CONFIG_H

#include "cli/options.h"

/*
 * Applies the file's values to every option that has a `key` and no
 * source yet; sources[i] becomes "FILE:LINE". Returns 0, or -1 with *why
 * (newly allocated, "FILE:LINE: what is wrong").
 */
int config_apply_file(const char *path, const struct opt *opts, void *target, char **sources,
		      char **why);

/* The same from text in memory (for tests and fuzzing); `name` names it in messages. */
int config_apply_text(const char *name, const char *text, size_t len, const struct opt *opts,
		      void *target, char **sources, char **why);

#endif
