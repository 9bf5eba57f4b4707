/*
 * benchtime - interleaved whole-process timer for the init/spawner benchmarks.
 *
 * usage: benchtime [-n RUNS] [-w WARMUP] [-t TIMEOUT_S] [-o FILE] [-l NAME,NAME,...]
 *                  [-c CAND_NAME] [-r RAWFILE] -- CMD0 [ARGS...] [:: CMD1 [ARGS...]] ...
 *
 * CMD0 is the baseline.  Every round runs each command once (A B C, C A B,
 * ...: in an order shuffled afresh every round), and the ratio of each command to
 * the baseline is taken within the round, so that drift in machine speed
 * during the call cancels out.  Figures printed:
 * median / min / max wall time in microseconds (CLOCK_MONOTONIC read just
 * before posix_spawn and just after the child is seen to exit), median of the
 * per-round ratios, median peak RSS (ru_maxrss of the child tree from wait4,
 * i.e. the largest single process that was waited for, in KiB; floor = this
 * program's own RSS, printed) and median user+sys CPU.
 *
 * No shell is involved: commands are exec'd directly (PATH is searched).
 * Each child gets stdin=/dev/null, stdout+stderr to FILE (append) or
 * /dev/null, its own process group, default signal dispositions and an empty
 * signal mask.  Whatever the command leaves running in its process group is
 * killed (SIGKILL) while the leader is still a zombie, so the group id
 * cannot have been reused.
 *
 * With -c CAND_NAME the candidate is also compared with every other command,
 * round by round (candidate wall / other wall, median over rounds): that is
 * the "candidate vs peer" figure, and like the baseline ratio it cancels
 * drift in machine speed.  -r appends every timed run to RAWFILE as
 * "round name wall_us rss_kib status" so any other comparison can be redone.
 *
 * Output (stdout): comment lines starting with '#', then one line per command:
 *   BT name=.. n=.. med_us=.. min_us=.. max_us=.. ratio=.. ratio_min=..
 *      ratio_max=.. rss_kib=.. cpu_us=.. bad=.. last=exit:0
 * and with -c one line per other command:
 *   VS cand=.. peer=.. n=.. ratio=.. ratio_min=.. ratio_max=..
 * 'bad' counts runs whose exit status was not the expected one (-x, default 0)
 * or that timed out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

typedef struct {
    char *name;
    char **argv;
    double *wall;   /* us */
    double *cpu;    /* us */
    double *ratio;
    double *rss;    /* KiB */
    int bad;
    char last[32];
} cmd_t;

static volatile sig_atomic_t alarmed;
static void on_alarm(int s) { (void)s; alarmed = 1; }

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const double *v, int n, double *mn, double *mx)
{
    if (n <= 0) { if (mn) *mn = 0; if (mx) *mx = 0; return 0; }
    double *t = malloc(sizeof(double) * n);
    memcpy(t, v, sizeof(double) * n);
    qsort(t, n, sizeof(double), cmp_d);
    double m = (n % 2) ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2.0;
    if (mn) *mn = t[0];
    if (mx) *mx = t[n - 1];
    free(t);
    return m;
}

static void usage(void)
{
    fprintf(stderr, "usage: benchtime [-n RUNS] [-w WARMUP] [-t TIMEOUT_S] [-o FILE] "
                    "[-x EXPECTED_EXIT] [-l NAMES] -- CMD0 ARGS [:: CMD1 ARGS] ...\n");
    exit(2);
}

