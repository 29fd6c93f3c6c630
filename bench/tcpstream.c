/* A steady TCP stream for bench/network.py: 1 MiB writes, timed by the sender.
 *   tcpstream recv PORT          accept one connection, read to EOF, print the bytes
 *   tcpstream send IP PORT MIB   send MIB MiB, wait for the receiver to close, print MiB/s
 * Built static by the benchmark and copied into a busybox container for either tool. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];

static int receive(int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1)) {
        perror("listen");
        return 1;
    }
    puts("ready");
    fflush(stdout);
    int c = accept(s, NULL, NULL);
    long long total = 0;
    ssize_t n;
    while ((n = read(c, buf, sizeof buf)) > 0)
        total += n;
    printf("%lld\n", total);
    return 0;
}

static int send_stream(const char *ip, int port, long mib) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    if (connect(s, (struct sockaddr *)&a, sizeof a)) {
        perror("connect");
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < mib; i++) {
        size_t off = 0;
        while (off < sizeof buf) {
            ssize_t w = write(s, buf + off, sizeof buf - off);
            if (w < 0) {
                perror("write");
                return 1;
            }
            off += (size_t)w;
        }
    }
    shutdown(s, SHUT_WR);
    char x;
    while (read(s, &x, 1) > 0) /* the receiver closes once it has it all */
        ;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%.1f\n", (double)mib / secs);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "recv"))
        return receive(atoi(argv[2]));
    if (argc == 5 && !strcmp(argv[1], "send"))
        return send_stream(argv[2], atoi(argv[3]), atol(argv[4]));
    fputs("usage: tcpstream recv PORT | tcpstream send IP PORT MIB\n", stderr);
    return 2;
}
