/*
 * yamldoc: the one way ocidoctor's YAML files (the config file, a targets
 * file, serve's modules) become a libyaml document.
 *
 * libyaml's loader takes time quadratic in the nesting depth of flow
 * collections (200k levels of "[" take a minute) and in the number of
 * anchors, and a targets file may be 16 MiB. So the text is first walked
 * event by event, which stops at the first excess, and refused when it
 * nests deeper than YAMLDOC_MAX_DEPTH, or holds more than
 * YAMLDOC_MAX_ANCHORS anchors or YAMLDOC_MAX_ALIASES aliases; only then is
 * it loaded. Only the first document of a stream is read.
 */
#ifndef OCIDOCTOR_YAMLDOC_H
#define OCIDOCTOR_YAMLDOC_H

#include <stddef.h>
#include <yaml.h>

#define YAMLDOC_MAX_DEPTH 64
#define YAMLDOC_MAX_ANCHORS 1000
#define YAMLDOC_MAX_ALIASES 10000

/*
 * Loads text into *doc (the caller yaml_document_delete's it). Returns 0,
 * or -1 with *why, newly allocated: "NAME:LINE: invalid YAML: ..." or
 * "NAME:LINE: nested deeper than 64 levels" and the like.
 */
int yamldoc_load(yaml_document_t *doc, const char *name, const char *text, size_t len, char **why);

/*
 * The one boolean grammar of every YAML file ocidoctor reads (the --config
 * file, the targets file, a serve modules file): 1 for true, yes or on, 0
 * for false, no or off, in any case; -1 for anything else (NULL too).
 */
int yamldoc_bool(const char *s);

#endif
