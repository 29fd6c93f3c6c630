/*
 * wharf-shim: the small process that stays with one container after the CLI exits.
 *
 * Why C: an idle Python process costs ~10 MiB RSS, Docker's shim ~4.6 MiB; this
 * one costs a few hundred KiB, so many idle containers stay cheap.
 *
 * What it does (conmon is the reference design):
 *   1. daemonizes (the caller waits for the first fork only), becomes a child
 *      subreaper so the container's init is re-parented to it;
 *   2. makes the container's stdio (pipes, or a pty for -t) and runs
 *      `RUNTIME --root STATE run -d --pid-file PIDFILE --bundle BUNDLE ID`;
 *   3. reports "ok PID" or "err MESSAGE" on the sync fd (runc prints its error on
 *      the stderr it shares with the container, so on failure that pipe holds it);
 *   4. copies output into a json-file log ({"log","stream","time"} per line) and
 *      to attached clients on a unix socket (frames: 1 byte stream, 4 bytes
 *      big-endian length, data; stream 3 carries the exit code at the end);
 *      client bytes go to the container's stdin;
 *   5. reaps the container, reads the cgroup's OOM-kill count, deletes the
 *      runtime's state and writes the exit file atomically, then optionally
 *      execs an on-exit command (for --rm).
 *
 * `wharf-shim remount-ro PATH` is a second, tiny job: the OCI createContainer
 * hook that makes the tmpfs at a cgroup v1 container's /sys/fs/cgroup read-only
 * (runc 1.1 leaves it writable; Docker's is read-only).
 *
 * `wharf-shim plug-netns AGENT_SOCKET ID` is a third: the OCI createRuntime hook
 * of a container in a user namespace of its own. The runtime made its network
 * namespace inside that user namespace (one Wharf made beforehand would belong
 * to the host's, which the container could not use); the hook hands the
 * container's pid to the host agent, which pins that namespace and plugs in the
 * interfaces before the container's process starts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/vfs.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 16
#define LINE_MAX_BYTES 16384

static const char *opt_runtime, *opt_id, *opt_bundle, *opt_log, *opt_exit, *opt_pidfile;
static const char *opt_socket, *opt_state, *opt_oom, *opt_onexit, *opt_rootfs;
static int opt_stdin, opt_tty, opt_attach_fd = -1, opt_sync_fd = -1, opt_lock_fd = -1;

static int log_fd = -1;
static long long log_size, log_max_size; /* --log-opt max-size; 0: unbounded */
static int log_max_files = 1;            /* --log-opt max-file */
static int clients[MAX_CLIENTS];
static int client_stdin_once[MAX_CLIENTS];
static int client_in_open[MAX_CLIENTS];
static int stdin_w = -1;

struct stream {
    int fd;
    const char *name;
    int num;
    char buf[LINE_MAX_BYTES];
    size_t len;
};

static void die(const char *msg) {
    if (opt_sync_fd >= 0) {
        dprintf(opt_sync_fd, "err %s: %s\n", msg, strerror(errno));
    }
    _exit(1);
}

static void timestamp(char *out, size_t n) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + k, n - k, ".%09ldZ", ts.tv_nsec);
}

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Rotate json.log -> json.log.1 -> ... as Docker's json-file driver does (max-file 1: truncate). */
static void log_rotate(void) {
    char from[4200], to[4200];
    for (int i = log_max_files - 1; i >= 1; i--) {
        if (i == 1) snprintf(from, sizeof from, "%s", opt_log);
        else snprintf(from, sizeof from, "%s.%d", opt_log, i - 1);
        snprintf(to, sizeof to, "%s.%d", opt_log, i);
        rename(from, to);
    }
    if (log_max_files <= 1) {
        if (ftruncate(log_fd, 0) == 0) log_size = 0;
        return;
    }
    int fd = open(opt_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_TRUNC, 0640);
    if (fd >= 0) {
        close(log_fd);
        log_fd = fd;
        log_size = 0;
    }
}

