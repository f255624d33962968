/*
 * helper.c - winrmd-priv: the small root helper of winrmd.
 *
 * It is started by winrmd (fork + exec, never by hand) with one end of a
 * socketpair, before winrmd drops its privileges.  It serves requests from
 * a closed table, assembled from its modules' tables (module.h): each
 * entry names the message type it accepts and the state the request
 * needs, checked here, in one place, before the module's handler runs.
 * A frame that no correct listener can send is a protocol violation,
 * after which the helper exits (and so takes the listener down: systemd
 * restarts both); a request that a correct listener may send in a race
 * (a connection that closed, an identity that expired, a setting that a
 * reload turned off) gets a refusal.  When the listener goes away, the
 * helper cleans up and exits; when the helper goes away, the listener
 * does the same.
 *
 * Must not: link libmicrohttpd or libxml2, parse HTTP or XML, or trust
 * anything the listener says beyond what the table allows.
 *
 * Usage (internal): winrmd-priv -s FD -c CONFIG [-d] [-j]
 */
#include "autoconfig.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "lib/fileio.h"
#include "lib/log.h"
#include "lib/x509.h"
#include "helper/loop.h"
#include "helper/conns.h"
#include "helper/module.h"
#include "helper/modules.h"

static int listener_fd = -1;
static bool running = true;
/* After a direct SIGTERM the helper waits this long for the listener's
 * orderly SHUTDOWN (systemd signals the whole cgroup at once). */
#define TERM_GRACE_MS 10000
static int64_t term_deadline; /* 0 = no SIGTERM seen */

static const struct helper_module *const modules[] = {
	&module_core,         &module_conns,         &module_auth_gss,
	&module_auth_basic,   &module_certmap_table, &module_auth_cert,
	&module_admin_socket, &module_tls_key,       &module_crypt,
	&module_spawn,        &module_config_write,  &module_certmap_write,
};
#define N_MODULES (sizeof(modules) / sizeof(modules[0]))

/* The closed table: one entry per message type, from the modules. */
static const struct helper_request *table[PRIV_TYPE_MAX];
static unsigned calls[PRIV_TYPE_MAX];

static void build_table(void)
{
	for (size_t m = 0; m < N_MODULES; m++) {
		for (size_t i = 0; i < modules[m]->n_requests; i++) {
			const struct helper_request *r =
				&modules[m]->requests[i];
			if (r->type >= PRIV_TYPE_MAX || table[r->type] != NULL)
				fatal("module %s: request %s declared twice",
				      modules[m]->name,
				      priv_type_name(r->type));
			table[r->type] = r;
		}
	}
}

static void reconfigure_modules(void)
{
	for (size_t m = 0; m < N_MODULES; m++)
		if (modules[m]->reconfigure != NULL)
			modules[m]->reconfigure();
}

/* The state checks of module.h, then the handler. */
static void dispatch(struct priv_msg *req)
{
	const char *type = priv_type_name(req->type);
	const struct helper_request *r = req->type < PRIV_TYPE_MAX
						 ? table[req->type]
						 : NULL;
	if (r == NULL || req->seq == 0)
		fatal("protocol violation: unexpected %s (type %u) from the listener",
		      type, req->type);
	if ((r->flags & REQ_ONCE) && calls[req->type] > 0)
		fatal("protocol violation: repeated %s", type);
	calls[req->type]++;

	const char *why = NULL;
	size_t size = priv_struct_size(req->type);
	void *args = size > 0 ? priv_msg_alloc(req, size) : NULL;
	if (priv_decode(req, req->type, args, &why) != 0)
		fatal("protocol violation: malformed %s (%s)", type, why);

	struct helper_call call = { .seq = req->seq, .msg = req, .args = args };
	unsigned flags = r->flags;
	if (flags & REQ_ADMIN)
		flags |= REQ_AUTHENTICATED;
	if (flags & (REQ_AUTH_STEP | REQ_AUTHENTICATED))
		flags |= REQ_CONN;
	uint64_t id = (flags & REQ_CONN) ? *(const uint64_t *)args
					 : 0; /* conn comes first */
	if ((flags & REQ_CONN) && id == 0 && !(flags & REQ_CONN_ZERO))
		fatal("protocol violation: %s without a connection", type);
	bool local = (id & HCONN_LOCAL_BIT) != 0;
	if (req->type == PRIV_AUTH_PEER) {
		/* Only connections the helper accepted itself are local;
		 * anything else is refused by the handler. */
		call.conn = local ? conns_find(id) : NULL;
	} else if (flags & REQ_AUTH_STEP) {
		if (local)
			fatal("protocol violation: %s for local connection %llx",
			      type, (unsigned long long)id);
		call.conn = conns_get(id);
	} else if (id != 0) {
		call.conn = conns_find(id);
	}
	if ((flags & REQ_AUTH_STEP) && call.conn != NULL &&
	    call.conn->state == HCONN_VERIFYING)
		fatal("protocol violation: %s while connection %llu verifies",
		      type, (unsigned long long)id);
	if ((flags & REQ_AUTHENTICATED) && id != 0) {
		const struct hconn *c = call.conn;
		const char *refusal = NULL;
		if (c == NULL || c->state != HCONN_AUTHENTICATED)
			refusal = "the connection is not authenticated";
		else if ((refusal = conns_identity_revoked(c)) != NULL)
			conns_reset(call.conn); /* for good: log in again */
		else if (!(c->identity.flags & PRIV_ID_AUTHORIZED))
			refusal = "the user is not authorized";
		else if ((flags & REQ_ADMIN) &&
			 !(c->identity.flags & PRIV_ID_ADMIN))
			refusal = "only administrators may do this";
		if (refusal != NULL) {
			log_warn("%s refused for connection %llu: %s", type,
				 (unsigned long long)id, refusal);
			log_audit_event(
				c != NULL
					? HCONN_PEER(c)
					: &(const struct audit_peer){ id,
								      "unknown",
								      0 },
				"authorization",
				"user=%s request=%s result=denied "
				"reason=\"%s\"",
				c != NULL && c->identity.user != NULL
					? LOG_ESC(c->identity.user)
					: "-",
				type, refusal);
			helper_refuse(req->seq, r->answer_type, EACCES,
				      refusal);
			return;
		}
	}
	r->handle(&call);
}

