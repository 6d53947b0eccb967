// Package drills holds the fault drills of Jarimu, run as tests against real
// services: PostgreSQL restarted during writes, PostgreSQL down under feed
// clients (the Go SDK and the web console in Chromium, behind TCP proxies
// that cut them off), Redis down for 30 s and under 2,000 feed
// connections, a Redis primary killed under Sentinel while alerts are
// published, a storm of bad feed handshakes, slowloris headers, a 10 MB
// JSON body and deeply nested JSON. The drills start their own PostgreSQL
// and Redis servers (child processes on free loopback ports) and stop and
// restart those, never the machine's shared ones. In CI (CI=true) they must
// run; elsewhere a drill whose server binary (or Chromium) is missing is
// skipped.
//
// The package has no code of its own: everything is in its _test.go files.
package drills
