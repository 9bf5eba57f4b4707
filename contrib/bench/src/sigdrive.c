/*
 * sigdrive - signal forwarding correctness and latency through inits.
 *
 * usage: sigdrive [-p] [-r ROUNDS] [-t FIRST_TIMEOUT_MS] [-T TIMEOUT_MS]
 *                 [-o LOGFILE] [-c CAND_NAME] -w SIGPROBE [NAME=PREFIX ...]
 *
 * Starts one instance per init, all at once: PREFIX words followed by
 * "SIGPROBE DATA_FIFO CTRL_FIFO" (an init invocation such as "tini --").
 * Instance "direct" (no init: the probe itself, the baseline) is always
 * started first.  With -p every instance is started as PID 1 of a fresh PID
 * namespace (plus a private mount namespace with its own /proc), so the init
 * is signalled from the parent namespace as a container runtime would.
 *
 * For ROUNDS rounds, for each of SIGTERM SIGUSR1 SIGHUP SIGINT SIGWINCH, for
 * each instance in turn (in a shuffled order): read CLOCK_MONOTONIC, kill()
 * the init's pid, wait for the probe's handler record on its FIFO; latency =
 * handler's clock - the clock read before kill().  One signal is in flight
 * at a time.  A signal not seen within FIRST_TIMEOUT_MS (default 1000) in
 * round 0 is marked not forwarded and not sent again.  The order of the
 * instances is shuffled for every signal of every round.  If an init dies, the
 * signal that killed it is reported.  Ratios are taken per round against
 * "direct" for the same signal.
 *
 * With -c the candidate instance is also compared with every other instance
 * per round and signal (candidate latency / other latency; median).
 *
 * Output: per instance and signal
 *   SIG name=.. sig=TERM got=N/M med_us=.. p10_us=.. p90_us=.. ratio=..
 * and a summary line per instance
 *   SUM name=.. forwarded=TERM,USR1,.. missing=.. med_us=.. ratio=.. died=..
 *       exit=..
 * and with -c, per other instance
 *   VS cand=.. peer=.. n=.. ratio=..
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct rec {
    int32_t sig;
    int32_t pid;
    int64_t ns;
};

#define NSIG_T 5
static const int sigs[NSIG_T] = {SIGTERM, SIGUSR1, SIGHUP, SIGINT, SIGWINCH};
static const char *signame[NSIG_T] = {"TERM", "USR1", "HUP", "INT", "WINCH"};

typedef struct {
    char *name;
    char **argv;
    char dir[64], data[96], ctrl[96];
    int dfd, cfd;
    pid_t pid;
    int ready, dead, skip[NSIG_T], stale;
    char died[64];
    char exitdesc[32];
    double *lat[NSIG_T]; /* us, <0 = missing */
} inst_t;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
    if (n <= 0)
        return 0;
    qsort(v, n, sizeof(double), cmp_d);
    if (p == 50)
        return (n % 2) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    int i = (int)(p / 100.0 * (n - 1) + 0.5);
    return v[i];
}

static void desc_status(int st, char *buf, size_t len)
{
    if (WIFEXITED(st))
        snprintf(buf, len, "exit:%d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, len, "signal:%d", WTERMSIG(st));
    else
        snprintf(buf, len, "status:%d", st);
}

/* wait up to timeout_ms for a record; 1 = got, 0 = timeout */
static int get_rec(int fd, int timeout_ms, struct rec *r)
{
    int64_t end = now_ns() + (int64_t)timeout_ms * 1000000;
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, (char *)r + have, sizeof *r - have);
        if (n > 0) {
            have += n;
            if (have == sizeof *r)
                return 1;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return 0;
        int64_t left = end - now_ns();
        if (left <= 0)
            return 0;
        struct pollfd p = {fd, POLLIN, 0};
        poll(&p, 1, (int)(left / 1000000) + 1);
    }
}