/* JSON-escape n bytes into out (room for 6 bytes per input byte); return the length. */
static size_t json_escape(char *out, const char *data, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)data[i];
        switch (c) {
        case '"': out[k++] = '\\'; out[k++] = '"'; break;
        case '\\': out[k++] = '\\'; out[k++] = '\\'; break;
        case '\n': out[k++] = '\\'; out[k++] = 'n'; break;
        case '\r': out[k++] = '\\'; out[k++] = 'r'; break;
        case '\t': out[k++] = '\\'; out[k++] = 't'; break;
        default:
            if (c < 0x20 || c == 0x7f) k += (size_t)sprintf(out + k, "\\u%04x", c);
            else out[k++] = (char)c;
        }
    }
    return k;
}

/* Append one json-file record. */
static void log_record(const char *stream, const char *data, size_t n) {
    if (log_fd < 0 || n == 0) return;
    static char out[LINE_MAX_BYTES * 6 + 256];
    size_t k = 0;
    k += (size_t)snprintf(out + k, sizeof out - k, "{\"log\":\"");
    k += json_escape(out + k, data, n);
    char ts[64];
    timestamp(ts, sizeof ts);
    k += (size_t)snprintf(out + k, sizeof out - k, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream, ts);
    write_all(log_fd, out, k);
    log_size += (long long)k;
    if (log_max_size > 0 && log_size >= log_max_size) log_rotate();
}

static void send_frame(int stream, const char *data, size_t n) {
    unsigned char hdr[5] = {(unsigned char)stream, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                            (unsigned char)(n >> 8), (unsigned char)n};
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i] < 0) continue;
        if (send(clients[i], hdr, 5, MSG_NOSIGNAL) != 5 || (n && send(clients[i], data, n, MSG_NOSIGNAL) != (ssize_t)n)) {
            close(clients[i]);
            clients[i] = -1;
        }
    }
}

/* Feed output: whole lines go to the log as they complete, everything to clients at once. */
static void stream_data(struct stream *s, const char *data, size_t n) {
    send_frame(s->num, data, n);
    for (size_t i = 0; i < n; i++) {
        s->buf[s->len++] = data[i];
        if (data[i] == '\n' || s->len == sizeof s->buf) {
            log_record(s->name, s->buf, s->len);
            s->len = 0;
        }
    }
}

static void stream_flush(struct stream *s) {
    log_record(s->name, s->buf, s->len);
    s->len = 0;
}

static void add_client(int fd, int stdin_once) {
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i] < 0) {
            clients[i] = fd;
            client_stdin_once[i] = stdin_once;
            client_in_open[i] = 1;
            return;
        }
    }
    close(fd);
}

static long read_oom_kills(void) {
    if (!opt_oom) return 0;
    FILE *f = fopen(opt_oom, "r");
    if (!f) return 0;
    char key[64];
    long val, found = 0;
    while (fscanf(f, "%63s %ld", key, &val) == 2) {
        if (strcmp(key, "oom_kill") == 0) found = val;
    }
    fclose(f);
    return found;
}

static void run_delete(void) {
    pid_t p = fork();
    if (p == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0); dup2(null, 1); dup2(null, 2);
        execl(opt_runtime, opt_runtime, "--root", opt_state, "delete", "--force", opt_id, (char *)NULL);
        _exit(127);
    }
    if (p > 0) waitpid(p, NULL, 0);
    /* The overlay rootfs was mounted for this run only; drop it with the container. */
    if (opt_rootfs) umount2(opt_rootfs, MNT_DETACH);
}

static void usage(void) {
    fprintf(stderr, "usage: wharf-shim -r RUNTIME -i ID -b BUNDLE -S STATE -p PIDFILE -l LOG -e EXITFILE -s SOCKET "
                    "[-o OOMFILE] [-m ROOTFS] [-L LOGMAXBYTES -N LOGFILES] [-I] [-t] [-A FD] [-y FD] [-K LOCKFD] [-x ONEXIT]\n");
    exit(2);
}

#define TMPFS_MAGIC_NUMBER 0x01021994

/* Runs in the container's mount namespace before pivot_root; PATH is
   ROOTFS/sys/fs/cgroup, under a sysfs runc mounted, so no symlink of the image's. */
