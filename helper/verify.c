/*
 * verify.c - the verification child (see verify.h).
 *
 * The child writes one struct verify_result to a pipe and exits; the
 * helper reads it from its poll loop.  A child that dies or exceeds
 * VERIFY_TIMEOUT_MS counts as a failed verification.
 * Entry point: verify_start.
 */
#include "autoconfig.h"

#include "helper/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "helper/authz.h"
#include "helper/loop.h"
#include "lib/log.h"
#include "lib/priv/proto.h"

#define VERIFY_TIMEOUT_MS 30000

struct pending_verify {
	pid_t pid;
	int fd;
	struct timer *timer;
	verify_cb cb;
	void *arg;
};

/* ---- in the child ---- */

struct conv_data {
	const char *user;
	const char *password;
};

static int conversation(int n, const struct pam_message **msg,
			struct pam_response **resp, void *appdata)
{
	const struct conv_data *d = appdata;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			if (d->password == NULL)
				goto fail; /* no password in a GSS login */
			r[i].resp = strdup(d->password);
			break;
		case PAM_PROMPT_ECHO_ON: r[i].resp = strdup(d->user); break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO: break;
		default: goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (int i = 0; i < n; i++)
		free(r[i].resp);
	free(r);
	return PAM_CONV_ERR;
}

static void run_pam(const struct winrmd_config *cfg, const char *user,
		    const char *password, const char *remote,
		    struct verify_result *res)
{
	struct conv_data d = { user, password };
	struct pam_conv conv = { conversation, &d };
	pam_handle_t *ph = NULL;
	int rc = pam_start(cfg->pam_service, user, &conv, &ph);
	if (rc != PAM_SUCCESS) {
		snprintf(res->reason, sizeof(res->reason),
			 "PAM start failed: %s", pam_strerror(ph, rc));
		return;
	}
	pam_set_item(ph, PAM_RHOST, remote);
	pam_set_item(ph, PAM_TTY, "winrm");
	if (password != NULL) {
		rc = pam_authenticate(ph, PAM_DISALLOW_NULL_AUTHTOK);
		if (rc != PAM_SUCCESS) {
			snprintf(res->reason, sizeof(res->reason), "%s",
				 rc == PAM_AUTH_ERR ? "wrong password"
						    : pam_strerror(ph, rc));
			pam_end(ph, rc);
			return;
		}
	}
	rc = pam_acct_mgmt(ph, 0);
	if (rc != PAM_SUCCESS) {
		snprintf(res->reason, sizeof(res->reason),
			 "account refused by PAM (%s)", pam_strerror(ph, rc));
		pam_end(ph, rc);
		return;
	}
	pam_end(ph, PAM_SUCCESS);
	res->authenticated = true;
}

static void child_main(int fd, const struct winrmd_config *cfg,
		       const char *user, const char *password,
		       const char *remote, bool ntlm_local, bool fold_case)
{
	struct verify_result res;
	memset(&res, 0, sizeof(res));

	errno = 0;
	/* "#<uid>": the account of a uid (peer credentials).  The lookup
	 * happens here, not in the helper: a directory lookup may block. */
	char *end;
	struct passwd *pw = user[0] == '#' ? getpwuid((uid_t)strtoul(user + 1,
								     &end, 10))
					   : getpwnam(user);
	if (pw == NULL && fold_case) {
		/* Windows names are case-insensitive; POSIX ones are not.
		 * Try the lower-case spelling before giving up, but only
		 * for names whose own directory ignores case: a Kerberos
		 * principal ROOT@REALM is not root@REALM. */
		char lower[sizeof(res.user)];
		size_t n = strlen(user);
		if (n < sizeof(lower)) {
			for (size_t i = 0; i <= n; i++)
				lower[i] = (char)((user[i] >= 'A' &&
						   user[i] <= 'Z')
							  ? user[i] - 'A' + 'a'
							  : user[i]);
			pw = getpwnam(lower);
		}
	}
	if (pw == NULL) {
		/* The name as looked up: with domain accounts, which of
		 * alice, alice@example.com or EXAMPLE\alice NSS knows
		 * decides (Authorization.DomainAccountNames). */
		snprintf(res.reason, sizeof(res.reason),
			 "no such account in NSS: %.150s", user);
		goto out;
	}
	snprintf(res.user, sizeof(res.user), "%s", pw->pw_name);
	res.uid = (uint32_t)pw->pw_uid;
	res.gid = (uint32_t)pw->pw_gid;
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;

	run_pam(cfg, res.user, password, remote, &res);
	if (!res.authenticated)
		goto out;

	struct authz_rules rules = {
		.admin_groups = cfg->admin_groups,
		.n_admin_groups = cfg->n_admin_groups,
		.remote_users_groups = cfg->remote_users_groups,
		.n_remote_users_groups = cfg->n_remote_users_groups,
		.local_account_token_filter_policy =
			cfg->local_account_token_filter_policy,
	};
	res.flags = authz_decide(res.user, uid, gid, ntlm_local, &rules,
				 res.authz_reason, sizeof(res.authz_reason));
	if (ntlm_local)
		res.flags |= PRIV_ID_NTLM_LOCAL;
out:;
	const char *p = (const char *)&res;
	size_t left = sizeof(res);
	while (left > 0) {
		ssize_t w = write(fd, p, left);
		if (w <= 0 && errno != EINTR)
			break;
		if (w > 0) {
			p += w;
			left -= (size_t)w;
		}
	}
	_exit(0);
}

