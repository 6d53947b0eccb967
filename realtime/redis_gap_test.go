package realtime_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/realtime"
)

// healCounter is a sink that counts the heals it is asked for.
type healCounter struct{ heals atomic.Int64 }

func (*healCounter) Deliver([]event.Event) {}
func (h *healCounter) Heal()               { h.heals.Add(1) }

// A publish lost on plain Redis (here: the queue was full) is followed by
// a gap notice once Redis takes one, and the other instances heal at once
// instead of at their next sync: events lost with it (a member's removal)
// are not overtaken for seconds by later ones of other streams.
func TestRedisGapNotice(t *testing.T) {
	url := os.Getenv("JARIMU_TEST_REDIS_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI must run this with JARIMU_TEST_REDIS_URL")
		}
		t.Skip("needs JARIMU_TEST_REDIS_URL (always set in CI)")
	}
	prefix := fmt.Sprintf("gaptest%d:", time.Now().UnixNano())
	client := func() *realtime.Redis {
		rdb, err := realtime.NewRedisClient(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rdb.Close() })
		return realtime.NewRedis(rdb, prefix, nil)
	}
	receiver, sender := client(), client()
	sink := &healCounter{}
	runBroker(t, receiver, sink)
	waitFor(t, "the receiver's subscription", func() bool { return receiver.Reconnects.Load() == 1 && sink.heals.Load() == 1 })
	for i := 0; sender.Dropped.Load() == 0; i++ {
		if i > 100000 {
			t.Fatal("the publish queue never fills")
		}
		sender.Publish(context.Background(), []event.Event{{Stream: "filler", Seq: int64(i + 1), Name: "test.filler"}})
	}
	runBroker(t, sender, nopSink{})
	waitFor(t, "the gap notice", func() bool { return sender.GapNotices.Load() == 1 })
	waitFor(t, "the receiver's heal", func() bool { return sink.heals.Load() == 2 })
	time.Sleep(1100 * time.Millisecond) // two more ticks of the sender
	if n, h := sender.GapNotices.Load(), sink.heals.Load(); n != 1 || h != 2 {
		t.Errorf("after the notice: %d notices, %d heals; want one notice for one loss", n, h)
	}
}
