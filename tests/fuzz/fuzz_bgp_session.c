/*
 * libFuzzer harness: a whole BGP session on arbitrary bytes from the
 * peer. Each input is the byte stream of one connection, given to a
 * speaker (passive [neighbor], export = all, max-prefix-in, import
 * filter, the fake FIB) through a socketpair; the first input byte picks
 * whether a valid OPEN and KEEPALIVE go first, so the fuzzer reaches the
 * Established state's UPDATE handling, the RIB, the FIB and the export
 * path at once. The peer's end is then closed. The speaker must answer
 * whatever it gets with a NOTIFICATION or carry on, never crash or leak.
 */
#include <errno.h>
#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bgp/speaker-int.h"
#include "common/log.h"
#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conf_text[] =
	"[gateway]\ncontrol-socket = /nonexistent/fuzz.sock\nlocal-address = 127.0.0.1\n"
	"[bgp]\nasn = 65000\nrouter-id = 10.0.0.1\nnetwork = 10.1.0.0/24\n"
	"network-mode = always\nlisten-port = 1\n"
	"[neighbor feeder]\naddress = 127.0.0.2\nremote-asn = 64512\n"
	"local-address = 127.0.0.1\npassive = yes\nexport = all\n"
	"max-prefix-in = 64\nimport-prefix = 10.0.0.0/8, 192.168.0.0/16\n"
	"local-pref = 150\nprepend = 1\nmed = 7\n"
	"[neighbor other]\naddress = 127.0.0.3\nremote-asn = 65000\n"
	"local-address = 127.0.0.1\npassive = yes\nexport = all\n";

static struct cgw_conf *conf;
static uint8_t hello[256];
static size_t hello_len;

static void quiet(int prio, const char *line, void *arg)
{
}

static void setup(void)
{
	struct conf_diag diag = { 0 };
	struct bgp_open o;
	struct buf_writer w;
	struct in_addr id = { htonl(0x0a000002) };

	log_init("fuzz_bgp_session", -1);
	log_set_sink(quiet, NULL);
	conf = conf_load_buffer("fuzz.conf", conf_text, sizeof(conf_text) - 1, 0, &diag);
	conf_diag_free(&diag);
	if (!conf)
		abort();
	bgp_open_init(&o, 64512, 90, id);
	bgp_open_add_afi(&o, BGP_AFI_IPV4, BGP_SAFI_UNICAST);
	wr_init(&w, hello, sizeof(hello));
	bgp_build_open(&w, &o);
	bgp_build_keepalive(&w);
	if (wr_failed(&w))
		abort();
	hello_len = wr_len(&w);
}

/* Read what the speaker sent; how many bytes. */
static size_t drain(int fd)
{
	uint8_t buf[65536];
	size_t total = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	return total;
}

/* Bytes the speaker has still to read from its end, fd (0 once closed). */
static int unread(const struct bgp_peer *p, int fd)
{
	int n = 0;

	if (p->conn[0].fd < 0 && p->conn[1].fd < 0)
		return 0;
	return ioctl(fd, FIONREAD, &n) < 0 ? 0 : n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ev_loop *loop;
	struct fib_backend *be;
	struct bgp_speaker *sp;
	struct bgp_peer *p;
	int fds[2];

	if (!conf)
		setup();
	if (size < 1 || size > 200000)
		return 0;
	loop = EV_DEFAULT;
	if (fib_fake_open(&be) < 0 || bgp_speaker_new(&sp, loop, conf, be) < 0)
		abort();
	p = sp->peers;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
		abort();
	{
		int big = 1 << 20;
		setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
		setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	}
	bgp_peer_accept(p, fds[0], NULL);
	if (data[0] & 1) {
		if (write(fds[1], hello, hello_len) != (ssize_t)hello_len)
			abort();
	}
	for (size_t off = 1; off < size;) {
		ssize_t n = write(fds[1], data + off, size - off);

		if (n <= 0) {
			ev_run(loop, EVRUN_NOWAIT);	/* let the speaker read */
			drain(fds[1]);
			if (p->conn[0].fd < 0 && p->conn[1].fd < 0)
				break;			/* it closed: the rest goes nowhere */
			continue;
		}
		off += (size_t)n;
	}
	if (data[0] & 2)
		shutdown(fds[1], SHUT_WR);	/* a TCP failure after the bytes */
	/* Up to 8 rounds, as long as the speaker has bytes to read or
	   answers (a round is 2+ syscalls): two quiet rounds end it. */
	for (int i = 0, quiet = 0; i < 8 && quiet < 2; i++) {
		ev_run(loop, EVRUN_NOWAIT);
		quiet = drain(fds[1]) || unread(p, fds[0]) ? 0 : quiet + 1;
	}
	if (rib_pending(sp->rib))
		rib_flush_changes(sp->rib);
	for (struct bgp_peer *q = sp->peers; q; q = q->next)
		q->export_dirty = true;
	ev_run(loop, EVRUN_NOWAIT);
	drain(fds[1]);
	bgp_speaker_free(sp);
	close(fds[1]);
	return 0;
}
