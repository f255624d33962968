/*
 * main.c - winrmd: the WinRM listener's skeleton.
 *
 * Parses the command line, loads and checks the configuration, opens the
 * listening sockets (or adopts systemd's), starts the root helper
 * winrmd-priv, drops to the unprivileged listener account with
 * no_new_privs, starts the libmicrohttpd listeners, tells systemd it is
 * ready and then waits for signals: SIGHUP reloads, SIGTERM/SIGINT stop.
 * If the helper dies the listener stops too (nothing privileged can happen
 * without it) and exits non-zero so that systemd restarts both.
 *
 * Must not: read requests or know any protocol.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "listener/helper-client.h"
#include "lib/priv/msg.h"
#include "lib/config.h"
#include "lib/wsman/envelope.h"
#include "listener/listener.h"
#include "lib/log.h"
#include "lib/util.h"
#include "listener/runtime.h"
#include "listener/providers.h"
#include "listener/shells.h"

static const char *config_path = CONFIG_DEFAULT_PATH;
static pid_t helper_pid = -1;
static int lost_fd = -1; /* eventfd: the helper connection broke */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: winrmd [-c FILE] [-f] [-d]\n"
		"       winrmd -t [-c FILE]    check the configuration and exit\n"
		"       winrmd -T [-c FILE]    print the effective configuration\n"
		"  -c FILE  configuration file (default %s)\n"
		"  -f       stay in the foreground\n"
		"  -d       debug logging (implies -f)\n"
		"  -h       this help;  -V  version\n",
		CONFIG_DEFAULT_PATH);
}

/* True when stderr is connected to the journal (systemd's JOURNAL_STREAM
 * names the device and inode of the stream it gave us). */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

/* flags: enum config_check_flags (keys only when checking by hand: the
 * listener process never reads a private key). */
static struct winrmd_config *load_or_report(const char *path, unsigned flags)
{
	char *error = NULL;
	char *warnings = NULL;
	struct winrmd_config *cfg = config_load_file(path, &error);
	if (cfg != NULL &&
	    config_check_files(cfg, path, flags, &error, &warnings) != 0) {
		config_unref(cfg);
		cfg = NULL;
	}
	if (warnings != NULL) {
		fprintf(stderr, "winrmd: %s\n", warnings);
		free(warnings);
	}
	if (cfg == NULL) {
		fprintf(stderr, "winrmd: configuration errors:\n%s", error);
		size_t n = strlen(error);
		if (n == 0 || error[n - 1] != '\n')
			fputc('\n', stderr);
		free(error);
	}
	return cfg;
}

/*
 * What the service needs of the host (config_check_host).  With
 * as_warnings (a start: what can run, runs) every problem is logged as a
 * warning, else problems are errors as "winrmd -t" reports them.  Returns
 * false when there were errors and !as_warnings.
 */
static bool check_host(const struct winrmd_config *cfg, unsigned flags,
		       bool as_warnings)
{
	char *error = NULL, *warnings = NULL;
	int rc = config_check_host(cfg, flags, &error, &warnings);
	if (as_warnings) {
		if (error != NULL)
			log_warn("\"winrmd -t\" would refuse this "
				 "configuration:\n%s",
				 error);
		if (warnings != NULL)
			log_warn("%s", warnings);
	} else {
		if (warnings != NULL)
			fprintf(stderr, "winrmd: %s\n", warnings);
		if (error != NULL)
			fprintf(stderr, "winrmd: configuration errors:\n%s\n",
				error);
	}
	free(error);
	free(warnings);
	return rc == 0 || as_warnings;
}

