/*
 * wsman-stream.c - a small WinRM shell client in C for the streaming
 * benchmarks (bench/shell.py).  On the wire it does what pywinrm does: the
 * same envelopes with MaxEnvelopeSize 153600, one request at a time on one
 * keep-alive connection, Basic authentication over HTTP, every stream
 * base64-decoded.  Being C, its own cost is close to ssh's client's, so the
 * comparison with ssh is about the servers.
 *
 *   wsman-stream PORT USER PASSWORD out BYTES
 *       a shell runs `head -c BYTES /dev/zero`; its stdout is received
 *       (Receive until Done) and checked to be BYTES zero bytes
 *   wsman-stream PORT USER PASSWORD in BYTES FILE
 *       BYTES (a fixed pattern) go through rsp:Send into `cat > FILE`;
 *       the caller checks FILE
 *
 * Prints one line "bytes=N seconds=S requests=R" (the time runs from the
 * Command to its Done), exits 1 with a message on any error.  Talks to
 * 127.0.0.1 only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENVELOPE 153600
#define NS_SHELL "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
#define XFER "http://schemas.xmlsoap.org/ws/2004/09/transfer"

struct buf {
	char *data;
	size_t len, cap;
};

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("wsman-stream: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void reserve(struct buf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	b->data = realloc(b->data, cap);
	if (b->data == NULL)
		die("out of memory");
	b->cap = cap;
}

static void append(struct buf *b, const void *p, size_t n)
{
	reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void appendf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static int sock;
static char auth_header[512];
static struct buf in; /* bytes read from the socket, not yet consumed */
static unsigned long requests;

/* An envelope's start, up to and with <s:Body> (b is emptied first). */
static void envelope_head(struct buf *b, const char *action,
			  const char *shell_id, const char *options)
{
	static unsigned long message;
	b->len = 0;
	appendf(b,
		"<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
		"xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
		"xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\" "
		"xmlns:rsp=\"" NS_SHELL "\"><s:Header>"
		"<a:To>http://127.0.0.1/wsman</a:To><a:ReplyTo><a:Address "
		"mustUnderstand=\"true\">http://schemas.xmlsoap.org/ws/2004/08/"
		"addressing/role/anonymous</a:Address></a:ReplyTo>"
		"<w:MaxEnvelopeSize mustUnderstand=\"true\">%d</w:MaxEnvelopeSize>"
		"<a:MessageID>uuid:0B6D9E1C-0000-4000-8000-%012lu</a:MessageID>"
		"<w:OperationTimeout>PT60S</w:OperationTimeout>"
		"<w:ResourceURI mustUnderstand=\"true\">" NS_SHELL
		"/cmd</w:ResourceURI><a:Action mustUnderstand=\"true\">%s"
		"</a:Action>",
		MAX_ENVELOPE, ++message, action);
	if (shell_id != NULL)
		appendf(b,
			"<w:SelectorSet><w:Selector Name=\"ShellId\">%s"
			"</w:Selector></w:SelectorSet>",
			shell_id);
	appendf(b, "%s</s:Header><s:Body>", options);
}

static void envelope(struct buf *b, const char *action, const char *shell_id,
		     const char *options, const char *body_fmt, ...)
{
	envelope_head(b, action, shell_id, options);
	va_list ap;
	va_start(ap, body_fmt);
	int n = vsnprintf(NULL, 0, body_fmt, ap);
	va_end(ap);
	reserve(b, (size_t)n);
	va_start(ap, body_fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, body_fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	appendf(b, "</s:Body></s:Envelope>");
}

static void send_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(sock, p, n, MSG_NOSIGNAL);
		if (k <= 0)
			die("send: connection lost");
		p += k;
		n -= (size_t)k;
	}
}

static void fill(void)
{
	reserve(&in, 65536);
	ssize_t k = recv(sock, in.data + in.len, 65536, 0);
	if (k <= 0)
		die("recv: the server closed the connection");
	in.len += (size_t)k;
	in.data[in.len] = '\0';
}

/* Sends env as a POST; its answer is read by read_response. */
static void send_request(const struct buf *env)
{
	char head[1024];
	int n = snprintf(head, sizeof(head),
			 "POST /wsman HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			 "Content-Type: application/soap+xml;charset=UTF-8\r\n"
			 "%s\r\nContent-Length: %zu\r\n\r\n",
			 auth_header, env->len);
	send_all(head, (size_t)n);
	send_all(env->data, env->len);
	requests++;
}

/* Reads the answer to the request sent last; returns the HTTP status,
 * the body in *body (reused). */
static int read_response(struct buf *body)
{
	char *end;
	while ((end = memmem(in.data ? in.data : "", in.len, "\r\n\r\n", 4)) ==
	       NULL)
		fill();
	size_t head_len = (size_t)(end - in.data) + 4;
	int status = 0;
	if (sscanf(in.data, "HTTP/1.1 %d", &status) != 1)
		die("not an HTTP response");
	char *cl = strcasestr(in.data, "\r\nContent-Length:");
	if (cl == NULL || cl > end)
		die("a response without Content-Length");
	size_t len = strtoul(cl + 17, NULL, 10);
	while (in.len < head_len + len)
		fill();
	body->len = 0;
	append(body, in.data + head_len, len);
	memmove(in.data, in.data + head_len + len, in.len - head_len - len);
	in.len -= head_len + len;
	return status;
}