/* ---- the core requests: PING, RELOAD, SHUTDOWN ---- */

static void handle_ping(struct helper_call *call)
{
	const struct priv_ping *p = call->args;
	struct priv_pong pong = { .token = p->token,
				  .pid = (uint32_t)getpid() };
	helper_answer(call->seq, PRIV_PONG, &pong, NULL, 0);
}

/* The certificate chain (PEM) of an enabled HTTPS listener; "" else. */
static char *listener_cert_pem(const struct listener_config *l)
{
	struct buf pem = BUF_INIT;
	char *why = NULL;
	if (l->transport == TRANSPORT_HTTPS && l->enabled &&
	    file_read_regular(l->certificate_file, X509_MAX_FILE, &pem, NULL,
			      &why) != 0) {
		log_err("%s: %s", l->certificate_file, why);
		free(why);
	}
	return buf_steal(&pem);
}

static void handle_reload(struct helper_call *call)
{
	char *error = NULL, *warnings = NULL;
	const char *path = helper_config_path();
	struct winrmd_config *cfg = config_load_file(path, &error);
	if (cfg != NULL && config_check_files(cfg, path, CONFIG_CHECK_KEYS,
					      &error, &warnings) != 0) {
		config_unref(cfg);
		cfg = NULL;
	}
	if (warnings != NULL) {
		log_warn("%s", warnings);
		free(warnings);
	}
	if (cfg == NULL) {
		log_err("reload refused, keeping the running configuration:\n%s",
			error);
		struct priv_reload_result res = { .ok = 0, .text = error };
		helper_answer(call->seq, PRIV_RELOAD_RESULT, &res, NULL, 0);
		free(error);
		return;
	}
	helper_config_install(cfg);
	struct buf dump = BUF_INIT;
	config_dump(cfg, &dump);
	/* The HTTPS listeners' certificates (the listener cannot read
	 * root-only files any more); their keys stay here. */
	size_t n = cfg->n_listeners < PRIV_MAX_CERTS ? cfg->n_listeners
						     : PRIV_MAX_CERTS;
	char **certs = xcalloc(n + 1, sizeof(*certs));
	for (size_t i = 0; i < n; i++)
		certs[i] = listener_cert_pem(&cfg->listeners[i]);
	struct priv_reload_result res = {
		.ok = 1,
		.text = (const char *)dump.data,
		.n_certs = n,
		.certs = (const char **)certs,
	};
	helper_answer(call->seq, PRIV_RELOAD_RESULT, &res, NULL, 0);
	for (size_t i = 0; i < n; i++)
		free(certs[i]);
	free(certs);
	buf_release(&dump);
	log_info("configuration reloaded from %s", path);
}

static void handle_shutdown(struct helper_call *call)
{
	for (size_t m = N_MODULES; m-- > 0;)
		if (modules[m]->stop != NULL)
			modules[m]->stop();
	helper_answer(call->seq, PRIV_SHUTDOWN_DONE, NULL, NULL, 0);
	running = false;
}

static const struct helper_request core_requests[] = {
	{ PRIV_PING, 0, PRIV_ERROR, handle_ping },
	{ PRIV_RELOAD, 0, PRIV_ERROR, handle_reload },
	{ PRIV_SHUTDOWN, REQ_ONCE, PRIV_ERROR, handle_shutdown },
};

const struct helper_module module_core = {
	.name = "core",
	HELPER_REQUESTS(core_requests),
};

/* ---- start-up and the loop ---- */

