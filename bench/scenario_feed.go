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
	// AckDelay is how long a client gathers its acks before it sends
	// them, one per stream, as the console does (150 ms there); 0 acks
	// each event at once.
	AckDelay time.Duration
	// Rate, when above 0, publishes alerts at this many per second for
	// Duration instead of Alerts one after the other (the rate mode).
	Rate     float64
	Duration time.Duration
	// Procs, above 1, splits the clients over this many worker processes
	// (Env.Worker), so the crowd is not bounded by one process's open
	// files; this process then holds no feed connection.
	Procs int
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
	if o.Procs == 0 {
		o.Procs = 1
	}
	if o.Prefix == "" {
		o.Prefix = fmt.Sprintf("bench-%d", time.Now().UnixNano())
	}
}

// crowd seeds the volunteers and an officer, mints their tokens and, for
// o.Procs above 1, starts the worker processes that will hold them. The
// caller closes the fleet.
func (e *Env) crowd(ctx context.Context, o FeedOptions) (*fleet, string, error) {
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
		clients[i] = &feedClient{index: i, userID: id, token: tok, url: e.url(i), ack: o.Ack, ackDelay: o.AckDelay}
	}
	f := &fleet{clients: clients}
	for _, c := range clients {
		c.lostIn = &f.lost
	}
	if o.Procs > 1 {
		if err := e.startWorkers(f, o.Procs, o); err != nil {
			return nil, "", err
		}
	}
	return f, officerToken, nil
}

// Feed opens Clients authenticated feed connections, then publishes Alerts
// alerts to their province one after the other and records, per alert, the
// time from its commit (published_at, the database clock on this machine)
// until each client had it: the last receipt and all receipts. With server
// pids it also reports the servers' resident memory per connection.
func Feed(ctx context.Context, e *Env, o FeedOptions) (_ *Result, err error) {
	o.defaults()
	r := newResult("feed")
	f, officer, err := e.crowd(ctx, o)
	if err != nil {
		return nil, err
	}
	defer closeFleet(f, &err)
	before := e.serverRSS()
	took, failed, err := f.connect(ctx, o.Parallel, newProgress(e.Progress, "connecting", len(f.clients)))
	if err != nil {
		return nil, err
	}
	if failed == len(f.clients) {
		return nil, fmt.Errorf("none of the %d feed clients could connect: is --server serving the database of --data-dir (or --database-url), with the feed's rate limits off?", failed)
	}
	r.set("clients", len(f.clients))
	r.set("procs", o.Procs)
	r.set("failed_connections", failed)
	r.set("connect_seconds", round(took.Seconds()))
	r.set("connects_per_second", round(float64(len(f.clients)-failed)/took.Seconds()))
	if before > 0 {
		time.Sleep(2 * time.Second) // let the server settle after the burst
		after := e.serverRSS()
		r.set("server_rss_mib_before", round(float64(before)/(1<<20)))
		r.set("server_rss_mib_connected", round(float64(after)/(1<<20)))
		r.set("server_rss_kib_per_connection", round(float64(after-before)/1024/float64(max(1, len(f.clients)-failed))))
	}
	r.set("clients_ack", o.Ack)
	if o.Ack {
		r.set("clients_ack_delay_ms", o.AckDelay.Milliseconds())
	}
	if o.Rate > 0 {
		return r, e.steady(ctx, o, f, officer, r)
	}
	var lasts, all []time.Duration
	cpu0, cpuErr := e.serverCPU()
	gen0, genErr := f.cpu()
	p := newProgress(e.Progress, "alerts", o.Alerts)
	for n := range o.Alerts {
		id, at, err := e.publishAlert(ctx, officer, o.Region[:2], n)
		if err != nil {
			return nil, err
		}
		last, each, missing, err := awaitAlert(ctx, f, id, at, o.Wait)
		if err != nil {
			return nil, err
		}
		if missing > 0 {
			r.note("alert %d: %d clients did not get it within %s", n, missing, o.Wait)
		}
		lasts, all = append(lasts, last), append(all, each...)
		p.show(n + 1)
	}
	r.stat("alert_to_last_client", lasts)
	r.stat("alert_to_each_client", all)
	r.set("deliveries", len(all))
	waitForAcks(o)
	if cpu1, err := e.serverCPU(); cpuErr == nil && err == nil && len(all) > 0 {
		// The servers' CPU over the alerts (commit, fan-out, and with --ack
		// reading the acks), per 1,000 deliveries.
		r.set("server_cpu_ms_per_1000_deliveries", round(float64((cpu1-cpu0).Milliseconds())*1000/float64(len(all))))
	}
	if gen1, err := f.cpu(); genErr == nil && err == nil && len(all) > 0 {
		// The simulated phones' own CPU over the alerts (reading, and with
		// --ack writing the acks), on the same machine as the servers.
		r.set("load_generator_cpu_ms_per_1000_deliveries", round(float64((gen1-gen0).Milliseconds())*1000/float64(len(all))))
	}
	noteLost(r, f)
	return r, nil
}

