/*
 * win32_logicaldisk.c - Win32_LogicalDisk: one instance per mounted file
 * system the caller sees (/proc/self/mounts, its mount namespace), keyed
 * by its mount point (DeviceID "/", "/home"...), skipping pseudo file
 * systems (proc, sysfs, tmpfs, cgroup...).  Sizes come from statvfs as
 * the caller: Size = f_blocks x f_frsize, FreeSpace = f_bavail x f_frsize
 * (what df shows as available); a file system the caller cannot stat
 * has null sizes.  DriveType: 4 network (nfs, cifs, sshfs...), 5 optical
 * (iso9660, udf), 2 removable (/sys/block/<disk>/removable), else 3.
 * VolumeName and VolumeSerialNumber are the file system's label and UUID
 * (/dev/disk/by-label, /dev/disk/by-uuid).
 */
#include "autoconfig.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "provider/provider.h"

PROVIDER_PROP_ENUM(Win32_LogicalDisk);

static const char *const pseudo[] = {
	"proc",
	"sysfs",
	"devtmpfs",
	"devpts",
	"tmpfs",
	"ramfs",
	"cgroup",
	"cgroup2",
	"securityfs",
	"pstore",
	"bpf",
	"debugfs",
	"tracefs",
	"configfs",
	"fusectl",
	"mqueue",
	"hugetlbfs",
	"autofs",
	"binfmt_misc",
	"rpc_pipefs",
	"nsfs",
	"efivarfs",
	"selinuxfs",
	"nfsd",
	"fuse.gvfsd-fuse",
	"fuse.portal",
	"rootfs",
	NULL,
};

static const char *const network[] = {
	"nfs",  "nfs4",           "cifs",      "smb3",       "smbfs", "ncpfs",
	"afs",  "ceph",           "glusterfs", "fuse.sshfs", "9p",    "lustre",
	"gpfs", "fuse.glusterfs", "fuse.s3fs", "davfs",      NULL,
};

static bool in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' &&
		    r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 +
				      (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* The entry of /dev/disk/<dir> that points at device dev (a label or a
 * UUID), with udev's \x escapes undone; NULL when none. */
static char *disk_name(const char *dir, const char *dev)
{
	char real_dev[PATH_MAX];
	if (realpath(dev, real_dev) == NULL)
		return NULL;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "/dev/disk/%s", dir);
	DIR *d = opendir(path);
	if (d == NULL)
		return NULL;
	char *found = NULL;
	struct dirent *e;
	while (found == NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char target[PATH_MAX];
		char *link = xasprintf("%s/%s", path, e->d_name);
		bool same = realpath(link, target) != NULL &&
			    strcmp(target, real_dev) == 0;
		free(link);
		if (same) {
			struct buf b = BUF_INIT;
			for (const char *p = e->d_name; *p; p++) {
				unsigned v;
				if (p[0] == '\\' && p[1] == 'x' &&
				    sscanf(p + 2, "%2x", &v) == 1) {
					buf_append_byte(&b, (uint8_t)v);
					p += 3;
				} else {
					buf_append_byte(&b, (uint8_t)*p);
				}
			}
			found = buf_steal(&b);
		}
	}
	closedir(d);
	return found;
}

/* Whether the disk holding block device dev is removable. */
static bool removable(const char *dev)
{
	struct stat st;
	if (stat(dev, &st) != 0 || !S_ISBLK(st.st_mode))
		return false;
	char path[128];
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/removable",
		 major(st.st_rdev), minor(st.st_rdev));
	char *v = sys_read_line(path);
	if (v == NULL) {
		/* a partition: the flag is on its disk, one level up */
		snprintf(path, sizeof(path),
			 "/sys/dev/block/%u:%u/../removable", major(st.st_rdev),
			 minor(st.st_rdev));
		v = sys_read_line(path);
	}
	bool r = v != NULL && strcmp(v, "1") == 0;
	free(v);
	return r;
}

struct mnt {
	char *src, *dir, *type;
	bool ro;
};

