package upload

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// perRequestOverhead is what an admitted request holds besides its spool,
// form and headers: its goroutine's stack, the connection's buffers, the
// request and form structures.
const perRequestOverhead = 64 << 10

// MemoryBound is the most memory, in bytes, the guard's own work can take
// at once with this configuration, by the formula of the package
// documentation:
//
//	2 × (2 × Workers × MaxDecodeBytes
//	     + MaxPending × (2 × MaxMemory + MaxFieldBytes + MaxHeaderBytes + 64 KiB))
//
// Workers × MaxDecodeBytes is what the workers hold; as much again may be
// held by animations waiting between frames for a worker (sched.go).
// The factor 2 is the garbage collector's headroom at the default GOGC
// (the heap grows to twice what is live before a collection); a GOMEMLIMIT
// lowers it. The process adds its detector (the model and one arena per
// concurrent classification, nsfw.ModelInfo.ArenaBytes) and the runtime.
func (g *Guard) MemoryBound() int64 {
	c := &g.cfg
	live := 2*int64(c.Workers)*c.MaxDecodeBytes +
		int64(c.MaxPending)*(2*c.MaxMemory+c.MaxFieldBytes+c.MaxHeaderBytes+perRequestOverhead)
	return 2 * live
}

// defaultWorkers is GOMAXPROCS, capped so that decoding takes at most a
// quarter of the memory available: the cgroup limit, GOMEMLIMIT, or the
// machine's RAM, whichever is known and lowest.
func defaultWorkers(procs int, perWorker int64) int {
	avail := availableMemory()
	if avail <= 0 || perWorker <= 0 {
		return procs
	}
	return max(1, min(procs, int(avail/4/perWorker)))
}

func availableMemory() int64 {
	var best int64
	take := func(v int64) {
		if v > 0 && (best == 0 || v < best) {
			best = v
		}
	}
	if lim := debug.SetMemoryLimit(-1); lim < 1<<62 {
		take(lim)
	}
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(f); err == nil {
			if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v < 1<<62 {
				take(v)
			}
		}
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		defer f.Close()
		s := bufio.NewScanner(f)
		for s.Scan() {
			if rest, ok := strings.CutPrefix(s.Text(), "MemTotal:"); ok {
				if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64); err == nil {
					take(kb << 10)
				}
			}
		}
	}
	return best
}
