/*
 * fuzz-config.c - libFuzzer harness for the configuration loader: arbitrary
 * bytes (up to the first NUL) through config_load_string; a config that
 * loads is dumped, the dump loaded again and dumped again, and the two dumps
 * must be byte-identical (the round trip "winrmd -T" and SIGHUP rely on).
 * A refused input must come with error text, an accepted one without.
 *
 * An @include in the input reads the file it names (read only).
 *
 * libconfig 1.5 leaks a string token when a syntax error follows it
 * (upstream hyperrealm/libconfig#142, fixed after 1.5); leaks allocated
 * inside libconfig are suppressed here, ours are still reported.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size), *err = NULL;
	struct winrmd_config *cfg = config_load_string(text, "fuzz", &err);

	free(text);
	if (cfg == NULL) {
		if (err == NULL)
			abort();
		free(err);
		return 0;
	}
	if (err != NULL)
		abort();

	struct buf first = BUF_INIT, second = BUF_INIT;
	config_dump(cfg, &first);
	struct winrmd_config *again =
		config_load_string((const char *)first.data, "dump", &err);
	if (again == NULL) {
		fprintf(stderr, "dump does not load:\n%s\n%s\n",
			(const char *)first.data, err);
		abort();
	}
	config_dump(again, &second);
	if (first.len != second.len ||
	    memcmp(first.data, second.data, first.len) != 0) {
		fprintf(stderr, "dump differs after reload:\n%s\n---\n%s\n",
			(const char *)first.data, (const char *)second.data);
		abort();
	}
	buf_release(&first);
	buf_release(&second);
	config_unref(again);
	config_unref(cfg);
	return 0;
}
