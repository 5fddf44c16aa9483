/*
 * UDP sockets for IKE: ports 500 and 4500, IP_PKTINFO so replies leave
 * from the address the request came to, UDP_ENCAP_ESPINUDP on 4500 so the
 * kernel takes ESP-in-UDP itself and hands us only IKE (after the 4-byte
 * non-ESP marker, RFC 3948 2.2). Bounded reads; never blocks.
 */
#include "daemon/ikesock.h"

#include <errno.h>
#include <ev.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "ike/ike.h"

#define DGRAM_MAX 65536
#define NON_ESP_MARKER_LEN 4

struct ikesock;
static int ikesock_sendmsg(struct ikesock *s, const struct ike_path *path, bool from_natt,
			   bool marker_needed, const uint8_t *buf, size_t len);

struct ikesock {
	struct ev_loop *loop;
	int fd[2];			/* [0] port 500, [1] port 4500 */
	ev_io io[2];
	ikesock_rx_fn rx;
	void *arg;
	uint8_t buf[DGRAM_MAX];
};

static int open_one(struct in_addr addr, uint16_t port, bool natt)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr = addr };
	int one = 1, encap = UDP_ENCAP_ESPINUDP;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    (natt && setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &encap, sizeof(encap)) < 0) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ikesock *s = w->data;
	bool natt = w == &s->io[1];
	struct ike_path path = { 0 };
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct iovec iov = { s->buf, sizeof(s->buf) };
	struct msghdr mh = { .msg_name = &path.remote, .msg_namelen = sizeof(path.remote),
			     .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };

	for (int i = 0; i < 64; i++) {	/* bounded: let other watchers run */
		ssize_t n = recvmsg(w->fd, &mh, 0);
		const uint8_t *p = s->buf;

		if (n < 0)
			return;
		path.local.sin_family = AF_INET;
		path.local.sin_port = htons(natt ? IKE_NATT_PORT : IKE_PORT);
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
				path.local.sin_addr = ((struct in_pktinfo *)CMSG_DATA(c))->ipi_addr;
		if (natt) {
			/* Only IKE reaches us here; anything else is noise. */
			if (n < NON_ESP_MARKER_LEN || memcmp(p, "\0\0\0\0", 4) != 0)
				goto next;
			p += NON_ESP_MARKER_LEN;
			n -= NON_ESP_MARKER_LEN;
		}
		s->rx(s->arg, &path, natt, p, (size_t)n);
next:
		mh.msg_namelen = sizeof(path.remote);
		mh.msg_controllen = sizeof(cbuf);
	}
}

int ikesock_open(struct ikesock **out, struct ev_loop *loop, struct in_addr addr,
		 ikesock_rx_fn rx, void *arg)
{
	struct ikesock *s = calloc(1, sizeof(*s));
	static const uint16_t ports[2] = { IKE_PORT, IKE_NATT_PORT };

	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->rx = rx;
	s->arg = arg;
	s->fd[0] = s->fd[1] = -1;
	for (int i = 0; i < 2; i++) {
		s->fd[i] = open_one(addr, ports[i], i == 1);
		if (s->fd[i] < 0) {
			int r = s->fd[i];
			s->fd[i] = -1;
			errno = -r;
			log_warn("IKE socket on UDP port %u", ports[i]);
			ikesock_close(s);
			return r;
		}
		ev_io_init(&s->io[i], on_readable, s->fd[i], EV_READ);
		s->io[i].data = s;
		ev_io_start(loop, &s->io[i]);
	}
	*out = s;
	return 0;
}

int ikesock_send(struct ikesock *s, const struct ike_path *path, bool natt,
		 const uint8_t *buf, size_t len)
{
	return ikesock_sendmsg(s, path, natt, natt, buf, len);
}

/* RFC 3948 2.3: one 0xff byte from port 4500, no marker. */
int ikesock_send_keepalive(struct ikesock *s, const struct ike_path *path)
{
	static const uint8_t ka = 0xff;

	return ikesock_sendmsg(s, path, true, false, &ka, 1);
}

static int ikesock_sendmsg(struct ikesock *s, const struct ike_path *path, bool from_natt,
			   bool marker_needed, const uint8_t *buf, size_t len)
{
	static const uint8_t marker[NON_ESP_MARKER_LEN];
	bool natt = marker_needed;
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))] = { 0 };
	struct iovec iov[2] = { { (void *)marker, sizeof(marker) }, { (void *)buf, len } };
	struct msghdr mh = { .msg_name = (void *)&path->remote,
			     .msg_namelen = sizeof(path->remote),
			     .msg_iov = natt ? iov : iov + 1, .msg_iovlen = natt ? 2 : 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	struct in_pktinfo pi = { .ipi_spec_dst = path->local.sin_addr };

	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	if (sendmsg(s->fd[from_natt ? 1 : 0], &mh, 0) < 0)
		return -errno;
	return 0;
}

void ikesock_close(struct ikesock *s)
{
	if (!s)
		return;
	for (int i = 0; i < 2; i++) {
		if (s->fd[i] < 0)
			continue;
		ev_io_stop(s->loop, &s->io[i]);
		close(s->fd[i]);
	}
	free(s);
}
