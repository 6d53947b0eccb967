package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// The batcher reads a hello at once when a read is free, and the hellos
// that come meanwhile together, at most most at a time and atOnce reads at
// a time; a hello that stopped waiting is not read.
func TestHelloBatcher(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	running, peak := 0, 0
	gate := make(chan struct{})
	b := &helloBatcher{atOnce: 2, most: 4, read: func(_ context.Context, asks []*helloAsk) {
		mu.Lock()
		sizes = append(sizes, len(asks))
		running++
		peak = max(peak, running)
		mu.Unlock()
		<-gate
		for _, q := range asks {
			q.st.Role = q.userID // the answer: whose it is
		}
		mu.Lock()
		running--
		mu.Unlock()
	}}
	ask := func(ctx context.Context, user string) (string, error) {
		st, err := b.ask(&helloAsk{ctx: ctx, userID: user})
		return st.Role, err
	}
	type answer struct {
		user, role string
		err        error
	}
	answers := make(chan answer, 20)
	send := func(ctx context.Context, user string) {
		go func() {
			role, err := ask(ctx, user)
			answers <- answer{user, role, err}
		}()
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("waited for %s", what)
			}
		}
	}
	// Two hellos take the two reads; nine wait, one of which gives up.
	send(context.Background(), "u0")
	waitFor("one read", func() bool { mu.Lock(); defer mu.Unlock(); return running == 1 })
	send(context.Background(), "u1")
	waitFor("two reads", func() bool { mu.Lock(); defer mu.Unlock(); return running == 2 })
	gone, cancel := context.WithCancel(context.Background())
	send(gone, "gone")
	for i := 2; i < 10; i++ {
		send(context.Background(), fmt.Sprint("u", i))
	}
	waitFor("nine waiting", func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.queue) == 9 })
	cancel()
	a := <-answers
	if a.user != "gone" || !errors.Is(a.err, context.Canceled) {
		t.Fatalf("got %+v first, want the hello that gave up", a)
	}
	close(gate)
	for range 10 {
		a := <-answers
		if a.err != nil || a.role != a.user {
			t.Fatalf("got %+v, want its own answer", a)
		}
	}
	waitFor("the reads to end", func() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.running == 0 })
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, n := range sizes[2:] {
		total += n
		if n > 4 {
			t.Fatalf("a read of %d hellos, want at most 4: %v", n, sizes)
		}
	}
	// u0 and u1 alone, then the eight that waited (not the one that gave
	// up) in reads of at most four: at least two.
	if sizes[0] != 1 || sizes[1] != 1 || total != 8 || len(sizes) < 4 || peak != 2 {
		t.Fatalf("reads of %v hellos (at most %d at once), want 1, 1, then 8 in reads of at most 4, at most 2 at once", sizes, peak)
	}
	if b.statements.Load() != int64(len(sizes)) || b.hellos.Load() != 10 {
		t.Fatalf("counted %d reads of %d hellos, want %d of 10", b.statements.Load(), b.hellos.Load(), len(sizes))
	}
}

// A read goes on while one hello of its batch still waits, and is
// cancelled once none does (phones gone, or the server shutting down).
func TestHelloReadEndsWhenNobodyWaits(t *testing.T) {
	reading := make(chan context.Context)
	release := make(chan struct{})
	b := &helloBatcher{atOnce: 1, most: 4, read: func(ctx context.Context, asks []*helloAsk) {
		reading <- ctx
		select {
		case <-ctx.Done():
			for _, q := range asks { // as readHellos answers a read that failed
				q.err = ctx.Err()
			}
		case <-release:
		}
	}}
	first, cancelFirst := context.WithCancel(context.Background())
	errs := make(chan error, 3)
	go func() { _, err := b.ask(&helloAsk{ctx: first, userID: "u0"}); errs <- err }()
	ctx := <-reading // u0, alone
	cancelFirst()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the read of a hello that stopped waiting was not cancelled")
	}
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("u0: %v", err)
	}
	a, cancelA := context.WithCancel(context.Background())
	go func() { _, err := b.ask(&helloAsk{ctx: a, userID: "a"}); errs <- err }()
	ctx = <-reading
	go func() { _, err := b.ask(&helloAsk{ctx: context.Background(), userID: "late"}); errs <- err }()
	cancelA()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("a: %v", err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the read of a batch whose hellos stopped waiting was not cancelled")
	}
	// "late" waits: its read goes on until it ends by itself.
	ctx = <-reading
	select {
	case <-ctx.Done():
		t.Fatal("a read was cancelled while its hello still waited")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-errs; err != nil {
		t.Fatalf("late: %v", err)
	}
}

// A read that panics fails its hellos, not the process, and the next
// hello is read again.
func TestHelloBatcherSurvivesAPanic(t *testing.T) {
	calls := 0
	b := &helloBatcher{atOnce: 1, most: 4, read: func(_ context.Context, asks []*helloAsk) {
		calls++
		if calls == 1 {
			panic("boom")
		}
		for _, q := range asks {
			q.st.Role = q.userID
		}
	}}
	if _, err := b.ask(&helloAsk{ctx: context.Background(), userID: "u1"}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("a read that panicked: got %v, want its error", err)
	}
	st, err := b.ask(&helloAsk{ctx: context.Background(), userID: "u2"})
	if err != nil || st.Role != "u2" {
		t.Fatalf("the next hello: got %+v, %v", st, err)
	}
}
