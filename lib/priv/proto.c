/*
 * proto.c - encoding, decoding and framing of the listener <-> helper
 * messages.  See proto.h for the wire format.
 *
 * Must not: log, exit, or trust any length read from the peer.
 * Entry points: priv_msg_init/release, priv_put_*, priv_get_*,
 * priv_send, priv_recv, priv_frame_parse.
 */
#include "autoconfig.h"

#include "lib/priv/proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define FRAME_HDR 12 /* len + seq + type + nfds */

static const char *const type_names[PRIV_TYPE_MAX] = {
	[PRIV_NONE] = "NONE",
	[PRIV_PING] = "PING",
	[PRIV_PONG] = "PONG",
	[PRIV_RELOAD] = "RELOAD",
	[PRIV_RELOAD_RESULT] = "RELOAD_RESULT",
	[PRIV_SHUTDOWN] = "SHUTDOWN",
	[PRIV_SHUTDOWN_DONE] = "SHUTDOWN_DONE",
	[PRIV_ERROR] = "ERROR",
	[PRIV_AUTH_GSS] = "AUTH_GSS",
	[PRIV_AUTH_BASIC] = "AUTH_BASIC",
	[PRIV_AUTH_RESULT] = "AUTH_RESULT",
	[PRIV_CONN_CLOSE] = "CONN_CLOSE",
	[PRIV_AUTH_CERT] = "AUTH_CERT",
	[PRIV_OK] = "OK",
	[PRIV_SPAWN] = "SPAWN",
	[PRIV_SPAWN_RESULT] = "SPAWN_RESULT",
	[PRIV_SIGNAL] = "SIGNAL",
	[PRIV_CONFIG_PUT] = "CONFIG_PUT",
	[PRIV_CONFIG_RESULT] = "CONFIG_RESULT",
	[PRIV_AUTH_PEER] = "AUTH_PEER",
	[PRIV_UNWRAP] = "UNWRAP",
	[PRIV_UNWRAP_RESULT] = "UNWRAP_RESULT",
	[PRIV_WRAP] = "WRAP",
	[PRIV_WRAP_RESULT] = "WRAP_RESULT",
	[PRIV_CERTMAP] = "CERTMAP",
	[PRIV_CERTMAP_RESULT] = "CERTMAP_RESULT",
	[PRIV_SIGN] = "SIGN",
	[PRIV_SIGN_RESULT] = "SIGN_RESULT",
	[PRIV_LOCAL_CONN] = "LOCAL_CONN",
	[PRIV_LISTENER_EDIT] = "LISTENER_EDIT",
	[PRIV_SHELL_END] = "SHELL_END",
};

/* One allocation of the decoding arena. */
struct priv_arena {
	struct priv_arena *next;
	size_t size;
	max_align_t data[];
};

const char *priv_type_name(uint16_t type)
{
	if (type < PRIV_TYPE_MAX && type_names[type] != NULL)
		return type_names[type];
	return "UNKNOWN";
}

void priv_msg_init(struct priv_msg *m, uint16_t type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	buf_init(&m->body);
	for (unsigned i = 0; i < PRIV_MAX_FDS; i++)
		m->fds[i] = -1;
}

void priv_msg_release(struct priv_msg *m)
{
	for (unsigned i = 0; i < PRIV_MAX_FDS; i++) {
		if (m->fds[i] >= 0)
			close(m->fds[i]);
		m->fds[i] = -1;
	}
	m->n_fds = 0;
	buf_release_secret(&m->body);
	m->rpos = 0;
	m->bad = false;
	while (m->arena != NULL) {
		struct priv_arena *a = m->arena;
		m->arena = a->next;
		free_secret(a, sizeof(*a) + a->size);
	}
}

void *priv_msg_alloc(struct priv_msg *m, size_t n)
{
	struct priv_arena *a = xcalloc(1, sizeof(*a) + n);
	a->size = n;
	a->next = m->arena;
	m->arena = a;
	return a->data;
}

static void put_le(struct priv_msg *m, uint64_t v, unsigned bytes)
{
	uint8_t b[8];
	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	buf_append(&m->body, b, bytes);
}

