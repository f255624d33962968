/*
 * quickconfig.h - winrmctl quickconfig: what "winrm quickconfig" does on
 * Windows, the Linux way (winrmctl(1), "QUICKCONFIG").
 */
#ifndef WINRMCTL_QUICKCONFIG_H
#define WINRMCTL_QUICKCONFIG_H

/* The help text ("winrmctl quickconfig -?", "winrmctl help quickconfig"). */
extern const char quickconfig_help[];

/* True when argv[1] names the operation: quickconfig or qc, any case. */
int quickconfig_wanted(int argc, char *const argv[]);

/* Runs "winrmctl quickconfig ..." (argv[0] is "winrmctl").  Returns the
 * exit status: 0 done (or nothing to do), 1 refused or failed, 2 bad
 * command line. */
int quickconfig_main(int argc, char *const argv[]);

#endif
