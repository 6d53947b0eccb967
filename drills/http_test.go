package drills_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
)

// 200 connections send a request header one byte a second and never end
// it (slowloris). `jarimu serve`'s ReadHeaderTimeout (10 s) cuts each off;
// meanwhile a good client's calls are answered as usual.
func TestSlowlorisHeaders(t *testing.T) {
	const conns = 200
	e := anyBackend(t)
	user := e.User(t, "volunteer", "relawan", "")
	addr := strings.TrimPrefix(e.URL, "http://")

	type result struct {
		closedAfter time.Duration
		got         []byte
		err         error
	}
	results := make([]result, conns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range conns {
		wg.Go(func() {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%250))}, Timeout: 5 * time.Second}
			c, err := d.Dial("tcp", addr)
			if err != nil {
				results[i].err = err
				return
			}
			defer c.Close()
			opened := time.Now()
			closed := make(chan struct{})
			go func() {
				defer close(closed)
				c.SetReadDeadline(time.Now().Add(serveReadHeaderTimeout + 10*time.Second))
				b, err := io.ReadAll(c)
				results[i].closedAfter, results[i].got = time.Since(opened), b
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					results[i].err = err
				}
			}()
			if _, err := io.WriteString(c, "GET /v1/me HTTP/1.1\r\nHost: jarimu\r\nX-Slow: "); err != nil {
				results[i].err = err
				return
			}
			for {
				select {
				case <-closed:
					return
				case <-time.After(time.Second):
					c.Write([]byte("a"))
				}
			}
		})
	}
	// The good client meanwhile, until every slow connection is cut off.
	hc := newHTTPClient(5 * time.Second)
	defer hc.CloseIdleConnections()
	var took []time.Duration
	var bad []string
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for loop := true; loop; {
		for _, path := range []string{"/healthz", "/v1/me"} {
			a := do(hc, "GET", e.URL+path, nil, bearer(user.Tokens.AccessToken)...)
			took = append(took, a.Took)
			if a.Status != http.StatusOK {
				bad = append(bad, path+": "+a.String())
			}
		}
		select {
		case <-done:
			loop = false
		case <-time.After(100 * time.Millisecond):
		}
	}
	var first, last time.Duration
	var wrong []string
	for i, r := range results {
		switch {
		case r.err != nil:
			wrong = append(wrong, fmt.Sprintf("connection %d: %v", i, r.err))
		case r.closedAfter < serveReadHeaderTimeout-time.Second || r.closedAfter > serveReadHeaderTimeout+3*time.Second:
			wrong = append(wrong, fmt.Sprintf("connection %d closed after %v", i, r.closedAfter))
		}
		if first == 0 || r.closedAfter < first {
			first = r.closedAfter
		}
		last = max(last, r.closedAfter)
	}
	t.Logf("%d slow connections cut off between %v and %v after they opened (ReadHeaderTimeout %v); the drill took %v",
		conns, first.Round(time.Millisecond), last.Round(time.Millisecond), serveReadHeaderTimeout, time.Since(start).Round(time.Millisecond))
	if len(results[0].got) > 0 {
		t.Logf("the server said before closing: %q", results[0].got)
	}
	if len(wrong) > 0 {
		t.Errorf("%d slow connections were not cut off by the header timeout: %s", len(wrong), strings.Join(wrong[:min(5, len(wrong))], "; "))
	}
	t.Logf("good client meanwhile: %d calls, p50 %v, p99 %v", len(took), percentile(took, 50).Round(time.Millisecond), percentile(took, 99).Round(time.Millisecond))
	if len(bad) > 0 {
		t.Errorf("%d calls of the good client failed, first: %s", len(bad), bad[0])
	}
	if p := percentile(took, 99); p > time.Second {
		t.Errorf("the good client's p99 was %v during the slowloris, want under 1 s", p)
	}
}

// ---- big and deep bodies ------------------------------------------------------

// floodReader makes a JSON body of size bytes as it is read, never whole:
// prefix, then fill bytes, then suffix.
type floodReader struct {
	prefix, suffix []byte
	fill           byte
	size, off      int64
}

func flood(prefix string, fill byte, suffix string, size int64) *floodReader {
	return &floodReader{prefix: []byte(prefix), suffix: []byte(suffix), fill: fill, size: size}
}

func (f *floodReader) Read(p []byte) (int, error) {
	if f.off >= f.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && f.off < f.size {
		switch {
		case f.off < int64(len(f.prefix)):
			p[n] = f.prefix[f.off]
		case f.off >= f.size-int64(len(f.suffix)):
			p[n] = f.suffix[f.off-(f.size-int64(len(f.suffix)))]
		default:
			p[n] = f.fill
		}
		n++
		f.off++
	}
	return n, nil
}