void priv_put_u32(struct priv_msg *m, uint32_t v)
{
	put_le(m, v, 4);
}

void priv_put_u64(struct priv_msg *m, uint64_t v)
{
	put_le(m, v, 8);
}

void priv_put_bytes(struct priv_msg *m, const void *p, size_t n)
{
	priv_put_u32(m, (uint32_t)n);
	buf_append(&m->body, p, n);
}

void priv_put_str(struct priv_msg *m, const char *s)
{
	if (s == NULL)
		s = "";
	priv_put_bytes(m, s, strlen(s));
}

int priv_put_fd(struct priv_msg *m, int fd)
{
	if (m->n_fds >= PRIV_MAX_FDS)
		return -1;
	m->fds[m->n_fds++] = fd;
	return 0;
}

static uint64_t get_le(struct priv_msg *m, unsigned bytes)
{
	if (m->bad || m->body.len - m->rpos < bytes) {
		m->bad = true;
		return 0;
	}
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)m->body.data[m->rpos + i] << (8 * i);
	m->rpos += bytes;
	return v;
}

uint32_t priv_get_u32(struct priv_msg *m)
{
	return (uint32_t)get_le(m, 4);
}

uint64_t priv_get_u64(struct priv_msg *m)
{
	return get_le(m, 8);
}

const uint8_t *priv_get_bytes(struct priv_msg *m, size_t *len_r)
{
	uint32_t n = priv_get_u32(m);
	if (m->bad || m->body.len - m->rpos < n) {
		m->bad = true;
		*len_r = 0;
		return (const uint8_t *)"";
	}
	const uint8_t *p = m->body.data + m->rpos;
	m->rpos += n;
	*len_r = n;
	return p;
}

char *priv_get_str(struct priv_msg *m)
{
	size_t n;
	const uint8_t *p = priv_get_bytes(m, &n);
	if (memchr(p, '\0', n) != NULL) {
		m->bad = true;
		return xstrdup("");
	}
	return xstrndup((const char *)p, n);
}

int priv_take_fd(struct priv_msg *m)
{
	for (unsigned i = 0; i < m->n_fds; i++) {
		if (m->fds[i] >= 0) {
			int fd = m->fds[i];
			m->fds[i] = -1;
			return fd;
		}
	}
	return -1;
}

bool priv_msg_ok(const struct priv_msg *m)
{
	return !m->bad && m->rpos == m->body.len;
}

static void put_hdr(uint8_t *h, const struct priv_msg *m)
{
	uint32_t len = (uint32_t)(FRAME_HDR - 4 + m->body.len);
	uint32_t fields[2] = { len, m->seq };
	for (unsigned f = 0; f < 2; f++)
		for (unsigned i = 0; i < 4; i++)
			h[f * 4 + i] = (uint8_t)(fields[f] >> (8 * i));
	h[8] = (uint8_t)m->type;
	h[9] = (uint8_t)(m->type >> 8);
	h[10] = (uint8_t)m->n_fds;
	h[11] = (uint8_t)(m->n_fds >> 8);
}

