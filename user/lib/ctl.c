// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Both ends of the control protocol (see ctl.h): one JSON object and a
 * newline each way over a Unix stream socket. The client's socket is
 * non-blocking and each message must be read or written within its
 * deadline, so a silent daemon cannot hang it; the daemon's side of a
 * connection lives in its event loop (user/xlbd/control.c) and uses only
 * the parsing and encoding here.
 *
 * xlb_ctl_call returns 0 only for {"ok": true, ...}: *resp is then the
 * whole response (the caller takes "result" from it). A refusal returns
 * the daemon's -code with its message in err and *resp NULL, so callers
 * have one error path for "unreachable" and "said no".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ctl.h"
#include "util.h"

/* The connected or accepted socket, with the peer's name for messages. */
struct conn {
	int fd;
	const char *peer;
};

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* Deadlines are signed: a past one leaves a negative time to wait. */
static long long now_ms(void)
{
	return (long long)xlb_now_ms();
}

/*
 * Waits for events on fd until deadline (now_ms() time): 0, -ETIMEDOUT
 * or a negative errno. A deadline for the whole message, not for each
 * read, so a peer trickling bytes cannot hold xlbd's loop for long.
 */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	long long left;
	int n;

	do {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static int send_all(int fd, const char *buf, size_t len, long long deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			int ret;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			ret = wait_fd(fd, POLLOUT, deadline);
			if (ret)
				return ret;
			continue;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

int xlb_ctl_send(int fd, json_t *msg)
{
	long long deadline = now_ms() + XLB_CTL_TIMEOUT_MS;
	size_t len;
	char *text = xlb_ctl_encode(msg, &len);
	int ret;

	if (!text)
		return msg ? -ENOMEM : -EINVAL;
	ret = send_all(fd, text, len, deadline);
	free(text);
	return ret;
}

/*
 * Reads one line (without its newline) into a new buffer. EOF after some
 * bytes counts as the end of the line, so a peer that forgets the newline
 * and closes is still understood; EOF before any byte is -ECONNRESET.
 */
static int recv_line(int fd, char **out, size_t *out_len, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap), *nl;
	int ret;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *p;

			if (cap > XLB_CTL_MAX_MSG) {
				ret = -EMSGSIZE;
				goto err_free;
			}
			/* Room for the largest message and its newline. */
			cap = cap * 2 > (size_t)XLB_CTL_MAX_MSG + 1
				      ? (size_t)XLB_CTL_MAX_MSG + 1
				      : cap * 2;
			p = realloc(buf, cap);
			if (!p) {
				ret = -ENOMEM;
				goto err_free;
			}
			buf = p;
		}
		n = recv(fd, buf + len, cap - len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				ret = -errno;
				goto err_free;
			}
			ret = wait_fd(fd, POLLIN, deadline);
			if (ret)
				goto err_free;
			continue;
		}
		if (n == 0) {
			if (len == 0) {
				ret = -ECONNRESET;
				goto err_free;
			}
			break;
		}
		nl = memchr(buf + len, '\n', n);
		len += n;
		if (nl) {
			len = nl - buf;
			break;
		}
		if (len > XLB_CTL_MAX_MSG) {
			ret = -EMSGSIZE;
			goto err_free;
		}
	}
	if (len > XLB_CTL_MAX_MSG) {
		ret = -EMSGSIZE;
		goto err_free;
	}
	*out = buf;
	*out_len = len;
	return 0;

err_free:
	free(buf);
	return ret;
}

/* Parses one message that must be a JSON object. */
static int parse_object(const char *buf, size_t len, json_t **out,
			struct xlb_err *err)
{
	json_error_t jerr;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!j) {
		xlb_err_set(err, "malformed JSON at column %d: %s", jerr.column,
			    jerr.text);
		return -EBADMSG;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		xlb_err_set(err, "message is not a JSON object");
		return -EBADMSG;
	}
	*out = j;
	return 0;
}

