package server_test

import (
	"encoding/json"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
)

// BenchmarkClaim measures POST /v1/tasks/{id}/claims over real HTTP
// (loopback) on each database, 8 clients per core, each client its own
// member of the org:
//
//   - spread: claims on random tasks among 50 of 1000 slots each; every
//     claim wins and its client releases it (the release is not timed);
//   - hot: every client claims one task of 5 slots; most answers are 409
//     task-full, and a winner releases at once, so the slots keep changing
//     hands.
//
// req/s counts claim requests only (the releases take time from them);
// p50/p99 are claim latencies; won-% is the share of claims that won.
func BenchmarkClaim(b *testing.B) {
	for _, backend := range dbtest.Backends(b) {
		b.Run(string(backend), func(b *testing.B) {
			e := apptest.Start(b, backend)
			admin := e.User(b, "admin", "root", "")
			coord, o := taskOrg(b, e, admin, "")
			vols := taskMembers(b, e, coord, o, 8*runtime.GOMAXPROCS(0), "")
			spread := make([]string, 50)
			for i := range spread {
				spread[i] = createTask(b, e, tok(coord), taskBody(o.ID, 1000)).ID
			}
			hot := createTask(b, e, tok(coord), taskBody(o.ID, 5)).ID
			b.Run("spread", func(b *testing.B) {
				benchClaims(b, e, vols, func(r *rand.Rand) string { return spread[r.IntN(len(spread))] })
			})
			b.Run("hot", func(b *testing.B) {
				benchClaims(b, e, vols, func(*rand.Rand) string { return hot })
			})
		})
	}
}

func benchClaims(b *testing.B, e *apptest.Env, vols []api.AuthResponse, pick func(*rand.Rand) string) {
	var l latencies
	var next, won atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := next.Add(1) - 1
		u := tok(vols[int(i)%len(vols)])
		r := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
		for pb.Next() {
			t0 := time.Now()
			rep, err := send(e.URL, u, "POST", taskPath(pick(r), "/claims"), nil)
			if err != nil {
				b.Error(err)
				return
			}
			l.add(time.Since(t0))
			switch {
			case rep.Status == 201:
				won.Add(1)
				var c api.Claim
				if err := json.Unmarshal(rep.Body, &c); err != nil {
					b.Error(err)
					return
				}
				if rel, err := send(e.URL, u, "POST", claimPath(c.ID, "/release"), nil); err != nil || rel.Status != 200 {
					b.Errorf("release: %v %v", rel, err)
					return
				}
			case rep.Type != "task-full":
				b.Errorf("claim: got %s: %s", rep, rep.Body)
				return
			}
		}
	})
	b.StopTimer()
	n := len(l.d)
	l.report(b, start)
	if n > 0 {
		b.ReportMetric(100*float64(won.Load())/float64(n), "won-%")
	}
}