static void start_helper(const struct winrmd_config *cfg, int helper_end,
			 bool debug, bool journald)
{
	helper_pid = fork();
	if (helper_pid < 0)
		fatal("fork: %s", strerror(errno));
	if (helper_pid > 0)
		return;
	/* Child: becomes winrmd-priv.  Its end of the socketpair is the one
	 * descriptor it inherits besides stdio. */
	int flags = fcntl(helper_end, F_GETFD);
	fcntl(helper_end, F_SETFD, flags & ~FD_CLOEXEC);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	char fdnum[16];
	snprintf(fdnum, sizeof(fdnum), "%d", helper_end);
	char *argv[8];
	int n = 0;
	argv[n++] = "winrmd-priv";
	argv[n++] = "-s";
	argv[n++] = fdnum;
	argv[n++] = "-c";
	argv[n++] = (char *)config_path;
	if (debug)
		argv[n++] = "-d";
	if (journald)
		argv[n++] = "-j";
	argv[n] = NULL;
	execv(cfg->helper_path, argv);
	log_err("cannot start the helper %s: %s", cfg->helper_path,
		strerror(errno));
	_exit(127);
}

static void drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);
	if (pw == NULL)
		fatal("the listener account \"%s\" does not exist (create it "
		      "with systemd-sysusers, or set Daemon.User)",
		      user);
	if (pw->pw_uid == 0)
		fatal("Daemon.User must not be root: the network listener "
		      "never runs privileged");
	gid_t gid = pw->pw_gid;
	if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0)
		fatal("cannot drop privileges to %s: %s", user,
		      strerror(errno));
	/* Verify: regaining root must be impossible now. */
	if (setuid(0) == 0 || geteuid() == 0 || getegid() == 0)
		fatal("privileges could be regained after the drop; refusing to run");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		fatal("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	/* Requests may carry passwords (Basic): no core dumps, no ptrace. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	log_debug("listener runs as %s (uid %u)", user, (unsigned)pw->pw_uid);
}

static void on_helper_lost(void)
{
	uint64_t one = 1;
	if (write(lost_fd, &one, sizeof(one)) < 0) {
		/* The main loop also sees SIGCHLD. */
	}
}

static int ping_helper(void)
{
	struct priv_ping ping = { .token = (uint64_t)getpid() << 20 | 0x5a5a };
	struct priv_msg reply;
	struct priv_pong pong;
	int ok = priv_request(PRIV_PING, &ping, &reply, NULL) == 0 &&
		 priv_decode_pong(&reply, &pong, NULL) == 0 &&
		 pong.token == ping.token && (pid_t)pong.pid == helper_pid;
	priv_msg_release(&reply);
	return ok ? 0 : -1;
}

/* A reload (SIGHUP, systemctl reload) comes from no connection. */
static const struct audit_peer RELOAD_PEER = { 0, "local", 0 };

static void reload(void)
{
	sd_notify(0, "RELOADING=1\nSTATUS=Reloading the configuration");
	log_info("reloading %s", config_path);
	struct priv_msg reply;
	struct priv_reload_result res;
	const char *why = NULL;
	if (priv_request(PRIV_RELOAD, NULL, &reply, NULL) != 0) {
		log_err("reload failed: no answer from the helper");
	} else if (priv_decode_reload_result(&reply, &res, &why) != 0) {
		log_err("reload failed: malformed answer from the helper (%s)",
			why);
	} else if (!res.ok) {
		log_err("reload refused, the running configuration stays: %s",
			res.text);
		log_audit_event(&RELOAD_PEER, "config",
				"action=reload file=\"%s\" result=failure "
				"reason=\"%s\"",
				LOG_ESC(config_path), LOG_ESC(res.text));
	} else {
		char *error = NULL;
		struct winrmd_config *cfg = config_load_string(res.text,
							       config_path,
							       &error);
		if (cfg == NULL) {
			/* The helper's dump always loads; this is a bug. */
			log_err("reload failed: effective configuration does not "
				"load back: %s",
				error);
			free(error);
		} else {
			log_set_level((enum log_level)cfg->log_level);
			log_audit_syslog(cfg->audit_syslog);
			listeners_check_reload(cfg);
			listeners_apply_limits(cfg);
			listeners_reload_tls(cfg, res.certs, res.n_certs);
			runtime_set_config(cfg);
			log_info("configuration reloaded");
			log_audit_event(&RELOAD_PEER, "config",
					"action=reload file=\"%s\" "
					"result=success",
					LOG_ESC(config_path));
		}
	}
	priv_msg_release(&reply);
	sd_notify(0, "READY=1\nSTATUS=Serving");
}

