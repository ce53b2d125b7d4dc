package upload

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// The workers are shared fairly, by stride scheduling. Work is done in
// units: a file's inspection (header and frame scan), then its decoding
// and classification, one unit per animation frame. Each unit waits for a
// worker with a priority key; among waiters the smallest key goes first,
// ties in arrival order, and when no one waits work starts at once.
//
//   - A file's first unit has its request's arrival time as key (pushed
//     back by fairShare times the worker time the request's earlier files
//     took): ordinary uploads go in arrival order.
//   - After a unit that took q, the next unit of the same file waits only
//     if someone waits with a key below now + fairShare·q, and then with
//     that key: work that arrives while it ran goes first. A still whose
//     decoding is estimated costly (a huge picture) does the same before
//     that unit, with its estimate as q.
//
// So while others wait, a long animation gets one frame per fairShare
// frames' worth of other work, and a client sending costly files
// continuously gets about 1/(fairShare+1) of a worker; alone, it gets
// all of it. Nothing waits forever: keys track time.
const fairShare = 8

// worker is a slot of the pool, with a buffer for the file being checked.
type worker struct{ buf []byte }

type waiter struct {
	key   int64 // unix nanoseconds
	seq   uint64
	ch    chan *worker
	index int // in the heap; -1 once handed a worker
}

type waitHeap []*waiter

func (h waitHeap) Len() int { return len(h) }
func (h waitHeap) Less(i, j int) bool {
	return h[i].key < h[j].key || h[i].key == h[j].key && h[i].seq < h[j].seq
}
func (h waitHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *waitHeap) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *waitHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	w.index = -1
	return w
}

// scheduler hands out workers by key.
type scheduler struct {
	mu      sync.Mutex
	free    []*worker
	waiters waitHeap
	seq     uint64
	workers int
}

func newScheduler(n int) *scheduler {
	s := &scheduler{workers: n}
	for range n {
		s.free = append(s.free, &worker{})
	}
	return s
}

// acquire takes a worker for work of priority key, waiting at most until
// ctx is done. When the wait would outlast the context's deadline (the
// work queued ahead, plus how far key lies in the future, at perUnit per
// unit of work), it gives up at once: the client is better served by a
// 503 with Retry-After now than by one at the deadline.
func (s *scheduler) acquire(ctx context.Context, key int64, perUnit time.Duration) (*worker, error) {
	s.mu.Lock()
	if n := len(s.free); n > 0 {
		wk := s.free[n-1]
		s.free = s.free[:n-1]
		s.mu.Unlock()
		return wk, nil
	}
	if dl, ok := ctx.Deadline(); ok {
		ahead := 0
		for _, w := range s.waiters {
			if w.key <= key {
				ahead++
			}
		}
		wait := time.Duration(int64(ahead+1)*int64(perUnit)/int64(s.workers)) + time.Duration(max(0, key-time.Now().UnixNano()))
		if wait > time.Until(dl) {
			s.mu.Unlock()
			return nil, errOverloaded
		}
	}
	s.seq++
	w := &waiter{key: key, seq: s.seq, ch: make(chan *worker, 1)}
	heap.Push(&s.waiters, w)
	s.mu.Unlock()
	select {
	case wk := <-w.ch:
		return wk, nil
	case <-ctx.Done():
		s.mu.Lock()
		if w.index >= 0 {
			heap.Remove(&s.waiters, w.index)
			s.mu.Unlock()
			return nil, errOverloaded
		}
		s.mu.Unlock()
		s.release(<-w.ch) // handed one just now: pass it on
		return nil, errOverloaded
	}
}

// release returns a worker: to the waiter with the smallest key, if any.
func (s *scheduler) release(wk *worker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.waiters) > 0 {
		w := heap.Pop(&s.waiters).(*waiter)
		w.ch <- wk
		return
	}
	s.free = append(s.free, wk)
}

// waitingBelow reports whether work with a key below key is waiting.
func (s *scheduler) waitingBelow(key int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiters) > 0 && s.waiters[0].key < key
}

// waiting is the number of units waiting for a worker.
func (s *scheduler) waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiters)
}

// budget is a byte budget that can be taken without waiting, or not at all.
type budget struct {
	mu   sync.Mutex
	left int64
}

func (b *budget) tryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.left {
		return false
	}
	b.left -= n
	return true
}

func (b *budget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.left += n
	b.mu.Unlock()
}
