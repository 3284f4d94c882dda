/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pass 1: libinih splits the file into sections and key = value pairs, and every value is stored
 * raw with its line number.
 *
 * inih reports only the first line whose handler failed, and never shows us section headers (a
 * section without keys would vanish, a misspelt one would be silently skipped). So inih reads
 * through our own line reader, which counts lines, rejects lines too long for inih's buffer
 * instead of letting it split them, and looks at each line the way inih is about to: section
 * headers, syntax errors, and indented lines, which inih treats as a continuation of the
 * previous key (Python configparser's multi-line values).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "config_internal.h"

#define CFG_LINE_MAX 512 /* at least inih's line buffer (200 in Debian's build) */

/* inih: ';' starts an inline comment only after whitespace ("a;b" is a value). */
static const char *find_sep_or_comment(const char *s, const char *seps)
{
	bool after_space = false;

	for (; *s; s++) {
		if (strchr(seps, *s) || (after_space && *s == ';'))
			return s;
		after_space = isspace((unsigned char)*s);
	}
	return s;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static bool site_name_valid(const char *name)
{
	if (!isalpha((unsigned char)name[0]))
		return false;
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
			return false;
	return true;
}

static struct cfg_raw_site *raw_site_find(struct cfg_parser *p, const char *name)
{
	for (unsigned int i = 0; i < p->n_sites; i++)
		if (!strcmp(p->site[i].name, name))
			return &p->site[i];
	return NULL;
}

static enum cfg_section begin_site(struct cfg_parser *p, const char *name)
{
	struct cfg_raw_site *s = raw_site_find(p, name);

	if (!name[0]) {
		cfg_error(p, p->lineno, "a site section needs a name: [site NAME]");
	} else if (strlen(name) >= DT_SITE_NAME_MAX || !site_name_valid(name)) {
		cfg_error(p, p->lineno,
			  "site name \"%s\": use 1 to %d letters, digits, '-' or '_', starting "
			  "with a letter",
			  name, DT_SITE_NAME_MAX - 1);
	} else if (s) {
		cfg_error(p, p->lineno, "site \"%s\" is defined twice (first on line %u)", name,
			  s->line);
	} else if (p->n_sites >= DT_MAX_SITES) {
		cfg_error(p, p->lineno, "site \"%s\": more than %d sites", name, DT_MAX_SITES);
	} else {
		s = &p->site[p->n_sites++];
		strcpy(s->name, name);
		s->line = p->lineno;
		return SEC_SITE;
	}
	return SEC_UNKNOWN;
}

static enum cfg_section begin_single(struct cfg_parser *p, const char *name, unsigned int *line,
				     enum cfg_section sec)
{
	if (*line) {
		cfg_error(p, p->lineno, "section [%s] appears twice (first on line %u)", name,
			  *line);
		return SEC_UNKNOWN;
	}
	*line = p->lineno;
	return sec;
}

static enum cfg_section begin_section(struct cfg_parser *p, char *name)
{
	name = trim(name);
	if (!strcmp(name, "detour"))
		return begin_single(p, name, &p->detour_line, SEC_DETOUR);
	if (!strcmp(name, "prefixes"))
		return begin_single(p, name, &p->prefixes_line, SEC_PREFIXES);
	if (!strncmp(name, "site", 4) && (!name[4] || isspace((unsigned char)name[4])))
		return begin_site(p, trim(name + 4));
	cfg_error(p, p->lineno,
		  "unknown section [%s] (expected [detour], [site NAME] or [prefixes])", name);
	return SEC_UNKNOWN;
}

static void lex_section_line(struct cfg_parser *p, char *s)
{
	char *close = (char *)find_sep_or_comment(s + 1, "]");
	char *rest;

	p->key_seen = false;
	p->last_raw = NULL;
	if (*close != ']') {
		cfg_error(p, p->lineno, "section header without a closing ']'");
		p->section = SEC_UNKNOWN;
		return;
	}
	*close = '\0';
	rest = trim(close + 1);
	if (*rest && *rest != ';')
		cfg_error(p, p->lineno, "unexpected text after ']': \"%s\"", rest);
	p->section = begin_section(p, s + 1);
}

/*
 * Look at a line the way inih's ini_parse_stream() is about to, in the same order. Works on a
 * copy: inih has yet to parse the line itself.
 */
static void lex_line(struct cfg_parser *p, const char *raw)
{
	char copy[CFG_LINE_MAX], *s = copy;
	const char *sep;

	snprintf(copy, sizeof(copy), "%s", raw);
	p->continuation = false;
	while (isspace((unsigned char)*s))
		s++;
	if (!*s || *s == ';' || *s == '#')
		return;
	if (p->key_seen && s > copy) {
		p->continuation = true;
		return;
	}
	if (*s == '[') {
		lex_section_line(p, s);
		return;
	}
	sep = find_sep_or_comment(s, "=:");
	if (!strchr("=:", *sep)) {
		cfg_error(p, p->lineno, "expected \"key = value\", \"[section]\" or a comment");
		return;
	}
	p->key_seen = sep > s; /* inih's prev_name stays empty after "= value" */
}

static bool take_line(struct cfg_parser *p, const char **line, size_t *len)
{
	const char *nl;

	if (p->pos >= p->end)
		return false;
	nl = memchr(p->pos, '\n', (size_t)(p->end - p->pos));
	*line = p->pos;
	*len = nl ? (size_t)(nl - p->pos) : (size_t)(p->end - p->pos);
	p->pos += *len + (nl ? 1 : 0);
	p->lineno++;
	if (p->at_start && *len >= 3 && !memcmp(*line, "\xEF\xBB\xBF", 3)) {
		*line += 3;
		*len -= 3;
	}
	p->at_start = false;
	return true;
}

/* inih's fgets-style reader. A line inih cannot hold is reported and handed over empty. */
static char *cfg_read_line(char *str, int num, void *stream)
{
	struct cfg_parser *p = stream;
	const char *line;
	size_t len;

	if (!take_line(p, &line, &len))
		return NULL;
	/* inih wants room for '\r', '\n' and the NUL; a CRLF file must not lose a character. */
	if (len - (len && line[len - 1] == '\r') + 3 > (size_t)num || num > CFG_LINE_MAX) {
		cfg_error(p, p->lineno,
			  "line longer than %d characters (continue a list on indented lines)",
			  num - 3);
		len = 0;
	}
	memcpy(str, line, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	lex_line(p, str);
	return str;
}

static void unknown_key(struct cfg_parser *p, const char *name, const char *where)
{
	const char *near = conf_table__suggest(&cfg_keys, p->section, name);

	if (near)
		cfg_error(p, p->lineno, "unknown key \"%s\" in %s (did you mean \"%s\"?)", name,
			  where, near);
	else
		cfg_error(p, p->lineno, "unknown key \"%s\" in %s", name, where);
}

/* Keep @value raw in @raw, the section's values indexed by row. */
static void store(struct cfg_parser *p, struct cfg_raw *raw, const char *where, const char *name,
		  const char *value)
{
	const struct conf_key_row *k = conf_table__find(&cfg_keys, p->section, name);
	struct cfg_raw *rv;

	if (!k) {
		unknown_key(p, name, where);
		return;
	}
	rv = &raw[k - cfg_keys.rows];
	if (rv->text) {
		cfg_error(p, p->lineno, "%s: \"%s\" is set twice (first on line %u)", where, name,
			  rv->line);
		return;
	}
	rv->text = strdup(value);
	if (!rv->text) {
		p->oom = true;
		return;
	}
	rv->line = p->lineno;
	p->last_raw = rv;
	p->last_key = k->name;
	p->last_list = k->flags & CONF_LIST;
}

static void store_prefix(struct cfg_parser *p, const char *name, const char *value)
{
	struct cfg_raw *grown;

	if (strcmp(name, "prefix")) {
		cfg_error(
			p, p->lineno,
			"[prefixes]: expected \"prefix = ADDRESS/LENGTH SITE [stateless]\", got key "
			"\"%s\" (an IPv6 address cannot be a key: its ':' ends the key)",
			name);
		return;
	}
	if (p->n_prefixes >= CFG_MAX_PREFIX_LINES) {
		cfg_error(p, p->lineno, "more than %d prefixes", CFG_MAX_PREFIX_LINES);
		return;
	}
	if (p->n_prefixes == p->cap_prefixes) {
		unsigned int cap = p->cap_prefixes ? 2 * p->cap_prefixes : 64;

		grown = realloc(p->prefix, cap * sizeof(*grown));
		if (!grown) {
			p->oom = true;
			return;
		}
		p->prefix = grown;
		p->cap_prefixes = cap;
	}
	p->prefix[p->n_prefixes].text = strdup(value);
	p->prefix[p->n_prefixes].line = p->lineno;
	if (!p->prefix[p->n_prefixes].text)
		p->oom = true;
	else
		p->last_raw = &p->prefix[p->n_prefixes++];
	p->last_key = "prefix";
	p->last_list = false;
}

/* An indented line: inih hands it over as another value of the key before it. */
static void continue_value(struct cfg_parser *p, const char *value)
{
	struct cfg_raw *rv = p->last_raw;
	char item[CFG_LINE_MAX], *grown;
	size_t old, add;

	if (!rv)
		return; /* the key it continues was already reported */
	/* This inih strips inline comments from key lines but not from continuation lines. */
	snprintf(item, sizeof(item), "%s", value);
	*(char *)find_sep_or_comment(item, "") = '\0';
	value = trim(item);
	add = strlen(value);
	/* An indented "key = value" or "[section]" was surely not meant as list items. */
	if (!p->last_list || strchr(value, '=') || (value[0] == '[' && !strchr(value, ':'))) {
		cfg_error(p, p->lineno,
			  "indented line is read as a continuation of \"%s\" (line %u); only lists "
			  "continue: remove the indentation",
			  p->last_key, rv->line);
		return;
	}
	old = strlen(rv->text);
	grown = realloc(rv->text, old + add + 2);
	if (!grown) {
		p->oom = true;
		return;
	}
	grown[old] = ' ';
	memcpy(grown + old + 1, value, add + 1);
	rv->text = grown;
}

/*
 * '#' is a comment only at the start of a line (docs/config.md): after a value it would be read
 * as more of the value, and in a list as more items ("interfaces = e0 # client side" is four).
 * Reported, and the value taken up to it, so that nothing else is said about the rest.
 */
static const char *hash_after_value(struct cfg_parser *p, const char *where, const char *name,
				    const char *value, char *cut, size_t len)
{
	const char *h;

	for (h = strchr(value, '#'); h; h = strchr(h + 1, '#'))
		if (h > value && isspace((unsigned char)h[-1]))
			break;
	if (!h)
		return value;
	cfg_error(p, p->lineno,
		  "%s: %s: '#' after a value is not a comment (only at the start of a line); end "
		  "the line with \"; ...\" for a comment",
		  where, name);
	snprintf(cut, len, "%.*s", (int)(h - value), value);
	return trim(cut);
}

static int cfg_handler(void *user, const char *section, const char *name, const char *value)
{
	struct cfg_parser *p = user;
	struct cfg_raw_site *s = p->n_sites ? &p->site[p->n_sites - 1] : NULL;
	char where[DT_SITE_NAME_MAX + 8], cut[CFG_LINE_MAX];

	if (p->section == SEC_SITE)
		snprintf(where, sizeof(where), "site \"%s\"", s->name);
	else
		snprintf(where, sizeof(where), "%s",
			 p->section == SEC_PREFIXES ? "[prefixes]" : "[detour]");
	value = hash_after_value(p, where, name, value, cut, sizeof(cut));
	if (p->continuation) {
		continue_value(p, value);
		return 1;
	}
	p->last_raw = NULL;
	if (p->section == SEC_NONE)
		cfg_error(p, p->lineno, "key \"%s\" before any [section]", name);
	else if (p->section == SEC_DETOUR)
		store(p, p->global, "[detour]", name, value);
	else if (p->section == SEC_SITE)
		store(p, s->key, where, name, value);
	else if (p->section == SEC_PREFIXES)
		store_prefix(p, name, value);
	return 1;
}

int cfg_lex(struct cfg_parser *p, const char *text, size_t len)
{
	unsigned int before = p->n_errors;
	int line;

	p->pos = text;
	p->end = text + len;
	p->at_start = true;
	line = ini_parse_stream(cfg_read_line, p, cfg_handler, p);
	if (line == -2 || p->oom)
		return -ENOMEM;
	/* Our reader mirrors inih's syntax rules; this catches any it has and we lack. */
	if (line > 0 && p->n_errors == before)
		cfg_error(p, (unsigned int)line, "syntax error");
	return 0;
}

void cfg_parser__release(struct cfg_parser *p)
{
	for (unsigned int k = 0; k < CFG_MAX_KEYS; k++)
		free(p->global[k].text);
	for (unsigned int i = 0; p->site && i < p->n_sites; i++)
		for (unsigned int k = 0; k < CFG_MAX_KEYS; k++)
			free(p->site[i].key[k].text);
	for (unsigned int i = 0; i < p->n_prefixes; i++)
		free(p->prefix[i].text);
	free(p->site);
	free(p->prefix);
	free(p->msg);
}