static int remount_ro(const char *path) {
    struct statfs st;
    if (statfs(path, &st) < 0) {
        dprintf(2, "remount-ro %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (st.f_type != TMPFS_MAGIC_NUMBER) {
        dprintf(2, "remount-ro %s: not a tmpfs\n", path);
        return 1;
    }
    if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
        dprintf(2, "remount-ro %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

#define CONSOLE_SOCKET "console.sock"

/* Accept the runtime's pty master on the console socket while it runs, then wait for
   the runtime to finish (its status in *rstatus). Return the master, or -1 if none came. */
static int receive_console(int console, pid_t rpid, int *rstatus) {
    int master = -1, runtime_done = 0;
    while (master < 0 && !runtime_done) {
        /* look at the socket once more after the runtime is gone: it may have sent and left */
        runtime_done = waitpid(rpid, rstatus, WNOHANG) == rpid;
        struct pollfd pfd = {.fd = console, .events = POLLIN};
        if (poll(&pfd, 1, runtime_done ? 0 : 50) <= 0 || !(pfd.revents & POLLIN)) continue;
        int conn = accept4(console, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0) continue;
        char data[256];
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) >= 0) {
            struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
            if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
                memcpy(&master, CMSG_DATA(cm), sizeof(int));
        }
        close(conn);
    }
    if (!runtime_done)
        while (waitpid(rpid, rstatus, 0) < 0 && errno == EINTR) {
        }
    return master;
}

/* The OCI state arrives on stdin ({"pid": N, ...}); the agent answers one JSON line
   starting {"ok":true or carrying its error, which runc shows as the start's failure. */
static int plug_netns(const char *agent_socket, const char *id) {
    char state[65536];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof state - 1 && (n = read(0, state + got, sizeof state - 1 - got)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        got += (size_t)n;
    }
    state[got] = 0;
    char *at = strstr(state, "\"pid\"");
    long pid = 0;
    if (at && (at = strchr(at, ':'))) pid = strtol(at + 1, NULL, 10);
    if (pid <= 0) {
        dprintf(2, "plug-netns: no pid in the runtime's state\n");
        return 1;
    }
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", agent_socket);
    if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
        dprintf(2, "plug-netns: host agent at %s: %s\n", agent_socket, strerror(errno));
        return 1;
    }
    char req[512];
    int len = snprintf(req, sizeof req, "{\"op\":\"plug\",\"args\":{\"id\":\"%s\",\"pid\":%ld}}\n", id, pid);
    if (len <= 0 || len >= (int)sizeof req || write(s, req, (size_t)len) != len) {
        dprintf(2, "plug-netns: sending to the host agent failed\n");
        return 1;
    }
    char reply[8192];
    got = 0;
    while (got < sizeof reply - 1 && (n = read(s, reply + got, sizeof reply - 1 - got)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        got += (size_t)n;
        if (memchr(reply, '\n', got)) break;
    }
    reply[got] = 0;
    if (strncmp(reply, "{\"ok\":true", 10) == 0) return 0;
    dprintf(2, "plug-netns: %s\n", got ? reply : "the host agent closed the connection");
    return 1;
}

int main(int argc, char **argv) {
    int c;
    if (argc == 3 && strcmp(argv[1], "remount-ro") == 0) return remount_ro(argv[2]);
    if (argc == 4 && strcmp(argv[1], "plug-netns") == 0) return plug_netns(argv[2], argv[3]);
    while ((c = getopt(argc, argv, "r:i:b:S:p:l:e:s:o:ItA:y:x:m:L:N:K:")) != -1) {
        switch (c) {
        case 'r': opt_runtime = optarg; break;
        case 'i': opt_id = optarg; break;
        case 'b': opt_bundle = optarg; break;
        case 'S': opt_state = optarg; break;
        case 'p': opt_pidfile = optarg; break;
        case 'l': opt_log = optarg; break;
        case 'e': opt_exit = optarg; break;
        case 's': opt_socket = optarg; break;
        case 'o': opt_oom = optarg; break;
        case 'I': opt_stdin = 1; break;
        case 't': opt_tty = 1; break;
        case 'A': opt_attach_fd = atoi(optarg); break;
        case 'y': opt_sync_fd = atoi(optarg); break;
        case 'K': opt_lock_fd = atoi(optarg); break;
        case 'x': opt_onexit = optarg; break;
        case 'm': opt_rootfs = optarg; break;
        case 'L': log_max_size = atoll(optarg); break;
        case 'N': log_max_files = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
        default: usage();
        }
    }
    if (!opt_runtime || !opt_id || !opt_bundle || !opt_state || !opt_pidfile || !opt_log || !opt_exit || !opt_socket)
        usage();
    for (int i = 0; i < MAX_CLIENTS; i++) clients[i] = -1;
    /* Neither the runtime nor the container may inherit the caller's pipes. */
    if (opt_sync_fd >= 0) fcntl(opt_sync_fd, F_SETFD, FD_CLOEXEC);
    if (opt_attach_fd >= 0) fcntl(opt_attach_fd, F_SETFD, FD_CLOEXEC);
    /* The caller's lock on this container: held until the start is decided, even if
       the caller dies meanwhile, so no second start races this one. */
    if (opt_lock_fd >= 0) fcntl(opt_lock_fd, F_SETFD, FD_CLOEXEC);

    /* The caller waits for this first process only; the monitor lives on detached. */
    pid_t first = fork();
    if (first < 0) die("fork");
    if (first > 0) _exit(0);
    setsid();
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) die("open /dev/null");

    /* Keep nothing of the caller's: its pipes must see EOF when the caller is done. */
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);

    log_fd = open(opt_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (log_fd >= 0) {
        struct stat lst;
        if (fstat(log_fd, &lst) == 0) log_size = lst.st_size;
    }
    if (log_fd < 0) die("open log");

    /* The attach socket: bound relative to its directory (unix paths max 108 bytes). */
    char sockdir[4096];
    snprintf(sockdir, sizeof sockdir, "%s", opt_socket);
    char *slash = strrchr(sockdir, '/');
    const char *sockname = opt_socket;
    if (slash) {
        *slash = 0;
        sockname = slash + 1;
        if (chdir(sockdir) < 0) die("chdir to socket dir");
    }
    unlink(sockname);
    int lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sockname);
    if (lsock < 0 || bind(lsock, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lsock, 8) < 0) die("attach socket");
    chmod(sockname, 0600);
    /* Control fifo: "resize ROWS COLS" lines set the pty's window size. */
    int ctl = -1;
    if (opt_tty) {
        unlink("ctl");
        if (mkfifo("ctl", 0600) == 0) ctl = open("ctl", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    }
    int console = -1;
    if (opt_tty) {
        unlink(CONSOLE_SOCKET);
        console = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un ca = {.sun_family = AF_UNIX, .sun_path = CONSOLE_SOCKET};
        if (console < 0 || bind(console, (struct sockaddr *)&ca, sizeof ca) < 0 || listen(console, 1) < 0)
            die("console socket");
    }
    if (chdir("/") < 0) die("chdir /");

    int out_r = -1, out_w = -1, err_r = -1, err_w = -1, in_r = null;
    int p[2];
    if (opt_tty) {
        /* The runtime makes the pty inside the container (its own devpts: /dev/pts/0, the
           controlling terminal of the container's session) and hands us the master over
           this socket; the runtime's own output goes to a pipe, read if it fails. */
        if (pipe2(p, O_CLOEXEC) < 0) die("pipe");
        err_r = p[0]; out_w = p[1]; err_w = p[1];
    } else {
        if (pipe2(p, O_CLOEXEC) < 0) die("pipe");
        out_r = p[0]; out_w = p[1];
        if (pipe2(p, O_CLOEXEC) < 0) die("pipe");
        err_r = p[0]; err_w = p[1];
        if (opt_stdin) {
            if (pipe2(p, O_CLOEXEC) < 0) die("pipe");
            in_r = p[0]; stdin_w = p[1];
        }
    }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGPIPE);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) die("signalfd");

    pid_t rpid = fork();
    if (rpid < 0) die("fork runtime");
    if (rpid == 0) {
        sigprocmask(SIG_UNBLOCK, &mask, NULL);
        dup2(in_r, 0);
        dup2(out_w, 1);
        dup2(err_w, 2);
        if (opt_tty) {
            /* relative to the bundle, which is the socket's directory (unix paths: 108 bytes) */
            if (chdir(sockdir) < 0) _exit(127);
            execl(opt_runtime, opt_runtime, "--root", opt_state, "run", "-d", "--console-socket", CONSOLE_SOCKET,
                  "--pid-file", opt_pidfile, "--bundle", opt_bundle, opt_id, (char *)NULL);
        } else {
            execl(opt_runtime, opt_runtime, "--root", opt_state, "run", "-d", "--pid-file", opt_pidfile,
                  "--bundle", opt_bundle, opt_id, (char *)NULL);
        }
        dprintf(2, "exec %s: %s\n", opt_runtime, strerror(errno));
        _exit(127);
    }
    close(out_w);
    if (!opt_tty) close(err_w);
    if (in_r != null) close(in_r);
    int rstatus = 0;
    if (opt_tty) out_r = receive_console(console, rpid, &rstatus);
    else
        while (waitpid(rpid, &rstatus, 0) < 0 && errno == EINTR) {
        }
    if (console >= 0) {
        close(console);
        char cpath[4200];
        snprintf(cpath, sizeof cpath, "%s/%s", sockdir, CONSOLE_SOCKET);
        unlink(cpath);
    }
    if (!WIFEXITED(rstatus) || WEXITSTATUS(rstatus) != 0 || (opt_tty && out_r < 0)) {
        /* runc's error went to the stderr it shared with the (never started) container. */
        char msg[4096];
        int efd = err_r;
        if (out_r >= 0) close(out_r);
        fcntl(efd, F_SETFL, O_NONBLOCK);
        ssize_t n = read(efd, msg, sizeof msg - 1);
        if (n < 0) n = 0;
        msg[n] = 0;
        for (ssize_t i = 0; i < n; i++)
            if (msg[i] == '\n' || msg[i] == '\r') msg[i] = ' ';
        run_delete();
        unlink(sockname);
        if (opt_sync_fd >= 0) dprintf(opt_sync_fd, "err %s\n", n ? msg : "the OCI runtime failed");
        if (opt_lock_fd >= 0) close(opt_lock_fd);
        _exit(1);
    }
    if (opt_tty) {
        stdin_w = opt_stdin ? fcntl(out_r, F_DUPFD_CLOEXEC, 0) : -1;
        /* the runtime's own output pipe: nothing more comes once it is done */
        close(err_r);
        err_r = -1;
    }
    pid_t cpid = 0;
    FILE *pf = fopen(opt_pidfile, "r");
    if (!pf || fscanf(pf, "%d", &cpid) != 1) die("read pid file");
    fclose(pf);
    if (opt_sync_fd >= 0) {
        dprintf(opt_sync_fd, "ok %d\n", cpid);
        close(opt_sync_fd);
        opt_sync_fd = -1;
    }
    if (opt_lock_fd >= 0) {
        close(opt_lock_fd);
        opt_lock_fd = -1;
    }
    if (opt_attach_fd >= 0) add_client(opt_attach_fd, 1);

    struct stream so = {.fd = out_r, .name = "stdout", .num = 1};
    struct stream se = {.fd = err_r, .name = "stderr", .num = 2};
    int exited = 0, status = 0;
    struct timespec exit_time = {0};
    char buf[LINE_MAX_BYTES];
    for (;;) {
        struct pollfd fds[5 + MAX_CLIENTS];
        int nf = 0;
        fds[nf++] = (struct pollfd){.fd = sfd, .events = POLLIN};
        fds[nf++] = (struct pollfd){.fd = lsock, .events = POLLIN};
        fds[nf++] = (struct pollfd){.fd = so.fd, .events = POLLIN};
        fds[nf++] = (struct pollfd){.fd = se.fd, .events = POLLIN};
        for (int i = 0; i < MAX_CLIENTS; i++)
            fds[nf++] = (struct pollfd){.fd = clients[i], .events = client_in_open[i] ? POLLIN : 0};
        fds[nf++] = (struct pollfd){.fd = ctl, .events = POLLIN};
        if (so.fd < 0 && se.fd < 0 && exited) break;
        int timeout = -1;
        if (exited) {
            /* After pid 1 died, grandchildren holding the pipes are gone too; wait briefly. */
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long ms = (now.tv_sec - exit_time.tv_sec) * 1000 + (now.tv_nsec - exit_time.tv_nsec) / 1000000;
            if (ms > 2000) break;
            timeout = (int)(2000 - ms);
        }
        int r = poll(fds, (nfds_t)nf, timeout);
        if (r < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0) {
            }
            int st;
            pid_t w;
            while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
                if (w == cpid) {
                    exited = 1;
                    status = st;
                    clock_gettime(CLOCK_MONOTONIC, &exit_time);
                }
            }
        }
        if (fds[1].revents & POLLIN) {
            int cfd = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
            if (cfd >= 0) add_client(cfd, 0);
        }
        if (ctl >= 0 && (fds[4 + MAX_CLIENTS].revents & POLLIN)) {
            char cbuf[256];
            ssize_t m = read(ctl, cbuf, sizeof cbuf - 1);
            if (m > 0) {
                cbuf[m] = 0;
                unsigned short rows, cols;
                for (char *line = strtok(cbuf, "\n"); line; line = strtok(NULL, "\n"))
                    if (sscanf(line, "resize %hu %hu", &rows, &cols) == 2) {
                        struct winsize ws = {.ws_row = rows, .ws_col = cols};
                        ioctl(out_r, TIOCSWINSZ, &ws);
                    }
            }
        }
        struct stream *ss[2] = {&so, &se};
        for (int k = 0; k < 2; k++) {
            if (ss[k]->fd >= 0 && (fds[2 + k].revents & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t n = read(ss[k]->fd, buf, sizeof buf);
                if (n > 0) {
                    stream_data(ss[k], buf, (size_t)n);
                } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                    /* EOF on a pipe, EIO on a pty master once every slave holder is gone */
                    stream_flush(ss[k]);
                    close(ss[k]->fd);
                    ss[k]->fd = -1;
                }
            }
        }
        for (int i = 0; i < MAX_CLIENTS; i++) {
            int idx = 4 + i;
            if (clients[i] < 0) continue;
            if (fds[idx].revents & (POLLHUP | POLLERR)) {
                close(clients[i]);
                clients[i] = -1;
                continue;
            }
            if (!(fds[idx].revents & POLLIN)) continue;
            ssize_t n = read(clients[i], buf, sizeof buf);
            if (n > 0) {
                if (stdin_w >= 0) write_all(stdin_w, buf, (size_t)n);
            } else if (n == 0 || errno != EINTR) {
                /* The client ended its input: close the container's stdin if it was the run's own
                   (Docker's StdinOnce), keep the client for output only. */
                if (client_stdin_once[i] == 1 && stdin_w >= 0) {
                    if (opt_tty) {
                        write_all(stdin_w, "\x04", 1);
                    } else {
                        close(stdin_w);
                        stdin_w = -1;
                    }
                }
                client_in_open[i] = 0;
            }
        }
    }
    stream_flush(&so);
    stream_flush(&se);

    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    long ooms = read_oom_kills();
    run_delete();
    char ts[64];
    timestamp(ts, sizeof ts);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", opt_exit);
    FILE *ef = fopen(tmp, "w");
    if (ef) {
        fprintf(ef, "{\"exit_code\":%d,\"finished_at\":\"%s\",\"oom_killed\":%s,\"pid\":%d}\n", code, ts,
                ooms > 0 ? "true" : "false", cpid);
        fflush(ef);
        fsync(fileno(ef));
        fclose(ef);
        rename(tmp, opt_exit);
    }
    /* The caller that started us attached (wharf run in the foreground) removes the
       container itself; the hook is for detached runs and for a caller that died. */
    int owner_attached = 0;
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i] >= 0 && client_stdin_once[i] == 1) owner_attached = 1;
    unsigned char ec[4] = {(unsigned char)(code >> 24), (unsigned char)(code >> 16), (unsigned char)(code >> 8),
                           (unsigned char)code};
    send_frame(3, (const char *)ec, 4);
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i] >= 0) close(clients[i]);
    unlink(opt_socket);
    if (ctl >= 0) {
        char ctlpath[4200];
        snprintf(ctlpath, sizeof ctlpath, "%s/ctl", sockdir);
        unlink(ctlpath);
    }
    if (opt_onexit && !owner_attached) {
        dup2(null, 0); dup2(null, 1); dup2(null, 2);
        execl("/bin/sh", "sh", "-c", opt_onexit, (char *)NULL);
    }
    return 0;
}