// serverCPU is the CPU time the servers (--server-pid) have used so far.
func (e *Env) serverCPU() (time.Duration, error) {
	if len(e.ServerPIDs) == 0 {
		return 0, errors.New("no server pid")
	}
	var sum time.Duration
	for _, pid := range e.ServerPIDs {
		d, err := cpuTime(pid)
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

// awaitAlert waits until every connected client has alert id (or wait
// passes) and returns the last receipt delay, every receipt delay, and how
// many clients never got it; an error when a worker process failed.
func awaitAlert(ctx context.Context, f *fleet, id string, at time.Time, wait time.Duration) (time.Duration, []time.Duration, int, error) {
	deadline := time.Now().Add(wait)
	var connected int64
	for _, c := range f.clients {
		if c.connected() {
			connected++
		}
	}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if err := f.err(); err != nil {
			return 0, nil, 0, err
		}
		if received.count(id)+f.lost.now.Load() >= connected && countMissing(f.clients, id, false) == 0 {
			break // every client still on the feed has it
		}
		time.Sleep(2 * time.Millisecond)
	}
	var last time.Duration
	var each []time.Duration
	num := received.number(id)
	for _, c := range f.clients {
		c.mu.Lock()
		for i := len(c.receipts) - 1; i >= 0 && num != 0; i-- { // a client records an alert once
			if rc := c.receipts[i]; rc.alert == num {
				d := rc.at.Sub(at)
				each = append(each, d)
				last = max(last, d)
				break
			}
		}
		c.mu.Unlock()
	}
	return last, each, countMissing(f.clients, id, true), nil
}

// countMissing counts the clients on the feed that have not got alert id;
// without lost, not those whose connection ended by itself (waiting for
// them is in vain).
func countMissing(clients []*feedClient, id string, lost bool) int {
	n := 0
	for _, c := range clients {
		if !c.connected() {
			continue
		}
		c.mu.Lock()
		gone := c.lost != ""
		c.mu.Unlock()
		if (lost || !gone) && !c.got(id) {
			n++
		}
	}
	return n
}

// waitForAcks lets the acks of the last alert, sent after the clients'
// delay, into the CPU measured over the alerts (plus 100 ms for the
// servers to read them).
func waitForAcks(o FeedOptions) {
	if o.Ack && o.AckDelay > 0 {
		time.Sleep(o.AckDelay + 100*time.Millisecond)
	}
}

// settleAcks waits, at the end of a run, until the clients' delayed acks
// are written (as a console left open sends them), at most a second more
// than the longest delay.
func settleAcks(clients []*feedClient) {
	var most time.Duration
	for _, c := range clients {
		if c.acks != nil {
			most = max(most, c.acks.delay)
		}
	}
	deadline := time.Now().Add(most + time.Second)
	for _, c := range clients {
		if c.acks != nil {
			c.acks.settle(deadline)
		}
	}
}

func dropAll(clients []*feedClient) {
	for _, c := range clients {
		c.drop()
	}
}

// serverRSS asks the local servers to collect garbage and return free
// memory (SIGUSR1), then reads their resident memory, summed.
func (e *Env) serverRSS() int64 {
	if len(e.ServerPIDs) == 0 {
		return 0
	}
	signalled := false
	for _, pid := range e.ServerPIDs {
		signalled = syscall.Kill(pid, syscall.SIGUSR1) == nil || signalled
	}
	if signalled {
		time.Sleep(time.Second)
	}
	var sum int64
	for _, pid := range e.ServerPIDs {
		n, _ := rss(pid)
		sum += n
	}
	return sum
}

func round(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// Storm connects Clients, drops them all at once, publishes Alerts alerts
// while they are away, then reconnects them all at once with resume, and
// measures how fast the crowd is back (authenticated hellos per second) and
// until every client has every missed alert.
func Storm(ctx context.Context, e *Env, o FeedOptions) (_ *Result, err error) {
	o.defaults()
	r := newResult("storm")
	f, officer, err := e.crowd(ctx, o)
	if err != nil {
		return nil, err
	}
	defer closeFleet(f, &err)
	_, failed, err := f.connect(ctx, o.Parallel, newProgress(e.Progress, "connecting", len(f.clients)))
	if err != nil {
		return nil, err
	}
	if failed > 0 {
		r.note("%d clients failed to connect before the storm", failed)
	}
	if err := f.drop(ctx); err != nil {
		return nil, err
	}
	ids := make([]string, 0, o.Alerts)
	for n := range o.Alerts {
		id, _, err := e.publishAlert(ctx, officer, o.Region[:2], n)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	start := time.Now()
	took, failed, err := f.connect(ctx, o.Parallel, newProgress(e.Progress, "reconnecting", len(f.clients)))
	if err != nil {
		return nil, err
	}
	missing := 0
	for _, id := range ids {
		_, _, m, err := awaitAlert(ctx, f, id, start, o.Wait)
		if err != nil {
			return nil, err
		}
		missing += m
	}
	caught := time.Since(start)
	r.set("clients", len(f.clients))
	r.set("procs", o.Procs)
	r.set("missed_alerts_each", len(ids))
	r.set("failed_reconnects", failed)
	r.set("reconnect_seconds", round(took.Seconds()))
	r.set("hellos_per_second", round(float64(len(f.clients)-failed)/took.Seconds()))
	r.set("all_caught_up_seconds", round(caught.Seconds()))
	r.set("clients_missing_an_alert", missing)
	noteLost(r, f)
	return r, nil
}

// Latency measures one client: from the HTTP write (an alert to its
// province) to its receipt, Alerts times. The client listens on the first
// URL and the writes go to the last, so with two URLs every event crosses
// instances through the broker.
func Latency(ctx context.Context, e *Env, o FeedOptions) (*Result, error) {
	o.defaults()
	o.Clients, o.Procs = 1, 1
	r := newResult("latency")
	f, officer, err := e.crowd(ctx, o)
	if err != nil {
		return nil, err
	}
	defer f.close()
	clients := f.clients
	if err := clients[0].connect(ctx); err != nil {
		return nil, err
	}
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
		num := received.number(id)
		clients[0].mu.Lock()
		for _, rc := range clients[0].receipts {
			if rc.alert == num {
				ds = append(ds, rc.at.Sub(t0))
			}
		}
		clients[0].mu.Unlock()
	}
	r.stat("write_to_receipt", ds)
	return r, nil
}