/* Posts env; returns the HTTP status, the body in *body (reused). */
static int post(const struct buf *env, struct buf *body)
{
	send_request(env);
	return read_response(body);
}

/* The text of the first <TAG>...</TAG> in body (a static copy). */
static const char *element_text(const struct buf *body, const char *open,
				const char *close)
{
	static char out[256];
	const char *p = strstr(body->data, open);
	if (p == NULL)
		return NULL;
	p += strlen(open);
	const char *e = strstr(p, close);
	if (e == NULL || (size_t)(e - p) >= sizeof(out))
		return NULL;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return out;
}

/* Decodes every stdout stream of a ReceiveResponse into out (reused). */
static void decode_stdout(const struct buf *body, struct buf *out)
{
	const char *p = body->data;
	const char *end = body->data + body->len;
	out->len = 0;
	while ((p = memmem(p, (size_t)(end - p), "<rsp:Stream ", 12)) != NULL) {
		const char *gt = memchr(p, '>', (size_t)(end - p));
		if (gt == NULL)
			die("a malformed rsp:Stream");
		int is_stdout = memmem(p, (size_t)(gt - p), "Name=\"stdout\"",
				       13) != NULL;
		if (gt[-1] == '/') { /* an empty <rsp:Stream .../> */
			p = gt;
			continue;
		}
		const char *text = gt + 1;
		/* base64 has no '<': the first one closes the element
		 * (memchr, not memmem: this scans every byte of output) */
		const char *close = memchr(text, '<', (size_t)(end - text));
		if (close == NULL)
			die("an unterminated rsp:Stream");
		size_t n = (size_t)(close - text);
		if (is_stdout && n > 0) {
			if (n % 4 != 0)
				die("stdout: base64 of %zu characters", n);
			reserve(out, n / 4 * 3);
			int k = EVP_DecodeBlock((unsigned char *)out->data +
							out->len,
						(const unsigned char *)text,
						(int)n);
			if (k < 0)
				die("stdout: bad base64");
			k -= (text[n - 1] == '=') + (text[n - 2] == '=');
			out->len += (size_t)k;
		}
		p = close;
	}
}

/* Whether a ReceiveResponse says Done (its exit code in *code).  The
 * state follows the streams: only the end of the body is searched. */
