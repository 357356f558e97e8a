/*
 * loopback: the unit tests' one way to get a TCP socket on 127.0.0.1 on
 * a port the kernel picked, for a test server or a port nothing answers.
 */
#ifndef OCIDOCTOR_TEST_LOOPBACK_H
#define OCIDOCTOR_TEST_LOOPBACK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
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

/*
 * A test server: its listening socket, the thread that serves it, and
 * the flag that tells that thread to end. `lock` guards `stop` and
 * whatever counters the test keeps beside it.
 */
struct loopback_server {
	int fd, port, stop;
	pthread_mutex_t lock;
	pthread_t tid;
};

/* Listens on a free loopback port and starts fn in a thread; -1 when the socket fails. */
static inline int loopback_server_start(struct loopback_server *s, int backlog,
					void *(*fn)(void *))
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->fd = loopback_socket(backlog, &s->port);
	if (s->fd < 0)
		return -1;
	return pthread_create(&s->tid, NULL, fn, NULL) ? -1 : 0;
}

/* Whether the serving thread should end (it polls with a short timeout). */
static inline int loopback_server_stopping(struct loopback_server *s)
{
	int stop;

	pthread_mutex_lock(&s->lock);
	stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

/* Tells the serving thread to end, joins it and closes the socket. */
static inline void loopback_server_stop(struct loopback_server *s)
{
	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->tid, NULL);
	close(s->fd);
	pthread_mutex_destroy(&s->lock);
}

/*
 * Reads a request's head from connection c into req (NUL-terminated): up
 * to the blank line that ends the headers, EOF, or size - 1 bytes.
 * Returns its length.
 */
static inline size_t loopback_read_head(int c, char *req, size_t size)
{
	size_t len = 0;

	req[0] = '\0';
	while (len < size - 1) {
		ssize_t n = read(c, req + len, size - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	return len;
}

#endif
