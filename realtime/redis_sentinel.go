package realtime

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Sentinel URL schemes of JARIMU_REDIS_URL: a Redis primary found through
// Redis Sentinel (rediss+sentinel: over TLS, to the sentinels and the
// primary alike).
const (
	sentinelScheme    = "redis+sentinel"
	sentinelTLSScheme = "rediss+sentinel"
)

// defaultSentinelPort is the port of a sentinel named without one.
const defaultSentinelPort = "26379"

// newSentinelClient makes the client of a Sentinel URL,
//
//	redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/master[?db=N&sentinel_password=...]
//
// a go-redis failover client: it asks the sentinels (port 26379 unless
// given) where the primary of master is, and follows a failover. The user
// and password are the primary's; sentinel_username and sentinel_password
// the sentinels' own. Other go-redis options (dial_timeout, ...) may be
// given in the query; those that would send commands to replicas may not.
func newSentinelClient(scheme, rest string) (*redis.Client, error) {
	opt, err := sentinelOptions(scheme, rest)
	if err != nil {
		return nil, err
	}
	return redis.NewFailoverClient(opt), nil
}

// sentinelOptions reads a Sentinel URL (scheme, and what follows "://")
// into go-redis's failover options.
func sentinelOptions(scheme, rest string) (*redis.FailoverOptions, error) {
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	userinfo, hosts := "", authority
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, hosts = authority[:i+1], authority[i+1:]
	}
	// The host list is not a URL authority: parse the rest around one host.
	u, err := url.Parse("redis://" + userinfo + "sentinel" + tail)
	if err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL, password included
		}
		return nil, fmt.Errorf("not a valid URL: %w", err)
	}
	if u.Fragment != "" {
		return nil, errors.New("a Sentinel URL has no #fragment")
	}
	master := strings.TrimPrefix(u.Path, "/")
	switch {
	case master == "":
		return nil, fmt.Errorf("no master name: want %s://host:26379,host:26379/MASTER", scheme)
	case strings.Contains(master, "/"):
		return nil, fmt.Errorf("path %q: want only the master name (the database goes in ?db=N)", u.Path)
	}
	addrs, err := sentinelAddrs(hosts)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	for _, k := range []string{"addr", "master_name", "username", "password", "replica_only", "route_by_latency", "route_randomly", "use_disconnected_replicas"} {
		if q.Has(k) {
			return nil, fmt.Errorf("option %s is not accepted in a Sentinel URL (the sentinels go in the host list, the master name in the path, the primary's credentials before the @; commands always go to the primary)", k)
		}
	}
	goURL := url.URL{Scheme: "redis", Host: addrs[0]}
	if scheme == sentinelTLSScheme {
		goURL.Scheme = "rediss"
	}
	su, sp := q.Get("sentinel_username"), q.Get("sentinel_password")
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	switch {
	case su != "" && sp != "":
		goURL.User = url.UserPassword(su, sp)
	case sp != "":
		goURL.User = url.UserPassword("", sp)
	case su != "":
		return nil, errors.New("sentinel_username without sentinel_password")
	}
	if u.User != nil {
		if name := u.User.Username(); name != "" {
			q.Set("username", name)
		}
		if pw, ok := u.User.Password(); ok {
			q.Set("password", pw)
		}
	}
	q.Set("master_name", master)
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	goURL.RawQuery = q.Encode()
	return redis.ParseFailoverURL(goURL.String())
}

// sentinelAddrs reads the comma-separated sentinel list, adding the
// default port where none is given.
func sentinelAddrs(hosts string) ([]string, error) {
	var addrs []string
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, errors.New("an empty sentinel in the host list")
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			host, port = strings.Trim(h, "[]"), defaultSentinelPort
			if strings.ContainsAny(host, "[]") || strings.Count(host, ":") == 1 {
				return nil, fmt.Errorf("sentinel %q: want host or host:port", h)
			}
		}
		if host == "" || port == "" || strings.ContainsAny(host, "/?#@ ") {
			return nil, fmt.Errorf("sentinel %q: want host or host:port", h)
		}
		for _, c := range port {
			if c < '0' || c > '9' {
				return nil, fmt.Errorf("sentinel %q: port %q is not a number", h, port)
			}
		}
		addrs = append(addrs, net.JoinHostPort(host, port))
	}
	return addrs, nil
}
