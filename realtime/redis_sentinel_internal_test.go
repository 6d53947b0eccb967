package realtime

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A Sentinel URL gives the sentinels (default port 26379), the master
// name, the primary's credentials and database, the sentinels' own
// credentials and go-redis options; bad URLs are refused with an error
// that says what is wrong and never shows a password.
func TestSentinelURLs(t *testing.T) {
	for _, tc := range []struct {
		url    string
		master string
		addrs  []string
		user   string
		pw     string
		suser  string
		spw    string
		db     int
		tls    bool
	}{
		{url: "redis+sentinel://127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381/mymaster",
			master: "mymaster", addrs: []string{"127.0.0.1:26379", "127.0.0.1:26380", "127.0.0.1:26381"}},
		{url: "redis+sentinel://:s%40cret@s1,s2:26400/jarimu?db=2&sentinel_password=sent",
			master: "jarimu", addrs: []string{"s1:26379", "s2:26400"}, pw: "s@cret", spw: "sent", db: 2},
		{url: "rediss+sentinel://app:pw@[::1]:26379, [::1]/m?sentinel_username=watch&sentinel_password=x&dial_timeout=3s",
			master: "m", addrs: []string{"[::1]:26379", "[::1]:26379"}, user: "app", pw: "pw", suser: "watch", spw: "x", tls: true},
	} {
		scheme, rest, _ := strings.Cut(tc.url, "://")
		o, err := sentinelOptions(scheme, rest)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if o.MasterName != tc.master || !slices.Equal(o.SentinelAddrs, tc.addrs) || o.Username != tc.user || o.Password != tc.pw ||
			o.SentinelUsername != tc.suser || o.SentinelPassword != tc.spw || o.DB != tc.db || (o.TLSConfig != nil) != tc.tls {
			t.Errorf("%s: master %q sentinels %v user %q password %q sentinel user %q password %q db %d tls %v, want %q %v %q %q %q %q %d %v",
				tc.url, o.MasterName, o.SentinelAddrs, o.Username, o.Password, o.SentinelUsername, o.SentinelPassword, o.DB, o.TLSConfig != nil,
				tc.master, tc.addrs, tc.user, tc.pw, tc.suser, tc.spw, tc.db, tc.tls)
		}
		if strings.Contains(tc.url, "dial_timeout=3s") && o.DialTimeout != 3*time.Second {
			t.Errorf("%s: dial timeout %v, want 3s", tc.url, o.DialTimeout)
		}
	}

	// NewRedisClient gives a failover client for both schemes.
	for _, u := range []string{"redis+sentinel://127.0.0.1:1/m", "rediss+sentinel://127.0.0.1:1/m"} {
		rdb, err := NewRedisClient(u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if _, ok := rdb.(*redis.Client); !ok {
			t.Errorf("%s: a %T, want a *redis.Client (failover)", u, rdb)
		}
		rdb.Close()
	}

	for _, tc := range []struct{ url, want string }{
		{"redis+sentinel://:secret@127.0.0.1:26379", "no master name"},
		{"redis+sentinel://:secret@127.0.0.1:26379/", "no master name"},
		{"redis+sentinel://:secret@127.0.0.1:26379/a/b", "only the master name"},
		{"redis+sentinel://:secret@127.0.0.1:26379/mymaster/", "only the master name"},
		{"redis+sentinel://:secret@/mymaster", "empty sentinel"},
		{"redis+sentinel://:secret@a:26379,,b/mymaster", "empty sentinel"},
		{"redis+sentinel://:secret@a:port/mymaster", "not a number"},
		{"redis+sentinel://:secret@a:26379/mymaster?bogus=1", "unexpected option"},
		{"redis+sentinel://:secret@a:26379/mymaster?db=x", "database"},
		{"redis+sentinel://:secret@a:26379/mymaster?addr=b:26379", "addr is not accepted"},
		{"redis+sentinel://:secret@a:26379/mymaster?replica_only=true", "replica_only is not accepted"},
		{"redis+sentinel://:secret@a:26379/mymaster?route_randomly=true", "route_randomly is not accepted"},
		{"redis+sentinel://:secret@a:26379/mymaster?password=x", "password is not accepted"},
		{"redis+sentinel://a:26379/mymaster?sentinel_username=u", "sentinel_username without sentinel_password"},
		{"redis+sentinel://:secret@a:26379/mymaster#x", "fragment"},
		{"redis+sentinel://:sec%zzret@a:26379/mymaster", "not a valid URL"},
	} {
		rdb, err := NewRedisClient(tc.url)
		if err == nil {
			rdb.Close()
			t.Errorf("%s: no error, want one saying %q", tc.url, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %q, want it to say %q", tc.url, err, tc.want)
		}
		if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "sec%zzret") {
			t.Errorf("%s: the error shows the password: %v", tc.url, err)
		}
	}
}