/* Orders the helper to stop and reaps it; returns its exit status. */
static int stop_helper(void)
{
	struct priv_msg reply;
	priv_request(PRIV_SHUTDOWN, NULL, &reply, NULL);
	priv_msg_release(&reply);
	priv_client_stop();
	int status = 0;
	for (int i = 0; i < 100; i++) { /* up to 5 s */
		pid_t p = waitpid(helper_pid, &status, WNOHANG);
		if (p == helper_pid)
			return status;
		if (p < 0)
			return 0;
		usleep(50000);
	}
	log_warn("helper did not stop; killing it");
	kill(helper_pid, SIGKILL);
	waitpid(helper_pid, &status, 0);
	return status;
}

/* Logs how the helper ended, waiting briefly for it; -1 if it still runs. */
static int reap_helper(int wait_ms)
{
	for (int waited = 0;; waited += 20) {
		int status;
		pid_t p = waitpid(helper_pid, &status, WNOHANG);
		if (p == helper_pid) {
			if (WIFSIGNALED(status))
				log_err("helper killed by signal %d",
					WTERMSIG(status));
			else
				log_err("helper exited with status %d",
					WEXITSTATUS(status));
			helper_pid = -1;
			return 0;
		}
		if (p < 0 || waited >= wait_ms)
			return -1;
		usleep(20000);
	}
}

/* The signals the main thread takes through its signalfd. */
static void handled_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGCHLD);
}

static int main_loop(void)
{
	sigset_t set;
	handled_signals(&set);
	int sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sigfd < 0)
		fatal("signalfd: %s", strerror(errno));
	int exit_code = 0;
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = lost_fd, .events = POLLIN },
		};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll: %s", strerror(errno));
		}
		if (pfd[1].revents & POLLIN) {
			log_err("lost the connection to the helper; stopping");
			reap_helper(1000);
			exit_code = 1;
			break;
		}
		struct signalfd_siginfo si;
		if (!(pfd[0].revents & POLLIN) ||
		    read(sigfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			reload();
		} else if (si.ssi_signo == SIGCHLD) {
			if (reap_helper(0) == 0) {
				log_err("stopping: nothing privileged can happen "
					"without the helper");
				exit_code = 1;
				break;
			}
		} else {
			log_info("signal %u received; stopping", si.ssi_signo);
			break;
		}
	}
	close(sigfd);
	return exit_code;
}

/* Backgrounds the process; the parent exits once the child reports
 * readiness (or failure) through a pipe, so `winrmd` returns a truthful
 * status.  Returns the write end for the child. */
static int daemonize(void)
{
	int p[2];
	if (pipe(p) != 0)
		fatal("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		fatal("fork: %s", strerror(errno));
	if (pid > 0) {
		close(p[1]);
		char c = 0;
		ssize_t n = read(p[0], &c, 1);
		_exit(n == 1 && c == 'R' ? 0 : 1);
	}
	close(p[0]);
	setsid();
	if (chdir("/") != 0)
		fatal("chdir /: %s", strerror(errno));
	int devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		if (devnull > 2)
			close(devnull);
	}
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	return p[1];
}

