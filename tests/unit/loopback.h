/*
 * loopback: the unit tests' one way to get a TCP socket on 127.0.0.1 on
 * a port the kernel picked, for a test server or a port nothing answers.
 */
#ifndef OCIDOCTOR_TEST_LOOPBACK_H
#define OCIDOCTOR_TEST_LOOPBACK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * A socket bound to 127.0.0.1 on a free port, stored in *port, and
 * listening when backlog > 0; -1 when any step fails.
 */
static inline int loopback_socket(int backlog, int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (backlog > 0 && listen(fd, backlog) < 0) ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

#endif