static int fill_addr(struct sockaddr_un *sa, const char *path,
		     struct xlb_err *err)
{
	size_t len = strlen(path);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (len == 0 || len >= sizeof(sa->sun_path)) {
		xlb_err_set(err, "socket path '%s': must be 1..%zu characters",
			    path, sizeof(sa->sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa->sun_path, path, len + 1);
	return 0;
}

/* A stream Unix socket: its fd, or -errno with err set. */
static int unix_socket(struct xlb_err *err)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		fd = -errno;
		xlb_err_set(err, "socket: %s", strerror(-fd));
	}
	return fd;
}

static int ctl_connect(const char *path, struct xlb_err *err)
{
	struct sockaddr_un sa;
	int fd, ret;

	ret = fill_addr(&sa, path, err);
	if (ret)
		return ret;
	fd = unix_socket(err);
	if (fd < 0)
		return fd;
	/* Blocking connect: a Unix socket answers at once or not at all. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		xlb_err_set(err, "cannot reach xlbd at %s: %s%s", path,
			    strerror(-ret),
			    ret == -ENOENT || ret == -ECONNREFUSED
				    ? " (is xlbd running?)"
			    : ret == -EACCES || ret == -EPERM
				    ? " (are you root?)"
				    : "");
		goto err_close;
	}
	ret = set_nonblock(fd);
	if (ret) {
		xlb_err_set(err, "socket: %s", strerror(-ret));
		goto err_close;
	}
	return fd;

err_close:
	close(fd);
	return ret;
}

/* Decodes a response: 0 for ok:true, the daemon's -code for ok:false. */
static int parse_response(json_t *resp, struct xlb_err *err)
{
	json_t *ok = json_object_get(resp, "ok");
	json_t *code = json_object_get(resp, "code");
	const char *msg;

	if (!json_is_boolean(ok)) {
		xlb_err_set(err, "bad response from xlbd: no \"ok\" field");
		return -EBADMSG;
	}
	if (json_is_true(ok))
		return 0;
	msg = json_string_value(json_object_get(resp, "error"));
	xlb_err_set(err, "%s", msg ? msg : "xlbd refused without a reason");
	if (json_is_integer(code) && json_integer_value(code) > 0 &&
	    json_integer_value(code) < 4096)
		return -(int)json_integer_value(code);
	return -EPROTO;
}

int xlb_ctl_call(const char *path, const char *op, json_t *args, json_t **resp,
		 struct xlb_err *err)
{
	json_t *req, *r = NULL;
	size_t len = 0;
	char *buf = NULL;
	int fd, ret;

	*resp = NULL;
	/* args is borrowed: the caller keeps its reference. */
	req = json_pack("{s:s, s:o}", "op", op, "args",
			args ? json_incref(args) : json_object());
	if (!req) {
		xlb_err_set(err, "cannot build request %s", op);
		return -ENOMEM;
	}

	fd = ctl_connect(path, err);
	if (fd < 0) {
		ret = fd;
		goto out_req;
	}
	ret = xlb_ctl_send(fd, req);
	if (ret) {
		xlb_err_set(err, "sending to xlbd at %s: %s", path,
			    strerror(-ret));
		goto out_close;
	}
	ret = recv_line(fd, &buf, &len, XLB_CTL_ANSWER_TIMEOUT_MS);
	if (ret) {
		if (ret == -ETIMEDOUT)
			xlb_err_set(err,
				    "xlbd at %s did not answer within %d ms",
				    path, XLB_CTL_ANSWER_TIMEOUT_MS);
		else if (ret == -ECONNRESET)
			xlb_err_set(err,
				    "xlbd at %s closed the connection without "
				    "an answer",
				    path);
		else
			xlb_err_set(err, "reading from xlbd at %s: %s", path,
				    strerror(-ret));
		goto out_close;
	}
	ret = parse_object(buf, len, &r, err);
	free(buf);
	if (ret) {
		struct xlb_err why = *err;

		xlb_err_set(err, "bad response from xlbd: %s", why.msg);
		goto out_close;
	}
	ret = parse_response(r, err);
	if (ret) {
		json_decref(r);
		goto out_close;
	}
	*resp = r;

out_close:
	close(fd);
out_req:
	json_decref(req);
	return ret;
}

/*
 * Removes a socket left by a daemon that died, but never a live one (a
 * second xlbd must not steal the first one's socket) nor a file that is
 * not a socket.
 */
static int remove_stale(const char *path, const struct sockaddr_un *sa,
			struct xlb_err *err)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		xlb_err_set(err, "control socket %s: %s", path, strerror(-ret));
		return ret;
	}
	if (!S_ISSOCK(st.st_mode)) {
		xlb_err_set(err,
			    "control socket %s: exists and is not a socket",
			    path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
		close(fd);
		if (ret == 0) {
			xlb_err_set(err,
				    "control socket %s: another xlbd is "
				    "listening on it",
				    path);
			return -EADDRINUSE;
		}
	}
	if (unlink(path) && errno != ENOENT) {
		ret = -errno;
		xlb_err_set(err, "cannot remove stale socket %s: %s", path,
			    strerror(-ret));
		return ret;
	}
	return 0;
}

