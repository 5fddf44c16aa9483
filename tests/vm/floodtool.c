/*
 * cgw-floodtool: an IKE_SA_INIT flood from spoofed sources, for the
 * hostile-load scenario (tests/vm/scenarios/71-sa-init-flood.sh). Not
 * installed; run it only into network namespaces you made.
 *
 *   cgw-floodtool --dst A.B.C.D --src SPEC [--src SPEC...] --pps N
 *                 --seconds S [--dport 500] [--batch 64] [--group 14]
 *
 * SPEC is an address (a configured peer's, to reach cgwd's responder) or a
 * CIDR block (random hosts in it, "unknown" sources); packets take the
 * SPECs in turn. Each datagram is a well-formed IKE_SA_INIT request
 * (RFC 7296 1.2): a fresh random SPIi, one IKE proposal (AES-CBC-256,
 * HMAC-SHA2-256 PRF and integrity, the given DH group), a KE payload of
 * random bytes below the group's prime, a random 32-byte nonce. They are
 * built once in a batch of sendmmsg() buffers; before each send the SPI,
 * the nonce's first 8 bytes and the source address are rewritten, so no
 * two requests look alike (the kernel fills in the IP checksum; the UDP
 * checksum is 0, "none", which IPv4 allows).
 *
 * Sent through a raw socket with IP_HDRINCL, paced to N packets per second
 * (behind schedule it sends as fast as it can). At the end one line:
 *   FLOODTOOL {"sent":..,"seconds":..,"pps":..,"target_pps":..,"errors":..}
 * Exit: 0 once the time is up, 1 on setup errors, 2 on usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SPECS	16
#define MAX_BATCH	256
#define PKT_MAX		512
#define NONCE_LEN	32

/* IKEv2 numbers used below (RFC 7296 3.x). */
#define IKE_EXCH_SA_INIT	34
#define IKE_FLAG_INITIATOR	0x08
#define PL_SA			33
#define PL_KE			34
#define PL_NONCE		40
#define XF_ENCR			1
#define XF_PRF			2
#define XF_INTEG		3
#define XF_DH			4
#define ENCR_AES_CBC		12
#define PRF_HMAC_SHA2_256	5
#define AUTH_HMAC_SHA2_256_128	12
#define ATTR_KEY_LENGTH		14

struct src_spec {
	uint32_t base;		/* host order */
	uint32_t span;		/* addresses in the block: 1 for one address */
};

struct flood {
	struct in_addr dst;
	uint16_t dport;
	struct src_spec spec[MAX_SPECS];
	unsigned n_spec;
	unsigned pps;
	double seconds;
	unsigned batch;
	unsigned group;
	uint64_t rng;
};

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;
	size_t spi_off, nonce_off;
};

static uint64_t rnd(struct flood *f)
{
	/* xorshift64*: fast, and these need not be unpredictable. */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545F4914F6CDD1DULL;
}

static void rnd_fill(struct flood *f, uint8_t *p, size_t n)
{
	while (n) {
		uint64_t v = rnd(f);
		size_t k = n < 8 ? n : 8;

		memcpy(p, &v, k);
		p += k;
		n -= k;
	}
}

static unsigned dh_len(unsigned group)
{
	switch (group) {
	case 2: return 128;
	case 14: return 256;
	case 15: return 384;
	case 16: return 512;
	case 19: return 64;
	case 20: return 96;
	default: return 0;
	}
}

/* A small writer over a fixed buffer: the packets are ours and fit. */
struct w {
	uint8_t *p;
	size_t len;
};

static void put8(struct w *w, uint8_t v) { w->p[w->len++] = v; }
static void put16(struct w *w, uint16_t v) { put8(w, v >> 8); put8(w, v & 0xff); }
static void put32(struct w *w, uint32_t v) { put16(w, v >> 16); put16(w, v & 0xffff); }
static void patch16(struct w *w, size_t at, uint16_t v)
{
	w->p[at] = v >> 8;
	w->p[at + 1] = v & 0xff;
}

static void put_transform(struct w *w, bool last, uint8_t type, uint16_t id, int keylen)
{
	put8(w, last ? 0 : 3);
	put8(w, 0);
	put16(w, keylen > 0 ? 12 : 8);
	put8(w, type);
	put8(w, 0);
	put16(w, id);
	if (keylen > 0) {
		put16(w, 0x8000 | ATTR_KEY_LENGTH);	/* TV format */
		put16(w, (uint16_t)keylen);
	}
}