/* Run one command once.  Returns 0 when it ran (whatever its status). */
static int run_once(cmd_t *c, int infd, int outfd, int timeout_s, int expect,
                    double *wall, double *cpu, double *rss)
{
    posix_spawnattr_t at;
    posix_spawn_file_actions_t fa;
    sigset_t empty, all;
    pid_t pid;
    int rc;

    sigemptyset(&empty);
    sigfillset(&all);
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &empty);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, infd, 0);
    posix_spawn_file_actions_adddup2(&fa, outfd, 1);
    posix_spawn_file_actions_adddup2(&fa, outfd, 2);

    double t0 = now_us();
    rc = posix_spawnp(&pid, c->argv[0], &fa, &at, c->argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0) {
        snprintf(c->last, sizeof c->last, "spawn-error:%d", rc);
        fprintf(stderr, "benchtime: cannot start %s: %s\n", c->argv[0], strerror(rc));
        return -1;
    }

    int timed_out = 0;
    alarmed = 0;
    if (timeout_s > 0)
        alarm(timeout_s);
    siginfo_t si;
    for (;;) {
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0)
            break;
        if (errno == EINTR) {
            if (alarmed && !timed_out) {
                timed_out = 1;
                killpg(pid, SIGKILL);
            }
            continue;
        }
        perror("benchtime: waitid");
        break;
    }
    double t1 = now_us();
    alarm(0);
    /* leader is a zombie: its pid (= pgid) cannot be reused yet */
    killpg(pid, SIGKILL);

    struct rusage ru;
    int st = 0;
    while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
        ;
    *wall = t1 - t0;
    *cpu = (double)ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
    *rss = (double)ru.ru_maxrss;
    if (timed_out) {
        snprintf(c->last, sizeof c->last, "timeout");
        c->bad++;
    } else if (WIFEXITED(st)) {
        snprintf(c->last, sizeof c->last, "exit:%d", WEXITSTATUS(st));
        if (WEXITSTATUS(st) != expect)
            c->bad++;
    } else if (WIFSIGNALED(st)) {
        snprintf(c->last, sizeof c->last, "signal:%d", WTERMSIG(st));
        c->bad++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int runs = 10, warm = 1, timeout_s = 60, expect = 0;
    char *outfile = NULL, *names = NULL, *cand = NULL, *rawfile = NULL;
    int opt;

    while ((opt = getopt(argc, argv, "+n:w:t:o:l:x:c:r:h")) != -1) {
        switch (opt) {
        case 'n': runs = atoi(optarg); break;
        case 'w': warm = atoi(optarg); break;
        case 't': timeout_s = atoi(optarg); break;
        case 'o': outfile = optarg; break;
        case 'l': names = optarg; break;
        case 'x': expect = atoi(optarg); break;
        case 'c': cand = optarg; break;
        case 'r': rawfile = optarg; break;
        default: usage();
        }
    }
    if (optind >= argc || runs < 1 || warm < 0)
        usage();

    /* split the remaining argv on "::" */
    int k = 0;
    cmd_t *cmds = calloc(argc, sizeof(cmd_t));
    char **rest = &argv[optind];
    int nrest = argc - optind;
    int start = 0;
    for (int i = 0; i <= nrest; i++) {
        if (i == nrest || strcmp(rest[i], "::") == 0) {
            if (i == start)
                usage();
            cmds[k].argv = &rest[start];
            if (i < nrest)
                rest[i] = NULL; /* terminate this argv in place */
            k++;
            start = i + 1;
        }
    }
    /* names */
    char *saveptr = NULL;
    char *tok = names ? strtok_r(names, ",", &saveptr) : NULL;
    for (int i = 0; i < k; i++) {
        if (tok) {
            cmds[i].name = tok;
            tok = strtok_r(NULL, ",", &saveptr);
        } else {
            char *b = strrchr(cmds[i].argv[0], '/');
            cmds[i].name = b ? b + 1 : cmds[i].argv[0];
        }
        cmds[i].wall = calloc(runs, sizeof(double));
        cmds[i].cpu = calloc(runs, sizeof(double));
        cmds[i].ratio = calloc(runs, sizeof(double));
        cmds[i].rss = calloc(runs, sizeof(double));
        strcpy(cmds[i].last, "none");
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: waitid must return EINTR */
    sigaction(SIGALRM, &sa, NULL);

    int infd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int outfd = outfile ? open(outfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)
                        : open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (infd < 0 || outfd < 0) {
        perror("benchtime: open");
        return 1;
    }

    FILE *raw = rawfile ? fopen(rawfile, "a") : NULL;
    if (rawfile && !raw) {
        perror("benchtime: open raw file");
        return 1;
    }
    int ci = -1;
    for (int i = 0; cand && i < k; i++)
        if (strcmp(cmds[i].name, cand) == 0)
            ci = i;
    if (cand && ci < 0) {
        fprintf(stderr, "benchtime: -c %s: no command of that name\n", cand);
        return 2;
    }
    /* vs[i][round] = candidate wall / command i wall in the same round */
    double **vs = calloc(k, sizeof(double *));
    int *nvs = calloc(k, sizeof(int));
    for (int i = 0; i < k; i++)
        vs[i] = calloc(runs, sizeof(double));

    double *w = calloc(k, sizeof(double)), *cp = calloc(k, sizeof(double)),
           *rs = calloc(k, sizeof(double));
    int *ok = calloc(k, sizeof(int));
    int *order = calloc(k, sizeof(int));
    unsigned seed = 4242;
    for (int r = 0; r < warm + runs; r++) {
        /* A fresh random order every round, so that no command always
         * follows the same one (a signal benchmark here showed a ~10% gain
         * for whichever instance always came after the cheapest one). */
        for (int j = 0; j < k; j++)
            order[j] = j;
        for (int j = k - 1; j > 0; j--) {
            int x = rand_r(&seed) % (j + 1), t = order[j];
            order[j] = order[x];
            order[x] = t;
        }
        for (int j = 0; j < k; j++) {
            int i = order[j];
            ok[i] = run_once(&cmds[i], infd, outfd, timeout_s, expect, &w[i], &cp[i], &rs[i]) == 0;
        }
        if (r < warm)
            continue;
        int idx = r - warm;
        for (int i = 0; i < k; i++) {
            cmds[i].wall[idx] = w[i];
            cmds[i].cpu[idx] = cp[i];
            cmds[i].rss[idx] = rs[i];
            cmds[i].ratio[idx] = (ok[0] && ok[i] && w[0] > 0) ? w[i] / w[0] : 0;
            if (ci >= 0 && ok[ci] && ok[i] && w[i] > 0)
                vs[i][nvs[i]++] = w[ci] / w[i];
            if (raw)
                fprintf(raw, "%d %s %.1f %.0f %s\n", idx, cmds[i].name, w[i], rs[i], cmds[i].last);
        }
    }

    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    printf("# benchtime runs=%d warmup=%d commands=%d order=shuffled-each-round "
           "baseline=%s rss_floor_kib=%ld\n",
           runs, warm, k, cmds[0].name, self.ru_maxrss);
    for (int i = 0; i < k; i++) {
        double mn, mx, rmn, rmx;
        double med = median(cmds[i].wall, runs, &mn, &mx);
        double rmed = median(cmds[i].ratio, runs, &rmn, &rmx);
        double rss = median(cmds[i].rss, runs, NULL, NULL);
        double cpu = median(cmds[i].cpu, runs, NULL, NULL);
        printf("BT name=%s n=%d med_us=%.1f min_us=%.1f max_us=%.1f ratio=%.4f "
               "ratio_min=%.4f ratio_max=%.4f rss_kib=%.0f cpu_us=%.0f bad=%d last=%s\n",
               cmds[i].name, runs, med, mn, mx, rmed, rmn, rmx, rss, cpu, cmds[i].bad,
               cmds[i].last);
    }
    for (int i = 0; ci >= 0 && i < k; i++) {
        if (i == ci)
            continue;
        double mn, mx;
        double m = median(vs[i], nvs[i], &mn, &mx);
        printf("VS cand=%s peer=%s n=%d ratio=%.4f ratio_min=%.4f ratio_max=%.4f\n", cmds[ci].name,
               cmds[i].name, nvs[i], m, mn, mx);
    }
    if (raw)
        fclose(raw);
    return 0;
}
