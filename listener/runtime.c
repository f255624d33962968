/*
 * runtime.c - the listener's current configuration and host facts.
 * Entry points: runtime_init, runtime_config, runtime_set_config.
 */
#include "autoconfig.h"

#include "listener/runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static struct winrmd_config *current;
static char hostname[256] = "localhost";
static char product_version[160] = "OS: 0.0.0 SP: 0.0 Stack: 3.0";

void runtime_init(void)
{
	if (gethostname(hostname, sizeof(hostname)) != 0 || hostname[0] == '\0')
		strcpy(hostname, "localhost");
	hostname[sizeof(hostname) - 1] = '\0';
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(product_version, sizeof(product_version),
			 "OS: %.100s SP: 0.0 Stack: 3.0", u.release);
}

struct winrmd_config *runtime_config(void)
{
	pthread_mutex_lock(&config_lock);
	struct winrmd_config *cfg = config_ref(current);
	pthread_mutex_unlock(&config_lock);
	return cfg;
}

void runtime_set_config(struct winrmd_config *cfg)
{
	pthread_mutex_lock(&config_lock);
	struct winrmd_config *old = current;
	current = cfg;
	pthread_mutex_unlock(&config_lock);
	config_unref(old);
}

const char *runtime_hostname(void)
{
	return hostname;
}

const char *runtime_product_version(void)
{
	return product_version;
}