static int enumerate(struct prov_out *o, char **message)
{
	struct buf b = BUF_INIT;
	if (sys_read_file("/proc/self/mounts", 4u << 20, &b) != 0) {
		buf_release(&b);
		*message = xstrdup("cannot read /proc/self/mounts");
		return WMI_E_FAILED;
	}
	const char *hint = prov_hint(o->req, "DeviceID");
	struct mnt *m = NULL;
	size_t n = 0;
	char *save = NULL;
	for (char *line = strtok_r((char *)b.data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[4];
		char *s2 = NULL;
		f[0] = strtok_r(line, " ", &s2);
		for (int i = 1; i < 4; i++)
			f[i] = f[i - 1] ? strtok_r(NULL, " ", &s2) : NULL;
		if (f[3] == NULL || in_list(pseudo, f[2]))
			continue;
		unescape(f[0]);
		unescape(f[1]);
		if (hint != NULL && strcmp(hint, f[1]) != 0)
			continue;
		/* the last mount on a directory is the one visible there */
		size_t k;
		for (k = 0; k < n; k++)
			if (strcmp(m[k].dir, f[1]) == 0)
				break;
		if (k == n) {
			m = xrealloc(m, (n + 1) * sizeof(*m));
			n++;
		}
		m[k] = (struct mnt){ f[0], f[1], f[2],
				     strncmp(f[3], "ro", 2) == 0 &&
					     (f[3][2] == ',' ||
					      f[3][2] == '\0') };
	}
	for (size_t i = 0; i < n; i++) {
		const struct mnt *e = &m[i];
		bool net = in_list(network, e->type);
		bool local_src = e->src[0] == '/';
		if (!net && !local_src && strcmp(e->type, "overlay") != 0 &&
		    strcmp(e->type, "zfs") != 0 &&
		    strcmp(e->type, "btrfs") != 0)
			continue; /* e.g. a named pseudo source */
		unsigned drive = 3;
		const char *desc = "Local Fixed Disk";
		unsigned media = 12;
		if (net) {
			drive = 4;
			desc = "Network Connection";
			media = 0;
		} else if (strcmp(e->type, "iso9660") == 0 ||
			   strcmp(e->type, "udf") == 0) {
			drive = 5;
			desc = "CD-ROM Disc";
			media = 11;
		} else if (local_src && removable(e->src)) {
			drive = 2;
			desc = "Removable Disk";
			media = 11;
		}
		struct statvfs sv;
		bool have_sv = statvfs(e->dir, &sv) == 0;
		char *label = local_src && !net ? disk_name("by-label", e->src)
						: NULL;
		char *uuid = local_src && !net ? disk_name("by-uuid", e->src)
					       : NULL;
		out_begin(o);
		out_uint(o, P_Access, e->ro ? 1 : 3);
		out_str(o, P_Caption, e->dir);
		out_bool(o, P_Compressed, false);
		out_str(o, P_CreationClassName, "Win32_LogicalDisk");
		out_str(o, P_Description, desc);
		out_str(o, P_DeviceID, e->dir);
		out_uint(o, P_DriveType, drive);
		out_str(o, P_FileSystem, e->type);
		if (have_sv) {
			out_uint(o, P_FreeSpace,
				 (uint64_t)sv.f_bavail * sv.f_frsize);
			out_uint(o, P_MaximumComponentLength, sv.f_namemax);
			out_uint(o, P_Size,
				 (uint64_t)sv.f_blocks * sv.f_frsize);
		}
		if (media != 0)
			out_uint(o, P_MediaType, media);
		out_str(o, P_Name, e->dir);
		if (net)
			out_str(o, P_ProviderName, e->src);
		out_str(o, P_SystemCreationClassName, "Win32_ComputerSystem");
		out_str(o, P_SystemName, sys_hostname());
		if (!net)
			out_str(o, P_VolumeName, label ? label : "");
		out_str(o, P_VolumeSerialNumber, uuid);
		out_end(o);
		free(label);
		free(uuid);
	}
	free(m);
	buf_release(&b);
	return 0;
}

const struct provider_class provider_Win32_LogicalDisk = { enumerate, NULL };
