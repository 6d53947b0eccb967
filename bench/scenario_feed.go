package bench

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// FeedOptions size the feed scenarios.
type FeedOptions struct {
	Clients  int           // feed connections (volunteers of Region)
	Alerts   int           // alerts to publish, one after the other
	Region   string        // the volunteers' region; alerts go to its province
	Parallel int           // connections opened at once (200)
	Wait     time.Duration // how long one alert may take to reach everyone (30 s)
	Prefix   string        // seeded accounts' email prefix
	Ack      bool          // every client acks every event, as the console does
	// Rate, when above 0, publishes alerts at this many per second for
	// Duration instead of Alerts one after the other (the rate mode).
	Rate     float64
	Duration time.Duration
}

func (o *FeedOptions) defaults() {
	if o.Parallel == 0 {
		o.Parallel = 200
	}
	if o.Wait == 0 {
		o.Wait = 30 * time.Second
	}
	if o.Region == "" {
		o.Region = "3171"
	}
	if o.Prefix == "" {
		o.Prefix = fmt.Sprintf("bench-%d", time.Now().UnixNano())
	}
}

// crowd seeds the volunteers and an officer and mints their tokens.
func (e *Env) crowd(ctx context.Context, o FeedOptions) ([]*feedClient, string, error) {
	ids, err := e.Seeder.SeedUsers(ctx, o.Clients, "volunteer", o.Region, o.Prefix)
	if err != nil {
		return nil, "", err
	}
	officer, err := e.Seeder.SeedUsers(ctx, 1, "officer", "", o.Prefix+"-officer")
	if err != nil {
		return nil, "", err
	}
	officerToken, _, err := e.Minter.Issue(officer[0], "officer")
	if err != nil {
		return nil, "", err
	}
	clients := make([]*feedClient, len(ids))
	for i, id := range ids {
		tok, _, err := e.Minter.Issue(id, "volunteer")
		if err != nil {
			return nil, "", err
		}
		clients[i] = &feedClient{userID: id, token: tok, url: e.url(i), ack: o.Ack}
	}
	return clients, officerToken, nil
}

// Feed opens Clients authenticated feed connections, then publishes Alerts
// alerts to their province one after the other and records, per alert, the
// time from its commit (published_at, the database clock on this machine)
// until each client had it: the last receipt and all receipts. With a server
// pid it also reports the server's resident memory per connection.
func Feed(ctx context.Context, e *Env, o FeedOptions) (*Result, error) {
	o.defaults()
	r := newResult("feed")
	clients, officer, err := e.crowd(ctx, o)
	if err != nil {
		return nil, err
	}
	before := e.serverRSS()
	took, failed := connectAll(ctx, clients, o.Parallel, newProgress(e.Progress, "connecting", len(clients)))
	defer dropAll(clients)
	r.set("clients", len(clients))
	r.set("failed_connections", failed)
	r.set("connect_seconds", round(took.Seconds()))
	r.set("connects_per_second", round(float64(len(clients)-failed)/took.Seconds()))
	if before > 0 {
		time.Sleep(2 * time.Second) // let the server settle after the burst
		after := e.serverRSS()
		r.set("server_rss_mib_before", round(float64(before)/(1<<20)))
		r.set("server_rss_mib_connected", round(float64(after)/(1<<20)))
		r.set("server_rss_kib_per_connection", round(float64(after-before)/1024/float64(max(1, len(clients)-failed))))
	}
	r.set("clients_ack", o.Ack)
	if o.Rate > 0 {
		return r, e.steady(ctx, o, clients, officer, r)
	}
	var lasts, all []time.Duration
	cpu0, cpuErr := e.serverCPU()
	p := newProgress(e.Progress, "alerts", o.Alerts)
	for n := range o.Alerts {
		id, at, err := e.publishAlert(ctx, officer, o.Region[:2], n)
		if err != nil {
			return nil, err
		}
		last, each, missing := awaitAlert(ctx, clients, id, at, o.Wait)
		if missing > 0 {
			r.note("alert %d: %d clients did not get it within %s", n, missing, o.Wait)
		}
		lasts, all = append(lasts, last), append(all, each...)
		p.show(n + 1)
	}
	r.stat("alert_to_last_client", lasts)
	r.stat("alert_to_each_client", all)
	r.set("deliveries", len(all))
	if cpu1, err := e.serverCPU(); cpuErr == nil && err == nil && len(all) > 0 {
		// The server's CPU over the alerts (commit, fan-out, and with --ack
		// reading the acks), per 1,000 deliveries.
		r.set("server_cpu_ms_per_1000_deliveries", round(float64((cpu1-cpu0).Milliseconds())*1000/float64(len(all))))
	}
	return r, nil
}