// rawAnswer is what a raw request got.
type rawAnswer struct {
	status  int
	header  http.Header
	body    []byte
	took    time.Duration // to the whole answer
	sent    int64         // body bytes the server took before it closed
	closed  bool          // the server closed the connection after answering
	readErr error
}

// rawPost sends POST path with body (size bytes, chunked or with a
// Content-Length) over its own connection, reading the answer while the
// body is still going out, as a client that sends big bodies must.
func rawPost(t testing.TB, base, path string, body io.Reader, size int64, chunked bool, header ...string) rawAnswer {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var h strings.Builder
	fmt.Fprintf(&h, "POST %s HTTP/1.1\r\nHost: jarimu\r\nContent-Type: application/json\r\n", path)
	if chunked {
		h.WriteString("Transfer-Encoding: chunked\r\n")
	} else {
		fmt.Fprintf(&h, "Content-Length: %d\r\n", size)
	}
	for i := 0; i+1 < len(header); i += 2 {
		fmt.Fprintf(&h, "%s: %s\r\n", header[i], header[i+1])
	}
	h.WriteString("\r\n")
	start := time.Now()
	if _, err := io.WriteString(c, h.String()); err != nil {
		t.Fatal(err)
	}
	var out rawAnswer
	var wg sync.WaitGroup
	wg.Go(func() {
		w := bufio.NewWriterSize(c, 32<<10)
		buf := make([]byte, 32<<10)
		for {
			n, rerr := body.Read(buf)
			if n > 0 {
				var err error
				if chunked {
					_, err = fmt.Fprintf(w, "%x\r\n%s\r\n", n, buf[:n])
				} else {
					_, err = w.Write(buf[:n])
				}
				if err == nil {
					err = w.Flush()
				}
				if err != nil {
					return
				}
				out.sent += int64(n)
			}
			if rerr != nil {
				if chunked {
					io.WriteString(w, "0\r\n\r\n")
					w.Flush()
				}
				return
			}
		}
	})
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		wg.Wait()
		out.readErr = err
		return out
	}
	out.body, out.readErr = io.ReadAll(resp.Body)
	out.took, out.status, out.header = time.Since(start), resp.StatusCode, resp.Header
	// Then the server closes the connection: the rest of the body is not read.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = br.ReadByte()
	out.closed = err != nil && !isTimeout(err)
	c.Close()
	wg.Wait()
	return out
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// A 10 MB JSON body is refused with a 413 problem at once, to signup and to
// an authenticated POST (with and without an Idempotency-Key, which reads
// the body in another place), with a Content-Length and chunked: the
// server reads at most its 64 KiB limit, allocates far less than the body,
// and closes the connection rather than read the rest.
func TestTenMegabyteBody(t *testing.T) {
	const size = 10 << 20
	e := anyBackend(t)
	hc := newHTTPClient(10 * time.Second)
	defer hc.CloseIdleConnections()
	f := newOrg(t, e, hc)
	v := e.User(t, "volunteer", "relawan", "")
	cases := []struct {
		name, path string
		body       func() io.Reader
		header     []string
	}{
		{"signup", "/v1/auth/signup", func() io.Reader {
			return flood(`{"email":"banjir@example.org","password":"banjir-data-2029-xyz","name":"`, 'a', `"}`, size)
		}, nil},
		{"join with Idempotency-Key", "/v1/orgs/" + f.org.ID + "/memberships", func() io.Reader {
			return flood(`{"invite_code":"`, 'A', `"}`, size)
		}, append(bearer(v.Tokens.AccessToken), "Idempotency-Key", auth.NewID())},
		{"join", "/v1/orgs/" + f.org.ID + "/memberships", func() io.Reader {
			return flood(`{"invite_code":"`, 'A', `"}`, size)
		}, bearer(v.Tokens.AccessToken)},
	}
	for _, c := range cases {
		for _, chunked := range []bool{false, true} {
			name := c.name + map[bool]string{false: ", Content-Length", true: ", chunked"}[chunked]
			t.Run(name, func(t *testing.T) {
				var m0, m1 runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&m0)
				a := rawPost(t, e.URL, c.path, c.body(), size, chunked, c.header...)
				runtime.ReadMemStats(&m1)
				allocated := m1.TotalAlloc - m0.TotalAlloc
				runtime.GC()
				runtime.ReadMemStats(&m1)
				t.Logf("%d after %v; %d KiB of the body went out before the server closed; %d KiB allocated meanwhile (client included), heap %+d KiB after GC; connection closed: %v",
					a.status, a.took.Round(time.Millisecond), a.sent>>10, allocated>>10, (int64(m1.HeapAlloc)-int64(m0.HeapAlloc))>>10, a.closed)
				if a.readErr != nil {
					t.Fatalf("no answer: %v (after sending %d bytes)", a.readErr, a.sent)
				}
				ans := answer{Status: a.status, Header: a.header, Body: a.body}
				if a.status != http.StatusRequestEntityTooLarge || ans.problemType() != "too-large" {
					t.Errorf("got %d %s, want a 413 too-large problem", a.status, a.body)
				}
				if a.took > 2*time.Second {
					t.Errorf("the 413 took %v", a.took)
				}
				if allocated > 4<<20 {
					t.Errorf("%d MiB allocated while refusing a 10 MiB body: was it read?", allocated>>20)
				}
				if !a.closed {
					t.Errorf("the connection stayed open after the 413, with the rest of the body unread")
				}
			})
		}
	}
	// The server is fine afterwards.
	mustDo(t, hc, http.StatusOK, "GET", e.URL+"/v1/me", nil, bearer(v.Tokens.AccessToken)...)
}