/* ---- in the helper ---- */

static void finish(struct pending_verify *pv, const struct verify_result *res)
{
	if (pv->fd >= 0) {
		helper_unwatch_fd(pv->fd);
		close(pv->fd);
	}
	if (pv->timer != NULL)
		helper_timer_cancel(pv->timer);
	pv->cb(pv->arg, res);
	free(pv);
}

static void failed(struct pending_verify *pv, const char *why)
{
	struct verify_result res;
	memset(&res, 0, sizeof(res));
	snprintf(res.reason, sizeof(res.reason), "%s", why);
	finish(pv, &res);
}

static void on_readable(void *arg, int fd)
{
	struct pending_verify *pv = arg;
	struct verify_result res;
	ssize_t n;
	do {
		n = read(fd, &res, sizeof(res));
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(res)) {
		failed(pv, "verification process failed");
		return;
	}
	res.user[sizeof(res.user) - 1] = '\0';
	res.reason[sizeof(res.reason) - 1] = '\0';
	res.authz_reason[sizeof(res.authz_reason) - 1] = '\0';
	finish(pv, &res);
}

static void on_timeout(void *arg)
{
	struct pending_verify *pv = arg;
	pv->timer = NULL;
	kill(pv->pid, SIGKILL);
	log_warn("account verification took over %d s; killed",
		 VERIFY_TIMEOUT_MS / 1000);
	failed(pv, "verification timed out");
}

static void on_exit_status(void *arg, int status)
{
	/* Nothing to do: the pipe tells the result (EOF if it died). */
	(void)arg;
	(void)status;
}

void verify_start(const struct winrmd_config *cfg, const char *user,
		  const char *password, const char *remote, bool ntlm_local,
		  bool fold_case, verify_cb cb, void *arg)
{
	struct pending_verify *pv = xcalloc(1, sizeof(*pv));
	pv->cb = cb;
	pv->arg = arg;
	int p[2];
	if (!helper_watch_room(1)) {
		/* A refusal, not a crash: a burst of logins can get here. */
		pv->fd = -1;
		failed(pv, "too many account verifications in progress");
		return;
	}
	if (pipe2(p, O_CLOEXEC) != 0) {
		log_err("pipe: %s", strerror(errno));
		pv->fd = -1;
		failed(pv, "out of resources");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		helper_child_init(&p[1], 1);
		child_main(p[1], cfg, user, password, remote, ntlm_local,
			   fold_case);
	}
	close(p[1]);
	if (pid < 0) {
		log_err("fork: %s", strerror(errno));
		close(p[0]);
		pv->fd = -1;
		failed(pv, "out of resources");
		return;
	}
	pv->pid = pid;
	pv->fd = p[0];
	helper_watch_fd(p[0], on_readable, pv);
	helper_watch_child(pid, on_exit_status, NULL);
	pv->timer = helper_timer_at(time_mono_ms() + VERIFY_TIMEOUT_MS,
				    on_timeout, pv);
}