int main(int argc, char **argv)
{
	bool foreground = false, debug = false, check = false, dump = false;
	int opt;
	while ((opt = getopt(argc, argv, "c:fdtThV")) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'f': foreground = true; break;
		case 'd': debug = foreground = true; break;
		case 't': check = true; break;
		case 'T': dump = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("winrmd %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	if (check || dump) {
		struct winrmd_config *cfg = load_or_report(config_path,
							   CONFIG_CHECK_KEYS);
		if (cfg == NULL)
			return 1;
		if (check && !check_host(cfg, CONFIG_HOST_KEYTAB, false)) {
			config_unref(cfg);
			return 1;
		}
		if (dump) {
			struct buf out = BUF_INIT;
			config_dump(cfg, &out);
			fwrite(out.data, 1, out.len, stdout);
			buf_release(&out);
		} else {
			fprintf(stderr, "winrmd: %s: configuration OK\n",
				config_path);
		}
		config_unref(cfg);
		return 0;
	}

	/* Under systemd (Type=notify) we stay in the foreground. */
	if (getenv("NOTIFY_SOCKET") != NULL)
		foreground = true;
	malloc_tune_for_messages();
	bool journald = stderr_is_journal();
	log_init("winrmd", debug ? LOG_LVL_DEBUG : LOG_LVL_INFO, journald);

	if (geteuid() != 0) {
		log_err("winrmd must be started as root: it starts the privileged "
			"helper and then drops to Daemon.User itself");
		return 1;
	}
	char resolved[PATH_MAX];
	if (realpath(config_path, resolved) != NULL)
		config_path = xstrdup(resolved);

	struct winrmd_config *cfg = load_or_report(config_path, 0);
	if (cfg == NULL)
		return 1;
	if (!debug)
		log_set_level((enum log_level)cfg->log_level);
	log_audit_syslog(cfg->audit_syslog);
	/* The keytab is the helper's to read (and to warn about). */
	check_host(cfg, 0, true);

	int ready_fd = -1;
	if (!foreground)
		ready_fd = daemonize();

	runtime_init();
	envelope_global_init();

	char *error = NULL;
	if (listeners_open(cfg, &error) != 0) {
		log_err("%s", error);
		return 1;
	}

	/* Signals are handled by the main thread through a signalfd; block
	 * them before any thread exists so that every thread inherits it. */
	sigset_t set;
	handled_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
		fatal("socketpair: %s", strerror(errno));
	/* Room for a whole encrypted message in flight each way (still
	 * root: above net.core.wmem_max), so that a 256 KiB UNWRAP or WRAP
	 * is one write and one wake-up rather than a relay of partial
	 * writes between the two processes.  A smaller buffer only costs
	 * time. */
	for (int i = 0; i < 2; i++) {
		int size = 4 * 1024 * 1024;
		if (setsockopt(sp[i], SOL_SOCKET, SO_SNDBUFFORCE, &size,
			       sizeof(size)) != 0)
			(void)setsockopt(sp[i], SOL_SOCKET, SO_SNDBUF, &size,
					 sizeof(size));
	}
	start_helper(cfg, sp[1], debug, journald);
	close(sp[1]);

	drop_privileges(cfg->user);

	lost_fd = eventfd(0, EFD_CLOEXEC);
	if (lost_fd < 0 || priv_client_start(sp[0], on_helper_lost) != 0)
		fatal("cannot start the helper client");
	if (ping_helper() != 0) {
		log_err("the helper %s did not start", cfg->helper_path);
		return 1;
	}

	runtime_set_config(cfg); /* the runtime owns this reference now */
	if (shells_start() != 0)
		fatal("cannot start the shell I/O thread");
	if (providers_start() != 0)
		fatal("cannot start the WMI provider I/O thread");
	cfg = runtime_config();
	int started = listeners_start(cfg);
	config_unref(cfg);
	if (started != 0) {
		stop_helper();
		return 1;
	}

	sd_notify(0, "READY=1\nSTATUS=Serving");
	log_notice("winrmd %s ready", PACKAGE_VERSION);
	if (ready_fd >= 0) {
		if (write(ready_fd, "R", 1) != 1) {
			/* the parent is gone; nothing to tell */
		}
		close(ready_fd);
	}

	int code = main_loop();

	sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
	listeners_refuse_new();
	shells_stop();    /* answers the waiting Receives first */
	providers_stop(); /* and the waiting WMI requests */
	listeners_stop();
	shells_join();
	providers_join();
	if (helper_pid > 0) {
		int status = stop_helper();
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			code = 1;
	} else {
		priv_client_stop();
	}
	runtime_set_config(NULL);
	log_notice("winrmd stopped");
	return code;
}