// Deeply nested JSON is refused fast with a 400 problem naming the nesting
// (or, past the 64 KiB body limit, a 413), from signup and from an
// authenticated POST with an Idempotency-Key, and in a feed hello; nothing
// recurses over the depth.
func TestDeeplyNestedJSON(t *testing.T) {
	e := anyBackend(t)
	hc := newHTTPClient(10 * time.Second)
	defer hc.CloseIdleConnections()
	f := newOrg(t, e, hc)
	v := e.User(t, "volunteer", "relawan", "")
	join := "/v1/orgs/" + f.org.ID + "/memberships"
	open := strings.Repeat("[", 60000)
	cases := []struct {
		name, path string
		body       string
		header     []string
		status     int
	}{
		{"100,000 [ (past the body limit)", "/v1/auth/signup", strings.Repeat("[", 100000), nil, http.StatusRequestEntityTooLarge},
		{"60,000 [", "/v1/auth/signup", open, nil, http.StatusBadRequest},
		{"30,000 [ then 30,000 ]", "/v1/auth/signup", strings.Repeat("[", 30000) + strings.Repeat("]", 30000), nil, http.StatusBadRequest},
		{"13,000 {\"a\":", "/v1/auth/signup", strings.Repeat(`{"a":`, 13000), nil, http.StatusBadRequest},
		{"nested in a field", "/v1/auth/signup", `{"email":` + open, nil, http.StatusBadRequest},
		{"join with Idempotency-Key", join, open, append(bearer(v.Tokens.AccessToken), "Idempotency-Key", auth.NewID()), http.StatusBadRequest},
		{"join", join, strings.Repeat("[", 30000) + strings.Repeat("]", 30000), bearer(v.Tokens.AccessToken), http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := do(hc, "POST", e.URL+c.path, c.body, c.header...)
			t.Logf("%d bytes: %v", len(c.body), a)
			switch {
			case a.Err != nil:
				t.Fatalf("no answer: %v", a.Err)
			case a.Status != c.status:
				t.Errorf("got %d, want %d", a.Status, c.status)
			case c.status == http.StatusBadRequest && (a.problemType() != "malformed" || !strings.Contains(a.problem().Detail, "nests deeper")):
				t.Errorf("got %s, want a malformed problem naming the nesting", a.Body)
			case c.status == http.StatusRequestEntityTooLarge && a.problemType() != "too-large":
				t.Errorf("got %s, want a too-large problem", a.Body)
			}
			if a.Took > time.Second {
				t.Errorf("the answer took %v", a.Took)
			}
		})
	}
	t.Run("feed hello", func(t *testing.T) {
		ws, _, err := localDialer(0).Dial(feedURL(e.URL), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		start := time.Now()
		ws.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("[", api.MaxClientFrameSize)))
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err = ws.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != api.CloseBadFrame {
			t.Errorf("got %v, want close %d", err, api.CloseBadFrame)
		}
		t.Logf("hello of %d [ closed with %v after %v", api.MaxClientFrameSize, err, time.Since(start).Round(time.Millisecond))
	})
	mustDo(t, hc, http.StatusOK, "GET", e.URL+"/v1/me", nil, bearer(v.Tokens.AccessToken)...)
}
