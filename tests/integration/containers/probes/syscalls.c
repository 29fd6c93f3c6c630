/*
 * What the seccomp profile lets a container do: each line is "NAME RESULT",
 * RESULT "ok" or the errno name.  Arguments are chosen so that a call the
 * filter lets through fails (or succeeds) harmlessly and differently from the
 * filter's EPERM (ENOSYS for clone3): a bad fd, a missing path, a no-op.
 * Last, unshare(CLONE_NEWUSER|CLONE_NEWNS) and, when allowed, the mount family
 * again as "nested_*" with the full capability set the new namespace gives.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

static void report(const char *name, long rc) {
    if (rc >= 0) printf("%s ok\n", name);
    else printf("%s %s\n", name, strerrorname_np(errno));
    fflush(stdout);
}

static void mount_family(const char *prefix) {
    char name[64];
#define R(n, call) (snprintf(name, sizeof name, "%s%s", prefix, n), errno = 0, report(name, (call)))
    R("mount", mount("none", "/nonexistent-wharf-probe", "tmpfs", 0, NULL));
    R("fsopen", syscall(SYS_fsopen, "tmpfs", 0));
    R("open_tree", syscall(SYS_open_tree, -1, "/nonexistent-wharf-probe", 0));
    R("move_mount", syscall(SYS_move_mount, -1, "", -1, "", 0));
    R("fsmount", syscall(SYS_fsmount, -1, 0, 0));
    R("pivot_root", syscall(SYS_pivot_root, "/nonexistent-a", "/nonexistent-b"));
#undef R
}

int main(void) {
    errno = 0;
    long rc = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (rc == 0) _exit(0); /* the child: nothing to do */
    report("clone_newuser", rc);
    if (rc > 0) waitpid(rc, NULL, 0);
    errno = 0;
    report("clone3", syscall(SYS_clone3, NULL, 0));
    errno = 0;
    report("setns", setns(-1, 0));
    errno = 0;
    report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -4 /* user keyring */, 0));
    errno = 0;
    report("pidfd_getfd", syscall(SYS_pidfd_getfd, -1, 0, 0));
    errno = 0;
    report("syslog", syscall(SYS_syslog, 10 /* SIZE_BUFFER */, NULL, 0));
    errno = 0;
    report("reboot", syscall(SYS_reboot, 0, 0, 0, NULL));
    errno = 0;
    report("socket_vsock", socket(AF_VSOCK, SOCK_STREAM, 0));
    errno = 0;
    report("socket_alg", socket(AF_ALG, SOCK_SEQPACKET, 0));
    errno = 0;
    report("socket_inet", socket(AF_INET, SOCK_STREAM, 0));
    errno = 0;
    report("socket_unix", socket(AF_UNIX, SOCK_STREAM, 0));
    mount_family("");
    errno = 0;
    rc = unshare(CLONE_NEWUSER | CLONE_NEWNS);
    report("unshare", rc);
    if (rc == 0) mount_family("nested_"); /* a full capability set in the new namespace */
    return 0;
}