/* The IKE message of one request, from its header on; records where the
 * SPI and the nonce are for the per-send rewrite. */
static void build_ike(struct flood *f, struct w *w, struct pkt *pk, size_t base)
{
	size_t hdr = w->len, sa, prop, ke, nonce;
	unsigned klen = dh_len(f->group);

	pk->spi_off = base + w->len;
	rnd_fill(f, w->p + w->len, 8);		/* SPIi */
	w->len += 8;
	memset(w->p + w->len, 0, 8);		/* SPIr */
	w->len += 8;
	put8(w, PL_SA);
	put8(w, 0x20);				/* version 2.0 */
	put8(w, IKE_EXCH_SA_INIT);
	put8(w, IKE_FLAG_INITIATOR);
	put32(w, 0);				/* message ID */
	put32(w, 0);				/* length, below */

	sa = w->len;
	put8(w, PL_KE);
	put8(w, 0);
	put16(w, 0);
	prop = w->len;
	put8(w, 0);				/* last proposal */
	put8(w, 0);
	put16(w, 0);
	put8(w, 1);				/* proposal 1 */
	put8(w, 1);				/* protocol IKE */
	put8(w, 0);				/* no SPI */
	put8(w, 4);				/* transforms */
	put_transform(w, false, XF_ENCR, ENCR_AES_CBC, 256);
	put_transform(w, false, XF_PRF, PRF_HMAC_SHA2_256, 0);
	put_transform(w, false, XF_INTEG, AUTH_HMAC_SHA2_256_128, 0);
	put_transform(w, true, XF_DH, (uint16_t)f->group, 0);
	patch16(w, prop + 2, (uint16_t)(w->len - prop));
	patch16(w, sa + 2, (uint16_t)(w->len - sa));

	ke = w->len;
	put8(w, PL_NONCE);
	put8(w, 0);
	put16(w, 0);
	put16(w, (uint16_t)f->group);
	put16(w, 0);
	rnd_fill(f, w->p + w->len, klen);
	w->p[w->len] = 0x7f;	/* below every MODP prime (they start 0xff...) */
	w->len += klen;
	patch16(w, ke + 2, (uint16_t)(w->len - ke));

	nonce = w->len;
	put8(w, 0);
	put8(w, 0);
	put16(w, 4 + NONCE_LEN);
	pk->nonce_off = base + w->len;
	rnd_fill(f, w->p + w->len, NONCE_LEN);
	w->len += NONCE_LEN;
	(void)nonce;

	w->p[hdr + 24] = (w->len - hdr) >> 24;
	w->p[hdr + 25] = (w->len - hdr) >> 16;
	w->p[hdr + 26] = (w->len - hdr) >> 8;
	w->p[hdr + 27] = (w->len - hdr) & 0xff;
}

static void build_packet(struct flood *f, struct pkt *pk)
{
	struct iphdr *ip = (struct iphdr *)pk->b;
	struct udphdr *udp = (struct udphdr *)(pk->b + sizeof(*ip));
	size_t off = sizeof(*ip) + sizeof(*udp);
	struct w w = { pk->b + off, 0 };

	memset(pk->b, 0, sizeof(pk->b));
	build_ike(f, &w, pk, off);
	pk->len = off + w.len;
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons((uint16_t)pk->len);
	ip->daddr = f->dst.s_addr;
	udp->source = htons(500);
	udp->dest = htons(f->dport);
	udp->len = htons((uint16_t)(pk->len - sizeof(*ip)));
	udp->check = 0;		/* none: we rewrite the payload before each send */
}

