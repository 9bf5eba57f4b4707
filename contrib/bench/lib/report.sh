#!/usr/bin/env bash
# report.sh RESULTS.tsv -> markdown on stdout.
# RESULTS.tsv holds the HOST, RESULT, TARGET and CMD lines that run.sh and
# the b*.sh scripts print (see lib/common.sh).  Paths under the repository
# are shown relative to its root.
set -euo pipefail
in=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)

awk -F'\t' -v root="$root/" '
function esc(s) { gsub(/\|/, "\\|", s); return s }
function rel(s) { gsub(root, "", s); return s }
BEGIN {
    title["B1"] = "B1 start-up: `INIT /bin/true`"
    title["B2"] = "B2 memory: init supervising `sleep 60`"
    title["B3"] = "B3 reaping orphans as PID 1"
    title["B4"] = "B4 signal forwarding: kill() to the workload'"'"'s handler"
    title["B5"] = "B5 exit codes: workload exits 0, 3, dies of SIGKILL, of SIGTERM"
    title["B6"] = "B6 spawn: /bin/true in a fresh container"
    title["B7"] = "B7 restarts: a workload that exits at once, restarted with no delay"
    title["B8"] = "B8 logs: 128-byte lines through the supervisor into a file"
    title["B9"] = "B9 memory: the supervisor of ten `sleep 600` workloads"
}
$1 == "HOST"   { hk[++nh] = $2; hv[nh] = $3 }
$1 == "TARGET" { nt++; t1[nt] = $2; t2[nt] = $3; t3[nt] = $4; t4[nt] = $5; t5[nt] = $6 }
$1 == "CMD"    { nc++; c1[nc] = $2; c2[nc] = $3; c3[nc] = rel($4) }
$1 == "RESULT" {
    nr++; b[nr] = $2; f[nr] = $3; n[nr] = $4; v[nr] = $5; vb[nr] = $6; vc[nr] = $7; no[nr] = rel($8)
    if (!((b[nr]) in seenb)) { seenb[b[nr]] = 1; benches[++nbench] = b[nr] }
    k = b[nr] SUBSEP $4
    if (!(k in seenn)) { seenn[k] = 1; names[b[nr], ++nn[b[nr]]] = $4 }
    k = b[nr] SUBSEP $3
    if (!(k in seenf)) { seenf[k] = 1; figs[b[nr], ++nf[b[nr]]] = $3 }
    cell[b[nr], $3, $4] = $5 (($7 != "-" && $7 != "") ? " (" $7 ")" : "")
    if ($5 == "n/a") cell[b[nr], $3, $4] = "n/a"
}
END {
    for (i = 1; i <= nh; i++) h[hk[i]] = hv[i]
    print "# Benchmarks: miniinit and minispawn against their peers"
    print ""
    printf "Run of `contrib/bench/run.sh` (`make bench`) on %s, %s run, took %s.\n", h["date"], h["mode"], h["took"]
    print "Other work shares this machine, so absolute times drift from run to run: read the medians and the ratios."
    print "Every benchmark runs all of its peers in ONE interleaved run (each round runs every command once, in a"
    print "shuffled order), and a ratio is the median of the per-round ratios. Nothing here is a pass/fail gate."
    print ""
    split(h["cpu"], cw, " "); split(h["load at start"], ls, " "); split(h["load at end"], le, " ")
    if (cw[1] > 0 && (ls[1] > cw[1] || le[1] > cw[1])) {
        printf "**The machine was busy during this run** (load average %s at the start, %s at the end, on %s cores):\n", ls[1], le[1], cw[1]
        print "other processes competed for the CPUs, so the ratios are noisier than usual. Rerun when it is quiet to confirm."
        print ""
    }
    print "| Machine | |"
    print "|---|---|"
    split("cpu,memory,kernel,debian,cgroups,systemd as PID 1,load at start,load at end,tree,bin/miniinit,bin/minispawn,candidates,peers", order, ",")
    for (i = 1; i in order; i++) if (order[i] in h) printf "| %s | %s |\n", order[i], esc(rel(h[order[i]]))
    print ""
    print "## Targets"
    print ""
    print "Verdicts are for this run only; a figure near its limit can land on either side in another run."
    print ""
    print "| Bench | What | Target | Measured | Verdict |"
    print "|---|---|---|---|---|"
    for (i = 1; i <= nt; i++) printf "| %s | %s | %s | %s | %s |\n", t1[i], esc(t2[i]), esc(t3[i]), esc(t4[i]), esc(t5[i])
    print ""
    print "## Side by side"
    print ""
    print "Each cell: the median, and in brackets the candidate'"'"'s figure divided by that one (median of the per-round"
    print "ratios where there are rounds): **>1 means the candidate is slower or bigger** than that peer or baseline."
    print "The candidate is the first column after the figure, the baseline the last."
    for (bi = 1; bi <= nbench; bi++) {
        bb = benches[bi]
        print ""
        print "### " (bb in title ? title[bb] : bb)
        print ""
        # columns: the candidate, the peers in their order, the baseline last
        m = 0
        for (j = 1; j <= nn[bb]; j++) if (names[bb, j] == h["init candidate"] || names[bb, j] == h["spawn candidate"]) col[++m] = names[bb, j]
        # (a control run such as "(control)" is only in the full table below)
        for (j = 1; j <= nn[bb]; j++) if (names[bb, j] != h["init candidate"] && names[bb, j] != h["spawn candidate"] && names[bb, j] != "baseline" && names[bb, j] !~ /^\(/) col[++m] = names[bb, j]
        for (j = 1; j <= nn[bb]; j++) if (names[bb, j] == "baseline") col[++m] = names[bb, j]
        line = "| Figure |"; sep = "|---|"
        for (j = 1; j <= m; j++) { line = line " " col[j] " |"; sep = sep "---|" }
        print line; print sep
        for (fi = 1; fi <= nf[bb]; fi++) {
            fg = figs[bb, fi]
            any = 0
            for (j = 1; j <= m; j++) if (cell[bb, fg, col[j]] != "") any = 1
            if (!any) continue
            line = "| " esc(fg) " |"
            for (j = 1; j <= m; j++) {
                c = cell[bb, fg, col[j]]
                line = line " " (c == "" ? "" : esc(c)) " |"
            }
            print line
        }
    }
    print ""
    print "## All figures, with notes"
    print ""
    print "| Bench | Figure | Who | Median | vs baseline | cand/this | Note |"
    print "|---|---|---|---|---|---|---|"
    for (i = 1; i <= nr; i++)
        printf "| %s | %s | %s | %s | %s | %s | %s |\n", b[i], esc(f[i]), esc(n[i]), esc(v[i]), esc(vb[i]), esc(vc[i]), esc(no[i])
    print ""
    print "## Command lines"
    print ""
    print "Paths relative to the repository root; `$WORK` is the run'"'"'s scratch directory on tmpfs;"
    print "`nsrun`, `orphans`, `sigdrive`, `sigprobe`, `exiter`, `benchtime`, `clockutil`, `tick` and `spew` are the helpers in contrib/bench/src."
    print ""
    print "| Bench | Who | Command |"
    print "|---|---|---|"
    for (i = 1; i <= nc; i++) printf "| %s | %s | `%s` |\n", c1[i], esc(c2[i]), esc(c3[i])
}' "$in"
