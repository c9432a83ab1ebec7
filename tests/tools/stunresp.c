/* stunresp.c - the smallest STUN server (RFC 5389 Binding), for the test
 * bed's router daemon, which learns its outside address with STUN: every
 * Binding Request on UDP HOST:PORT is answered, from the same address,
 * with an XOR-MAPPED-ADDRESS and a MAPPED-ADDRESS of where it came from
 * (IPv4 only). A CHANGE-REQUEST is not honoured: the answer always comes
 * from HOST:PORT. Prints "listening on HOST:PORT" and "binding HOST:PORT"
 * for each answer.
 *
 * usage: stunresp HOST:PORT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "p2pm/net.h"

/* a STUN header, and the answer: the header and two 12-byte attributes */
#define STUN_HEADER 20
#define STUN_ANSWER (STUN_HEADER + 24)
#define STUN_COOKIE 0x2112A442u

static void
stun_put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* an address attribute of type `type`: family IPv4, port, address */
static void
stun_put_addr(unsigned char *p, unsigned type, unsigned port, uint32_t addr)
{
	stun_put16(p, type);
	stun_put16(p + 2, 8);
	p[4] = 0;
	p[5] = 1;
	stun_put16(p + 6, port);
	p[8] = (unsigned char)(addr >> 24);
	p[9] = (unsigned char)(addr >> 16);
	p[10] = (unsigned char)(addr >> 8);
	p[11] = (unsigned char)addr;
}

int
main(int argc, char **argv)
{
	char host[NET_HOST_MAX], shown[NET_ADDR_MAX];
	struct sockaddr_in sin;
	unsigned port;
	int fd;

	if (argc != 2 || net_parse_hostport(argv[1], host, sizeof(host), &port, 1) < 0) {
		fprintf(stderr, "usage: stunresp HOST:PORT\n");
		return 2;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("stunresp");
		return 1;
	}
	socklen_t sl = sizeof(sin);
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	printf("listening on %s:%u\n", host, (unsigned)ntohs(sin.sin_port));
	fflush(stdout);
	for (;;) {
		unsigned char in[1500], out[STUN_ANSWER];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&from, &fl);

		/* a Binding Request with the magic cookie, its length as said */
		if (n < STUN_HEADER || fl != sizeof(from) || in[0] != 0 || in[1] != 1 ||
		    (size_t)((in[2] << 8) | in[3]) + STUN_HEADER != (size_t)n ||
		    memcmp(in + 4, "\x21\x12\xa4\x42", 4) != 0)
			continue;
		uint32_t a = ntohl(from.sin_addr.s_addr);
		unsigned p = ntohs(from.sin_port);
		memset(out, 0, sizeof(out));
		stun_put16(out, 0x0101);
		stun_put16(out + 2, 24);
		memcpy(out + 4, in + 4, 16);	/* cookie and transaction id */
		stun_put_addr(out + STUN_HEADER, 0x0020 | 0x8000,
		    p ^ (STUN_COOKIE >> 16), a ^ STUN_COOKIE);
		stun_put_addr(out + STUN_HEADER + 12, 0x0001, p, a);
		sendto(fd, out, sizeof(out), 0, (struct sockaddr *)&from, fl);
		if (inet_ntop(AF_INET, &from.sin_addr, shown, sizeof(shown)) != NULL)
			printf("binding %s:%u\n", shown, p);
		fflush(stdout);
	}
}