/* A new request in place: SPI, the nonce's head, the source address. */
static void refresh(struct flood *f, struct pkt *pk, uint64_t n)
{
	struct iphdr *ip = (struct iphdr *)pk->b;
	const struct src_spec *s = &f->spec[n % f->n_spec];
	uint64_t v = rnd(f);
	uint32_t a = s->base;

	memcpy(pk->b + pk->spi_off, &v, 8);
	v = rnd(f);
	memcpy(pk->b + pk->nonce_off, &v, 8);
	if (s->span > 1)
		a += 1 + (uint32_t)(v >> 32) % (s->span - 2 ? s->span - 2 : 1);
	ip->saddr = htonl(a);
	ip->id = (uint16_t)v;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_spec(const char *arg, struct src_spec *s)
{
	char buf[64];
	char *slash;
	struct in_addr a;
	unsigned bits = 32;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	slash = strchr(buf, '/');
	if (slash) {
		char *end;
		unsigned long v = strtoul(slash + 1, &end, 10);

		if (*end || v < 8 || v > 32)
			return -EINVAL;
		bits = (unsigned)v;
		*slash = '\0';
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	s->span = bits == 32 ? 1 : 1u << (32 - bits);
	s->base = ntohl(a.s_addr) & (bits == 32 ? 0xffffffffu : ~(s->span - 1));
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: cgw-floodtool --dst ADDR --src ADDR|CIDR [--src ...] --pps N "
		"--seconds S [--dport 500] [--batch 64] [--group 14]\n");
	exit(2);
}

static void parse_args(struct flood *f, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dst", required_argument, NULL, 'd' },
		{ "src", required_argument, NULL, 's' },
		{ "pps", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 't' },
		{ "dport", required_argument, NULL, 'P' },
		{ "batch", required_argument, NULL, 'b' },
		{ "group", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (inet_pton(AF_INET, optarg, &f->dst) != 1)
				usage();
			break;
		case 's':
			if (f->n_spec == MAX_SPECS || parse_spec(optarg, &f->spec[f->n_spec]) < 0)
				usage();
			f->n_spec++;
			break;
		case 'p': f->pps = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': f->seconds = strtod(optarg, NULL); break;
		case 'P': f->dport = (uint16_t)strtoul(optarg, NULL, 10); break;
		case 'b': f->batch = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'g': f->group = (unsigned)strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (!f->dst.s_addr || !f->n_spec || !f->pps || f->seconds <= 0 ||
	    !f->batch || f->batch > MAX_BATCH || !dh_len(f->group))
		usage();
}

/* Send until the time is up; *sent and *errors count datagrams. */
static void flood_run(struct flood *f, int fd, uint64_t *sent, uint64_t *errors, double *secs)
{
	static struct pkt pk[MAX_BATCH];
	struct mmsghdr mm[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = f->dst };
	double t0 = now_s(), t = t0;
	uint64_t n = 0;

	for (unsigned i = 0; i < f->batch; i++) {
		build_packet(f, &pk[i]);
		iov[i] = (struct iovec){ pk[i].b, pk[i].len };
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &to, .msg_namelen = sizeof(to),
						       .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while (t - t0 < f->seconds) {
		uint64_t due = (uint64_t)((t - t0) * f->pps) + 1;
		unsigned k;
		int r;

		if (n >= due) {
			struct timespec ts = { 0, 200000 };	/* 0.2 ms */
			nanosleep(&ts, NULL);
			t = now_s();
			continue;
		}
		k = due - n < f->batch ? (unsigned)(due - n) : f->batch;
		for (unsigned i = 0; i < k; i++)
			refresh(f, &pk[i], n + i);
		r = sendmmsg(fd, mm, k, 0);
		if (r < 0) {
			/* A full queue (ENOBUFS) drops the batch: count it and go on. */
			*errors += k;
			r = (int)k;
		} else if ((unsigned)r < k) {
			*errors += k - (unsigned)r;
			r = (int)k;
		}
		n += (uint64_t)r;
		t = now_s();
	}
	*sent = n - *errors;
	*secs = t - t0;
}

int main(int argc, char **argv)
{
	struct flood f = { .dport = 500, .batch = 64, .group = 14 };
	uint64_t sent = 0, errors = 0;
	double secs = 0;
	int one = 1, fd;

	parse_args(&f, argc, argv);
	f.rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0) {
		perror("cgw-floodtool: raw socket");
		return 1;
	}
	flood_run(&f, fd, &sent, &errors, &secs);
	close(fd);
	printf("FLOODTOOL {\"sent\":%llu,\"seconds\":%.2f,\"pps\":%.0f,\"target_pps\":%u,"
	       "\"errors\":%llu,\"sources\":%u}\n", (unsigned long long)sent, secs,
	       secs > 0 ? (double)sent / secs : 0.0, f.pps, (unsigned long long)errors, f.n_spec);
	return 0;
}