// serverCPU is the CPU time the server (--server-pid) has used so far.
func (e *Env) serverCPU() (time.Duration, error) {
	if e.ServerPID <= 0 {
		return 0, errors.New("no server pid")
	}
	return cpuTime(e.ServerPID)
}

// awaitAlert waits until every connected client has alert id (or wait
// passes) and returns the last receipt delay, every receipt delay, and how
// many clients never got it.
func awaitAlert(ctx context.Context, clients []*feedClient, id string, at time.Time, wait time.Duration) (time.Duration, []time.Duration, int) {
	deadline := time.Now().Add(wait)
	var connected int64
	for _, c := range clients {
		if c.ws != nil {
			connected++
		}
	}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if received.count(id) >= connected && countMissing(clients, id) == 0 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	var last time.Duration
	var each []time.Duration
	for _, c := range clients {
		c.mu.Lock()
		for i := len(c.receipts) - 1; i >= 0; i-- { // a client records an alert once
			if rc := c.receipts[i]; rc.alertID == id {
				d := rc.at.Sub(at)
				each = append(each, d)
				last = max(last, d)
				break
			}
		}
		c.mu.Unlock()
	}
	return last, each, countMissing(clients, id)
}

func countMissing(clients []*feedClient, id string) int {
	n := 0
	for _, c := range clients {
		if c.ws != nil && !c.got(id) {
			n++
		}
	}
	return n
}

func dropAll(clients []*feedClient) {
	for _, c := range clients {
		c.drop()
	}
}

// serverRSS asks the local server to collect garbage and return free memory
// (SIGUSR1), then reads its resident memory.
func (e *Env) serverRSS() int64 {
	if e.ServerPID <= 0 {
		return 0
	}
	if syscall.Kill(e.ServerPID, syscall.SIGUSR1) == nil {
		time.Sleep(time.Second)
	}
	n, _ := rss(e.ServerPID)
	return n
}

func round(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// Storm connects Clients, drops them all at once, publishes Alerts alerts
// while they are away, then reconnects them all at once with resume, and
// measures how fast the crowd is back (authenticated hellos per second) and
// until every client has every missed alert.
func Storm(ctx context.Context, e *Env, o FeedOptions) (*Result, error) {
	o.defaults()
	r := newResult("storm")
	clients, officer, err := e.crowd(ctx, o)
	if err != nil {
		return nil, err
	}
	if _, failed := connectAll(ctx, clients, o.Parallel, newProgress(e.Progress, "connecting", len(clients))); failed > 0 {
		r.note("%d clients failed to connect before the storm", failed)
	}
	dropAll(clients)
	ids := make([]string, 0, o.Alerts)
	for n := range o.Alerts {
		id, _, err := e.publishAlert(ctx, officer, o.Region[:2], n)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	start := time.Now()
	took, failed := connectAll(ctx, clients, o.Parallel, newProgress(e.Progress, "reconnecting", len(clients)))
	defer dropAll(clients)
	missing := 0
	for _, id := range ids {
		_, _, m := awaitAlert(ctx, clients, id, start, o.Wait)
		missing += m
	}
	caught := time.Since(start)
	r.set("clients", len(clients))
	r.set("missed_alerts_each", len(ids))
	r.set("failed_reconnects", failed)
	r.set("reconnect_seconds", round(took.Seconds()))
	r.set("hellos_per_second", round(float64(len(clients)-failed)/took.Seconds()))
	r.set("all_caught_up_seconds", round(caught.Seconds()))
	r.set("clients_missing_an_alert", missing)
	return r, nil
}

// Latency measures one client: from the HTTP write (an alert to its
// province) to its receipt, Alerts times. The client listens on the first
// URL and the writes go to the last, so with two URLs every event crosses
// instances through the broker.
func Latency(ctx context.Context, e *Env, o FeedOptions) (*Result, error) {
	o.defaults()
	o.Clients = 1
	r := newResult("latency")
	clients, officer, err := e.crowd(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := clients[0].connect(ctx, 0); err != nil {
		return nil, err
	}
	defer dropAll(clients)
	var ds []time.Duration
	for range o.Alerts {
		t0 := time.Now()
		id, _, err := e.publishAlert(ctx, officer, o.Region[:2], len(e.URLs)-1)
		if err != nil {
			return nil, err
		}
		for !clients[0].got(id) && time.Since(t0) < o.Wait {
			time.Sleep(50 * time.Microsecond)
		}
		clients[0].mu.Lock()
		for _, rc := range clients[0].receipts {
			if rc.alertID == id {
				ds = append(ds, rc.at.Sub(t0))
			}
		}
		clients[0].mu.Unlock()
	}
	r.stat("write_to_receipt", ds)
	return r, nil
}
