package upload

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Admission. At most MaxPending requests are admitted at once (their
// bodies being received, queued or checked). Slow clients are the threat:
// a body that trickles in holds its slot for as long as the client likes.
// Two rules keep slots for requests that arrive at a normal speed:
//
//   - after MinRateGrace, a body must average at least MinRate bytes a
//     second, or it is cut off with 408 (too-slow);
//   - when every slot is taken, a newcomer takes the slot of the slowest
//     request still receiving that averages under evictBelow × MinRate,
//     its average taken over at least evictWindow (and that has had
//     evictMinAge to start); that request gets 408 (too-slow). Only when
//     no request is that slow does the newcomer get 503.
//
// So slow clients can hold slots only while no one else needs them, and
// a client must keep sending at a normal speed to keep its place: in its
// first second, a request must have sent evictBelow × MinRate bytes (64
// KiB by default) to be safe from eviction.
const (
	evictMinAge = 100 * time.Millisecond
	evictWindow = time.Second
	evictBelow  = 8
)

// inflight is an admitted request.
type inflight struct {
	start     time.Time
	client    string
	received  atomic.Int64
	receiving atomic.Bool
	evicted   atomic.Bool
	rc        *http.ResponseController
}

// evict makes the request's pending body read fail at once.
func (e *inflight) evict() {
	e.evicted.Store(true)
	_ = e.rc.SetReadDeadline(time.Now())
}

type admission struct {
	mu        sync.Mutex
	all       map[*inflight]struct{}
	perClient map[string]int
}

type admitResult int

const (
	admitted admitResult = iota
	admitFull
	admitClientLimit
)

// admit admits e, evicting the slowest receiving request if every slot is
// taken and one is slow enough.
func (g *Guard) admit(e *inflight) admitResult {
	a := &g.adm
	var victim *inflight
	a.mu.Lock()
	if g.cfg.MaxPendingPerClient > 0 && a.perClient[e.client] >= g.cfg.MaxPendingPerClient {
		a.mu.Unlock()
		return admitClientLimit
	}
	if len(a.all) >= g.cfg.MaxPending {
		victim = g.slowest(e.start)
		if victim == nil {
			a.mu.Unlock()
			return admitFull
		}
		victim.evicted.Store(true) // no longer a candidate
	}
	a.all[e] = struct{}{}
	if g.cfg.MaxPendingPerClient > 0 {
		a.perClient[e.client]++
	}
	n := len(a.all)
	a.mu.Unlock()
	g.pending.Store(int64(n))
	if victim != nil {
		g.stats.evicted.Add(1)
		victim.evict()
	}
	return admitted
}

// slowest finds the eviction candidate; a.mu is held.
func (g *Guard) slowest(now time.Time) *inflight {
	if g.cfg.MinRate <= 0 {
		return nil
	}
	limit := float64(evictBelow * g.cfg.MinRate)
	var worst *inflight
	worstRate := limit
	for e := range g.adm.all {
		age := now.Sub(e.start)
		if !e.receiving.Load() || e.evicted.Load() || age < evictMinAge {
			continue
		}
		if rate := float64(e.received.Load()) / max(age, evictWindow).Seconds(); rate < worstRate {
			worst, worstRate = e, rate
		}
	}
	return worst
}

func (g *Guard) leave(e *inflight) {
	a := &g.adm
	a.mu.Lock()
	delete(a.all, e)
	if g.cfg.MaxPendingPerClient > 0 {
		if a.perClient[e.client]--; a.perClient[e.client] <= 0 {
			delete(a.perClient, e.client)
		}
	}
	n := len(a.all)
	a.mu.Unlock()
	g.pending.Store(int64(n))
}

// clientKey identifies the client for MaxPendingPerClient: its IP address,
// or, when the request comes from one of TrustedProxies, the address the
// proxies recorded in X-Forwarded-For (the rightmost one that is not
// itself a trusted proxy). Anyone can write X-Forwarded-For, so it is read
// only from trusted proxies.
func (g *Guard) clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !g.trusted(addr) {
		return host
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return strings.TrimSpace(hops[i]) // garbage: a client of its own
		}
		if !g.trusted(a) {
			return a.Unmap().String()
		}
	}
	return host
}

func (g *Guard) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range g.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