int main(int argc, char **argv)
{
    int pidns = 0, rounds = 200, t_first = 1000, t_next = 300, opt;
    char *probe = NULL, *logfile = NULL, *cand = NULL;
    while ((opt = getopt(argc, argv, "pr:t:T:w:o:c:")) != -1) {
        switch (opt) {
        case 'p': pidns = 1; break;
        case 'r': rounds = atoi(optarg); break;
        case 't': t_first = atoi(optarg); break;
        case 'T': t_next = atoi(optarg); break;
        case 'w': probe = optarg; break;
        case 'o': logfile = optarg; break;
        case 'c': cand = optarg; break;
        default:
            fprintf(stderr, "usage: sigdrive [-p] [-r ROUNDS] [-t MS] [-T MS] [-o LOG] -w SIGPROBE "
                            "[NAME=PREFIX ...]\n");
            return 2;
        }
    }
    if (!probe || rounds < 1) {
        fprintf(stderr, "sigdrive: -w SIGPROBE required\n");
        return 2;
    }
    /* orphaned probes (an init that died) come back to us */
    prctl(PR_SET_CHILD_SUBREAPER, 1);

    int k = 1 + (argc - optind);
    inst_t *in = calloc(k, sizeof(inst_t));
    for (int i = 0; i < k; i++) {
        char *spec = i == 0 ? strdup("direct=") : strdup(argv[optind + i - 1]);
        char *eq = strchr(spec, '=');
        if (!eq) {
            fprintf(stderr, "sigdrive: bad spec %s (want NAME=PREFIX)\n", spec);
            return 2;
        }
        *eq = 0;
        in[i].name = spec;
        char **av = calloc(64, sizeof(char *));
        int ac = 0;
        char *save = NULL;
        for (char *t = strtok_r(eq + 1, " \t", &save); t && ac < 58; t = strtok_r(NULL, " \t", &save))
            av[ac++] = t;
        strcpy(in[i].dir, "/tmp/sigdrive.XXXXXX");
        if (!mkdtemp(in[i].dir)) {
            perror("sigdrive: mkdtemp");
            return 1;
        }
        snprintf(in[i].data, sizeof in[i].data, "%s/data", in[i].dir);
        snprintf(in[i].ctrl, sizeof in[i].ctrl, "%s/ctrl", in[i].dir);
        if (mkfifo(in[i].data, 0600) < 0 || mkfifo(in[i].ctrl, 0600) < 0) {
            perror("sigdrive: mkfifo");
            return 1;
        }
        in[i].dfd = open(in[i].data, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        in[i].cfd = open(in[i].ctrl, O_RDWR | O_CLOEXEC);
        av[ac++] = probe;
        av[ac++] = in[i].data;
        av[ac++] = in[i].ctrl;
        av[ac] = NULL;
        in[i].argv = av;
        for (int s = 0; s < NSIG_T; s++) {
            in[i].lat[s] = malloc(sizeof(double) * rounds);
            for (int r = 0; r < rounds; r++)
                in[i].lat[s][r] = -1;
        }
        strcpy(in[i].died, "no");
        strcpy(in[i].exitdesc, "?");
    }

    int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
    int logfd = logfile ? open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : nullfd;

    /* start all instances */
    for (int i = 0; i < k; i++) {
        pid_t pid;
        if (pidns)
            pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, NULL);
        else
            pid = fork();
        if (pid < 0) {
            perror("sigdrive: fork/clone");
            return 1;
        }
        if (pid == 0) {
            for (int s = 1; s < 65; s++)
                signal(s, SIG_DFL);
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, NULL);
            prctl(PR_SET_CHILD_SUBREAPER, 0);
            setpgid(0, 0);
            if (pidns) {
                if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
                    perror("sigdrive: mount");
                    _exit(125);
                }
            }
            dup2(nullfd, 0);
            dup2(logfd, 1);
            dup2(logfd, 2);
            execvp(in[i].argv[0], in[i].argv);
            dprintf(2, "sigdrive: exec %s: %s\n", in[i].argv[0], strerror(errno));
            _exit(127);
        }
        in[i].pid = pid;
    }
    for (int i = 0; i < k; i++) {
        struct rec r;
        if (get_rec(in[i].dfd, 5000, &r) && r.sig == 0) {
            in[i].ready = 1;
        } else {
            in[i].dead = 1;
            snprintf(in[i].died, sizeof in[i].died, "never-ready");
        }
    }

    /* The order is shuffled for every signal of every round.  A fixed
     * rotation is not enough: the instance that always comes right after
     * "direct" (the cheapest hop) measured about 10% faster than identical
     * copies of itself further down the list, pinned to one CPU. */
    int *order = malloc(sizeof(int) * k);
    unsigned seed = 12345;
    for (int r = 0; r < rounds; r++) {
        for (int s = 0; s < NSIG_T; s++) {
            for (int j = 0; j < k; j++)
                order[j] = j;
            for (int j = k - 1; j > 0; j--) {
                int x = rand_r(&seed) % (j + 1), t = order[j];
                order[j] = order[x];
                order[x] = t;
            }
            for (int j = 0; j < k; j++) {
                int i = order[j];
                if (in[i].dead || in[i].skip[s])
                    continue;
                struct rec rr;
                while (read(in[i].dfd, &rr, sizeof rr) == sizeof rr)
                    in[i].stale++;
                int64_t t0 = now_ns();
                kill(in[i].pid, sigs[s]);
                int got = 0;
                int64_t end = now_ns() + (int64_t)(r == 0 ? t_first : t_next) * 1000000;
                while (!got) {
                    int64_t left = (end - now_ns()) / 1000000;
                    if (left < 0 || !get_rec(in[i].dfd, (int)left + 1, &rr))
                        break;
                    if (rr.sig == sigs[s])
                        got = 1;
                    else
                        in[i].stale++;
                }
                if (got)
                    in[i].lat[s][r] = (rr.ns - t0) / 1000.0;
                else if (r == 0)
                    in[i].skip[s] = 1;
                int st;
                if (waitpid(in[i].pid, &st, WNOHANG) == in[i].pid) {
                    char d[32];
                    desc_status(st, d, sizeof d);
                    in[i].dead = 1;
                    snprintf(in[i].died, sizeof in[i].died, "on-SIG%s(%s)", signame[s], d);
                    strcpy(in[i].exitdesc, d);
                }
            }
        }
    }

    /* shut down: ask probes to exit; the init should then exit 0 */
    for (int i = 0; i < k; i++) {
        if (!in[i].dead) {
            if (write(in[i].cfd, "q", 1) < 0)
                perror("sigdrive: write ctrl");
        }
        close(in[i].cfd);
    }
    for (int i = 0; i < k; i++) {
        if (in[i].dead && strncmp(in[i].died, "on-", 3) == 0)
            continue;
        int st, done = 0;
        for (int w = 0; w < 300 && !done; w++) {
            if (waitpid(in[i].pid, &st, WNOHANG) == in[i].pid)
                done = 1;
            else
                usleep(10000);
        }
        if (!done) {
            kill(in[i].pid, SIGKILL);
            waitpid(in[i].pid, &st, 0);
            strcpy(in[i].exitdesc, "hung(killed)");
        } else {
            desc_status(st, in[i].exitdesc, sizeof in[i].exitdesc);
        }
    }
    /* reap any orphaned probe that came back to us (we are a subreaper) */
    for (int w = 0; w < 100; w++) {
        pid_t p = waitpid(-1, NULL, WNOHANG);
        if (p < 0)
            break;
        if (p == 0)
            usleep(10000);
    }

    printf("# sigdrive mode=%s rounds=%d instances=%d first_timeout_ms=%d timeout_ms=%d\n",
           pidns ? "pid1-in-new-pidns" : "plain-process", rounds, k, t_first, t_next);
    int ci = -1;
    for (int i = 0; cand && i < k; i++)
        if (strcmp(in[i].name, cand) == 0)
            ci = i;
    double *tmp = malloc(sizeof(double) * rounds * NSIG_T);
    double *rat = malloc(sizeof(double) * rounds * NSIG_T);
    for (int i = 0; i < k; i++) {
        char fwd[64] = "", miss[64] = "";
        int nall = 0, nrat_all = 0;
        double *all = malloc(sizeof(double) * rounds * NSIG_T);
        double *allr = malloc(sizeof(double) * rounds * NSIG_T);
        for (int s = 0; s < NSIG_T; s++) {
            int n = 0, nr = 0;
            for (int r = 0; r < rounds; r++) {
                double l = in[i].lat[s][r];
                if (l < 0)
                    continue;
                tmp[n++] = l;
                all[nall++] = l;
                double b = in[0].lat[s][r];
                if (b > 0) {
                    rat[nr++] = l / b;
                    allr[nrat_all++] = l / b;
                }
            }
            int sent = in[i].skip[s] ? 1 : rounds;
            double p10 = pct(tmp, n, 10), p90 = pct(tmp, n, 90), med = pct(tmp, n, 50);
            double rmed = pct(rat, nr, 50);
            printf("SIG name=%s sig=%s got=%d/%d med_us=%.1f p10_us=%.1f p90_us=%.1f ratio=%.3f\n",
                   in[i].name, signame[s], n, sent, med, p10, p90, rmed);
            if (n > 0 && !in[i].skip[s]) {
                strcat(fwd, fwd[0] ? "," : "");
                strcat(fwd, signame[s]);
            } else {
                strcat(miss, miss[0] ? "," : "");
                strcat(miss, signame[s]);
            }
        }
        printf("SUM name=%s forwarded=%s missing=%s med_us=%.1f ratio=%.3f died=%s exit=%s stale=%d\n",
               in[i].name, fwd[0] ? fwd : "-", miss[0] ? miss : "-", pct(all, nall, 50),
               pct(allr, nrat_all, 50), in[i].died, in[i].exitdesc, in[i].stale);
        free(all);
        free(allr);
    }
    for (int i = 0; ci >= 0 && i < k; i++) {
        if (i == ci)
            continue;
        int n = 0;
        for (int s = 0; s < NSIG_T; s++)
            for (int r = 0; r < rounds; r++)
                if (in[ci].lat[s][r] > 0 && in[i].lat[s][r] > 0)
                    rat[n++] = in[ci].lat[s][r] / in[i].lat[s][r];
        printf("VS cand=%s peer=%s n=%d ratio=%.3f\n", in[ci].name, in[i].name, n, pct(rat, n, 50));
    }
    for (int i = 0; i < k; i++) {
        unlink(in[i].data);
        unlink(in[i].ctrl);
        rmdir(in[i].dir);
    }
    return 0;
}