static int setup_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A file-size limit must fail a write (EFBIG), not kill the helper. */
	signal(SIGXFSZ, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

/*
 * Loads the PAM library and configuration once, in the helper itself, so
 * that the short-lived children that run PAM (verification, command
 * monitors) inherit it instead of each starting from scratch.  (It also
 * keeps pam_wrapper, used by the tests, from racing its children for
 * runtime directories.)  No module is called by pam_start.
 */
static void pam_preload(const char *service)
{
	struct pam_conv conv = { NULL, NULL };
	pam_handle_t *h = NULL;
	if (pam_start(service, NULL, &conv, &h) == PAM_SUCCESS)
		pam_end(h, PAM_SUCCESS);
}

static void usage(void)
{
	fprintf(stderr,
		"winrmd-priv is started by winrmd; it is not run by hand.\n"
		"usage: winrmd-priv -s FD -c CONFIG [-d] [-j]\n");
	exit(2);
}

/* One signal from the signalfd. */
static void on_signal(int sigfd)
{
	struct signalfd_siginfo si;
	if (read(sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGCHLD) {
		helper_reap_children();
	} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
		/* The listener orders our shutdown; a direct signal
		 * (systemd's stop signals the whole cgroup) starts a grace
		 * period in which we keep serving until the listener says
		 * so or goes away. */
		log_debug("signal %u: waiting for the listener", si.ssi_signo);
		if (term_deadline == 0)
			term_deadline = time_mono_ms() + TERM_GRACE_MS;
	}
}

int main(int argc, char **argv)
{
	bool debug = false, journald = false;
	const char *config_path = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "s:c:dj")) != -1) {
		switch (opt) {
		case 's': listener_fd = atoi(optarg); break;
		case 'c': config_path = optarg; break;
		case 'd': debug = true; break;
		case 'j': journald = true; break;
		default: usage();
		}
	}
	if (listener_fd < 3 || config_path == NULL || optind != argc)
		usage();
	log_init("winrmd-priv", debug ? LOG_LVL_DEBUG : LOG_LVL_INFO, journald);
	/* UNWRAP and WRAP carry whole sealed bodies: without this, every
	 * 256 KiB message was mapped, faulted in and unmapped, which cost
	 * more than its cryptography. */
	malloc_tune_for_messages();
	if (geteuid() != 0)
		fatal("winrmd-priv must run as root");
	helper_set_listener_fd(listener_fd);
	helper_set_config_path(config_path);
	build_table();

	char *error = NULL, *warnings = NULL;
	helper_config = config_load_file(config_path, &error);
	if (helper_config == NULL ||
	    config_check_files(helper_config, config_path, CONFIG_CHECK_KEYS,
			       &error, &warnings) != 0)
		fatal("cannot load %s:\n%s", config_path, error);
	if (warnings != NULL) {
		log_warn("%s", warnings);
		free(warnings);
	}
	if (!debug)
		log_set_level((enum log_level)helper_config->log_level);
	log_audit_syslog(helper_config->audit_syslog);
	pam_preload(helper_config->pam_service);

	int sigfd = setup_signals();
	if (sigfd < 0)
		fatal("signalfd: %s", strerror(errno));
	helper_set_signal_fd(sigfd);
	for (size_t m = 0; m < N_MODULES; m++)
		if (modules[m]->start != NULL)
			modules[m]->start();
	helper_set_config_hook(reconfigure_modules);
	log_debug("helper started, pid %d", (int)getpid());

	static struct pollfd pfd[2 + HELPER_MAX_WATCHES];
	while (running) {
		pfd[0] = (struct pollfd){ .fd = listener_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		size_t nw = helper_watch_pollfds(pfd + 2, HELPER_MAX_WATCHES);
		int timeout = helper_run_timers();
		if (term_deadline != 0) {
			int64_t left = term_deadline - time_mono_ms();
			if (left <= 0) {
				log_warn("no shutdown order from the listener "
					 "after SIGTERM; exiting");
				break;
			}
			if (timeout < 0 || left < timeout)
				timeout = (int)left;
		}
		if (poll(pfd, 2 + nw, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll: %s", strerror(errno));
		}
		helper_watch_dispatch(pfd + 2, nw);
		if (pfd[1].revents & POLLIN)
			on_signal(sigfd);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			struct priv_msg req;
			int rc = priv_recv(listener_fd, &req);
			if (rc == 1) {
				log_info("listener went away; helper exiting");
				priv_msg_release(&req);
				break;
			}
			if (rc < 0)
				fatal("protocol violation: %s",
				      strerror(errno));
			dispatch(&req);
			priv_msg_release(&req);
		}
	}
	if (running) /* no orderly SHUTDOWN: stop the modules now */
		for (size_t m = N_MODULES; m-- > 0;)
			if (modules[m]->stop != NULL)
				modules[m]->stop();
	config_unref(helper_config);
	close(listener_fd);
	log_debug("helper stopped");
	return 0;
}