void priv_frame_encode(const struct priv_msg *m, struct buf *out)
{
	uint8_t h[FRAME_HDR];
	put_hdr(h, m);
	h[10] = h[11] = 0;
	buf_append(out, h, sizeof(h));
	if (m->body.len > 0)
		buf_append(out, m->body.data, m->body.len);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Validates a frame header; fills seq/type/nfds; returns body length or -1. */
static long parse_hdr(const uint8_t *h, struct priv_msg *m, unsigned *nfds_r)
{
	uint32_t len = rd32(h);
	if (len < FRAME_HDR - 4 || len > PRIV_MAX_FRAME)
		return -1;
	m->seq = rd32(h + 4);
	m->type = (uint16_t)(h[8] | h[9] << 8);
	*nfds_r = (unsigned)(h[10] | h[11] << 8);
	if (*nfds_r > PRIV_MAX_FDS)
		return -1;
	return (long)(len - (FRAME_HDR - 4));
}

long priv_frame_parse(const uint8_t *data, size_t len, struct priv_msg *m)
{
	priv_msg_init(m, PRIV_NONE);
	if (len < FRAME_HDR)
		return 0;
	unsigned nfds;
	long body = parse_hdr(data, m, &nfds);
	if (body < 0 || nfds != 0)
		return -1;
	if (len - FRAME_HDR < (size_t)body)
		return 0;
	buf_append(&m->body, data + FRAME_HDR, (size_t)body);
	return FRAME_HDR + body;
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *q = p;
	while (n > 0) {
		ssize_t w = send(fd, q, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_fds(int fd, const int *fds, unsigned n)
{
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * PRIV_MAX_FDS)];
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = CMSG_SPACE(sizeof(int) * n),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	for (;;) {
		ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (w == 1)
			return 0;
		if (w < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

int priv_send(int fd, struct priv_msg *m)
{
	if (m->body.len > PRIV_MAX_FRAME - FRAME_HDR) {
		errno = EMSGSIZE;
		return -1;
	}
	uint8_t h[FRAME_HDR];
	put_hdr(h, m);
	struct iovec iov[2] = {
		{ .iov_base = h, .iov_len = sizeof(h) },
		{ .iov_base = m->body.data, .iov_len = m->body.len },
	};
	int rc = 0;
	/* Header and body in one writev when possible (small messages are
	 * the common case); fall back to write_all for the remainder. */
	ssize_t w;
	do {
		w = writev(fd, iov, m->body.len > 0 ? 2 : 1);
	} while (w < 0 && errno == EINTR);
	if (w < 0) {
		rc = -1;
	} else {
		size_t done = (size_t)w;
		if (done < sizeof(h)) {
			rc = write_all(fd, h + done, sizeof(h) - done);
			done = sizeof(h);
		}
		if (rc == 0 && done - sizeof(h) < m->body.len)
			rc = write_all(fd, m->body.data + (done - sizeof(h)),
				       m->body.len - (done - sizeof(h)));
	}
	if (rc == 0 && m->n_fds > 0)
		rc = send_fds(fd, m->fds, m->n_fds);
	for (unsigned i = 0; i < m->n_fds; i++) {
		if (m->fds[i] >= 0)
			close(m->fds[i]);
		m->fds[i] = -1;
	}
	m->n_fds = 0;
	return rc;
}

/* Reads exactly n bytes; returns 0, 1 on EOF before the first byte, -1. */
static int read_all(int fd, void *p, size_t n)
{
	uint8_t *q = p;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, q + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			if (got == 0)
				return 1;
			errno = EPROTO;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static int recv_fds(int fd, struct priv_msg *m, unsigned n)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * PRIV_MAX_FDS)];
	} u;
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	ssize_t r;
	do {
		r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (r < 0 && errno == EINTR);
	if (r != 1)
		goto bad;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL;
	     c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int got[PRIV_MAX_FDS * 2];
		if (k > sizeof(got) / sizeof(got[0]))
			k = sizeof(got) / sizeof(got[0]);
		memcpy(got, CMSG_DATA(c), k * sizeof(int));
		for (size_t i = 0; i < k; i++) {
			if (m->n_fds < n && m->n_fds < PRIV_MAX_FDS)
				m->fds[m->n_fds++] = got[i];
			else
				close(got[i]);
		}
	}
	if ((mh.msg_flags & MSG_CTRUNC) || m->n_fds != n)
		goto bad;
	return 0;
bad:
	errno = EPROTO;
	return -1;
}

int priv_recv(int fd, struct priv_msg *m)
{
	uint8_t h[FRAME_HDR];
	priv_msg_init(m, PRIV_NONE);
	int rc = read_all(fd, h, sizeof(h));
	if (rc != 0)
		return rc;
	unsigned nfds;
	long body = parse_hdr(h, m, &nfds);
	if (body < 0) {
		errno = EPROTO;
		return -1;
	}
	if (body > 0) {
		buf_reserve(&m->body, (size_t)body);
		if (read_all(fd, m->body.data, (size_t)body) != 0) {
			errno = EPROTO;
			return -1;
		}
		m->body.len = (size_t)body;
		m->body.data[body] = '\0';
	}
	if (nfds > 0 && recv_fds(fd, m, nfds) != 0)
		return -1;
	return 0;
}
