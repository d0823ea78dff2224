/* berth's isolation probe: one syscall per subcommand, run inside containers under berth and
 * dockerd alike. Prints "<what>: allowed" or "<what>: denied <errno text>" and exits 0 or 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int report(const char *what, long r) {
    if (r < 0) {
        printf("%s: denied %s\n", what, strerror(errno));
        return 1;
    }
    printf("%s: allowed\n", what);
    return 0;
}

int main(int argc, char **argv) {
    const char *c = argc > 1 ? argv[1] : "";
    if (!strcmp(c, "keyctl"))
        return report("keyctl", syscall(SYS_add_key, "user", "berth-probe", "x", 1,
                                         KEY_SPEC_PROCESS_KEYRING));
    if (!strcmp(c, "unshare-user"))
        return report("unshare-user", unshare(CLONE_NEWUSER));
    if (!strcmp(c, "clone-user")) {
        long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
        if (r == 0)
            _exit(0);
        if (r > 0)
            waitpid(r, 0, 0);
        return report("clone-user", r);
    }
    if (!strcmp(c, "mount"))
        return report("mount", mount("none", "/tmp", "tmpfs", 0, ""));
    if (!strcmp(c, "ptrace") && argc > 2) {
        pid_t p = atoi(argv[2]);
        long r = ptrace(PTRACE_ATTACH, p, 0, 0);
        if (r == 0) {
            waitpid(p, 0, __WALL);
            ptrace(PTRACE_DETACH, p, 0, 0);
        }
        return report("ptrace", r);
    }
    if (!strcmp(c, "blockdev") && argc > 3) {
        dev_t dev = makedev(atoi(argv[2]), atoi(argv[3]));
        if (mknod("/tmp/blk", S_IFBLK | 0600, dev) < 0 && errno != EEXIST)
            return report("mknod", -1);
        return report("blockdev", open("/tmp/blk", O_RDONLY));
    }
    /* SysV shared memory lives in the IPC namespace: create a segment, or find one by key. */
    if (!strcmp(c, "shm-create") && argc > 2)
        return report("shm-create", shmget(strtol(argv[2], 0, 0), 4096, IPC_CREAT | 0600));
    if (!strcmp(c, "shm-find") && argc > 2)
        return report("shm-find", shmget(strtol(argv[2], 0, 0), 0, 0));
    fprintf(stderr, "usage: probe keyctl|unshare-user|clone-user|mount|ptrace PID|blockdev MAJ MIN|shm-create KEY|shm-find KEY\n");
    return 2;
}