int xlb_ctl_listen(const char *path, mode_t mode, struct xlb_err *err)
{
	struct sockaddr_un sa;
	mode_t old_umask;
	int fd, ret;

	ret = fill_addr(&sa, path, err);
	if (ret)
		return ret;
	ret = xlb_mkdir_parent(path, 0755);
	if (ret) {
		xlb_err_set(err, "cannot create the directory of %s: %s", path,
			    strerror(-ret));
		return ret;
	}
	ret = remove_stale(path, &sa, err);
	if (ret)
		return ret;
	fd = unix_socket(err);
	if (fd < 0)
		return fd;
	/* The socket is born with the final mode: no moment it is wider. */
	old_umask = umask(~mode & 0777);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old_umask);
	if (ret) {
		xlb_err_set(err, "cannot bind %s: %s", path, strerror(-ret));
		goto err_close;
	}
	if (chmod(path, mode)) {
		ret = -errno;
		xlb_err_set(err, "cannot chmod %s: %s", path, strerror(-ret));
		goto err_unlink;
	}
	if (listen(fd, 64)) {
		ret = -errno;
		xlb_err_set(err, "cannot listen on %s: %s", path,
			    strerror(-ret));
		goto err_unlink;
	}
	return fd;

err_unlink:
	unlink(path);
err_close:
	close(fd);
	return ret;
}

int xlb_ctl_parse_request(const char *buf, size_t len, json_t **req,
			  struct xlb_err *err)
{
	json_t *r, *args;
	int ret;

	*req = NULL;
	ret = parse_object(buf, len, &r, err);
	if (ret)
		return ret;
	if (!json_is_string(json_object_get(r, "op"))) {
		xlb_err_set(err, "request without a string \"op\"");
		goto err_bad;
	}
	args = json_object_get(r, "args");
	if (args && !json_is_object(args)) {
		xlb_err_set(err, "request \"args\" must be an object");
		goto err_bad;
	}
	*req = r;
	return 0;

err_bad:
	json_decref(r);
	return -EBADMSG;
}

char *xlb_ctl_encode(json_t *msg, size_t *len)
{
	char *text, *line;
	size_t n;

	/* Compact output never holds a raw newline: strings escape it. */
	text = msg ? json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	if (!text)
		return NULL;
	n = strlen(text);
	line = realloc(text, n + 2);
	if (!line) {
		free(text);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*len = n + 1;
	return line;
}

json_t *xlb_ctl_ok(json_t *result)
{
	return json_pack("{s:b, s:o}", "ok", 1, "result",
			 result ? result : json_null());
}

json_t *xlb_ctl_error(int err, const char *msg)
{
	return json_pack("{s:b, s:s, s:i}", "ok", 0, "error",
			 msg ? msg : strerror(err < 0 ? -err : err), "code",
			 err < 0 ? -err : err);
}