static int command_done(const struct buf *body, int *code)
{
	size_t tail = body->len < 1024 ? body->len : 1024;
	const char *p = body->data + body->len - tail;
	const char *done = memmem(p, tail, "CommandState/Done\"", 18);
	if (done == NULL)
		return 0;
	const char *ec = strstr(done, "<rsp:ExitCode>");
	*code = ec != NULL ? atoi(ec + 14) : -1;
	return 1;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void expect_ok(int status, const struct buf *body, const char *what)
{
	if (status != 200)
		die("%s: HTTP %d: %.600s", what, status, body->data);
}

static char *command(struct buf *env, struct buf *body, const char *shell,
		     const char *line)
{
	envelope(env, NS_SHELL "/Command", shell, "",
		 "<rsp:CommandLine><rsp:Command>%s</rsp:Command>"
		 "</rsp:CommandLine>",
		 line);
	expect_ok(post(env, body), body, "Command");
	const char *id = element_text(body, "<rsp:CommandId>",
				      "</rsp:CommandId>");
	if (id == NULL)
		die("no CommandId");
	return strdup(id);
}

/* Whether p[0..n) are all zero bytes: memcmp against a zero block, not a
 * byte loop (this checks every byte received). */
static int all_zero(const char *p, size_t n)
{
	static const char zero[65536];
	while (n > 0) {
		size_t k = n < sizeof(zero) ? n : sizeof(zero);
		if (memcmp(p, zero, k) != 0)
			return 0;
		p += k;
		n -= k;
	}
	return 1;
}

static void send_receive(struct buf *env, const char *shell, const char *cmd)
{
	envelope(env, NS_SHELL "/Receive", shell, "",
		 "<rsp:Receive><rsp:DesiredStream CommandId=\"%s\">"
		 "stdout stderr</rsp:DesiredStream></rsp:Receive>",
		 cmd);
	send_request(env);
}

/* Receives until Done; returns the stdout byte count (checked to be
 * zeros when zeros is set).  The next Receive goes out as soon as an
 * answer is in, before its streams are decoded: still one request at a
 * time on the wire, but the decoding overlaps the server's work, as ssh's
 * client decrypts while more arrives. */
static size_t drain(struct buf *env, struct buf *body, const char *shell,
		    const char *cmd, int zeros)
{
	struct buf out = { 0 };
	size_t total = 0;
	int in_flight = 0;
	for (;;) {
		if (!in_flight) {
			send_receive(env, shell, cmd);
		}
		int status = read_response(body);
		in_flight = 0;
		if (status != 200 && strstr(body->data, "2150858793") != NULL)
			continue; /* TimedOut: ask again */
		expect_ok(status, body, "Receive");
		int code = 0;
		int done = command_done(body, &code);
		if (!done) {
			send_receive(env, shell, cmd);
			in_flight = 1;
		}
		decode_stdout(body, &out);
		if (zeros && !all_zero(out.data, out.len))
			die("stdout: a byte that is not zero");
		total += out.len;
		if (done) {
			if (code != 0)
				die("the command exited %d", code);
			free(out.data);
			return total;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 6 || (strcmp(argv[4], "out") != 0 &&
			 (strcmp(argv[4], "in") != 0 || argc < 7)))
		die("usage: wsman-stream PORT USER PASSWORD out BYTES | "
		    "wsman-stream PORT USER PASSWORD in BYTES FILE");
	int port = atoi(argv[1]);
	size_t bytes = strtoull(argv[5], NULL, 10);
	char cred[256], cred64[400];
	snprintf(cred, sizeof(cred), "%s:%s", argv[2], argv[3]);
	EVP_EncodeBlock((unsigned char *)cred64, (unsigned char *)cred,
			(int)strlen(cred));
	snprintf(auth_header, sizeof(auth_header), "Authorization: Basic %s",
		 cred64);

	sock = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die("cannot connect to 127.0.0.1:%d", port);
	int one = 1;
	setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	struct buf env = { 0 }, body = { 0 };
	envelope(&env, XFER "/Create", NULL,
		 "<w:OptionSet><w:Option Name=\"WINRS_NOPROFILE\">TRUE"
		 "</w:Option><w:Option Name=\"WINRS_CODEPAGE\">65001"
		 "</w:Option></w:OptionSet>",
		 "<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams>"
		 "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams>"
		 "</rsp:Shell>");
	expect_ok(post(&env, &body), &body, "Create");
	const char *sid = element_text(&body, "<w:Selector Name=\"ShellId\">",
				       "</w:Selector>");
	if (sid == NULL)
		die("no ShellId");
	char *shell = strdup(sid);

	double t0 = now();
	size_t moved;
	if (strcmp(argv[4], "out") == 0) {
		char line[64];
		snprintf(line, sizeof(line), "head -c %zu /dev/zero", bytes);
		char *cmd = command(&env, &body, shell, line);
		moved = drain(&env, &body, shell, cmd, 1);
		if (moved != bytes)
			die("stdout: %zu bytes, expected %zu", moved, bytes);
		free(cmd);
	} else {
		char line[4200];
		snprintf(line, sizeof(line), "cat > %s", argv[6]);
		char *cmd = command(&env, &body, shell, line);
		/* What fits one envelope once base64-encoded, as the
		 * server budgets a Receive. */
		size_t chunk = (MAX_ENVELOPE - 4096) / 4 * 3;
		unsigned char *plain = malloc(chunk);
		char *b64 = malloc(chunk / 3 * 4 + 1);
		for (size_t i = 0; i < chunk; i++)
			plain[i] = (unsigned char)(i * 131 + 7);
		/* Each Send's envelope is built while the server handles
		 * the one before (the decoding overlap of drain). */
		struct buf next = { 0 };
		moved = 0;
		int in_flight = 0;
		do {
			size_t n = bytes - moved < chunk ? bytes - moved
							 : chunk;
			int b64_len = EVP_EncodeBlock((unsigned char *)b64,
						      plain, (int)n);
			moved += n;
			/* the stream appended as it is: printf's %s copies
			 * 150 KB through stdio (most of this client's time) */
			envelope_head(&next, NS_SHELL "/Send", shell, "");
			appendf(&next,
				"<rsp:Send><rsp:Stream Name=\"stdin\" "
				"CommandId=\"%s\"%s>",
				cmd, moved == bytes ? " End=\"true\"" : "");
			append(&next, b64, (size_t)b64_len);
			appendf(&next, "</rsp:Stream></rsp:Send>"
				       "</s:Body></s:Envelope>");
			if (in_flight)
				expect_ok(read_response(&body), &body, "Send");
			struct buf t = env;
			env = next;
			next = t;
			send_request(&env);
			in_flight = 1;
		} while (moved < bytes);
		expect_ok(read_response(&body), &body, "Send");
		free(next.data);
		drain(&env, &body, shell, cmd, 0);
		free(plain);
		free(b64);
		free(cmd);
	}
	double el = now() - t0;
	envelope(&env, XFER "/Delete", shell, "", "");
	expect_ok(post(&env, &body), &body, "Delete");
	printf("bytes=%zu seconds=%.4f requests=%lu\n", moved, el, requests);
	free(shell);
	free(env.data);
	free(body.data);
	free(in.data);
	close(sock);
	return 0;
}
