/*
 * yaml2json: a test tool. Reads a YAML stream (documents separated by
 * ---) on standard input with libyaml, the parser ocidoctor itself uses,
 * and writes a JSON array of the documents: mappings as objects,
 * sequences as arrays, every scalar as a string (no YAML type guessing;
 * the tests compare text). Aliases are refused. Exit status 0, or 1 with
 * the parser's message on standard error.
 */
#include <jansson.h>
#include <stdio.h>
#include <yaml.h>

static json_t *node_json(yaml_document_t *doc, yaml_node_t *n, int depth)
{
	json_t *out = NULL, *v;
	yaml_node_item_t *it;
	yaml_node_pair_t *p;
	yaml_node_t *k;

	if (!n || depth > 64)
		return NULL;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return json_stringn((const char *)n->data.scalar.value, n->data.scalar.length);
	case YAML_SEQUENCE_NODE:
		out = json_array();
		for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
			v = node_json(doc, yaml_document_get_node(doc, *it), depth + 1);
			if (!v)
				goto fail;
			json_array_append_new(out, v);
		}
		return out;
	case YAML_MAPPING_NODE:
		out = json_object();
		for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			k = yaml_document_get_node(doc, p->key);
			v = node_json(doc, yaml_document_get_node(doc, p->value), depth + 1);
			if (!k || k->type != YAML_SCALAR_NODE || !v ||
			    json_object_get(out, (const char *)k->data.scalar.value)) {
				json_decref(v);
				goto fail;
			}
			json_object_set_new(out, (const char *)k->data.scalar.value, v);
		}
		return out;
	default:
		return NULL;
	}
fail:
	json_decref(out);
	return NULL;
}

int main(void)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	json_t *docs = json_array(), *d;
	int ret = 1;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, stdin);
	for (;;) {
		if (!yaml_parser_load(&parser, &doc)) {
			fprintf(stderr, "yaml2json: line %zu: %s\n", parser.problem_mark.line + 1,
				parser.problem ? parser.problem : "unreadable YAML");
			goto done;
		}
		if (!yaml_document_get_root_node(&doc)) {
			yaml_document_delete(&doc);
			break;
		}
		d = node_json(&doc, yaml_document_get_root_node(&doc), 0);
		yaml_document_delete(&doc);
		if (!d) {
			fputs("yaml2json: a key given twice, a non-scalar key or nesting too deep\n", stderr);
			goto done;
		}
		json_array_append_new(docs, d);
	}
	ret = json_dumpf(docs, stdout, JSON_INDENT(1)) == 0 ? 0 : 1;
	putchar('\n');
done:
	json_decref(docs);
	yaml_parser_delete(&parser);
	return ret;
}
