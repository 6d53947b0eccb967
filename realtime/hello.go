package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jarimu/jarimu/api"
)

// The handshake: the hello frame, its token, the per-user limit and the
// hello's read of the database (what the user may have, and with Hello the
// heads and history of the streams it resumes).

// tryLater is the reason of a 1013 close: the server could not check the
// token or start the feed (a dependency is down), not a fault of the client.
var tryLater = fmt.Sprintf("try again later: retry in %d s", int(unavailableRetry/time.Second))

func newSession() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// helloState is what the handshake established.
type helloState struct {
	frame   api.ClientFrame
	expires time.Time
	start   Start // what the user may have, read at the hello, with what of the log was read with it
}

// readHello waits (at most HelloTimeout) for the hello frame and checks its
// token, or the Authorization header of the upgrade for non-browser clients.
func (c *conn) readHello(r *http.Request) (helloState, bool) {
	h := c.hub
	c.ws.NetConn().SetReadDeadline(time.Now().Add(h.o.HelloTimeout))
	msg, err := c.readFirst()
	var ne interface{ Timeout() bool }
	var pe *protocolError
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		c.close(4408, "no hello in time")
		return helloState{}, false
	case errors.As(err, &pe), errors.Is(err, errTooLarge), errors.Is(err, errBinary):
		c.refuse(err)
		return helloState{}, false
	case err != nil: // the client went, or closed
		c.wstate.Or(closeSent)
		return helloState{}, false
	}
	f, err := DecodeClientFrame(msg)
	if err != nil {
		c.refuse(err)
		return helloState{}, false
	}
	if f.Type != "hello" {
		c.close(4400, "the first frame must be hello")
		return helloState{}, false
	}
	token := f.Token
	if token == "" {
		token, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	verify := h.o.Auth
	if h.o.Verify != nil && h.o.Access != nil {
		verify = h.o.Verify // admit reads the account next
	}
	id, err := verify(c.ctx, token)
	if err != nil && !errors.Is(err, ErrUnauthorized) {
		c.unavailable("feed hello", err)
		return helloState{}, false
	}
	if err != nil || !time.Now().Before(id.Expires) { // expired, if within the verifier's leeway
		c.close(4401, "token missing, invalid or expired")
		return helloState{}, false
	}
	c.userID, c.own, c.id = id.UserID, id.Stream, id
	// The per-user limit comes before the hello's read, which can be large
	// with Hello: a refused hello reads the grant alone, so that an account
	// that is not active is still told 4401 rather than to retry.
	if h.o.HelloLimit != nil {
		if ok, retry := h.o.HelloLimit(c.ctx, id.UserID); !ok {
			if _, ok := c.admit(c.ctx, nil, false); ok {
				c.close(4429, fmt.Sprintf("too many connections: retry in %d s", int(retry.Seconds())+1))
			}
			return helloState{}, false
		}
	}
	st, ok := c.admit(c.ctx, f.Resume, true)
	if !ok {
		return helloState{}, false
	}
	return helloState{frame: f, expires: id.Expires, start: st}, true
}

// admit reads what the hello's user may have (the account, its streams,
// its own stream's head: one call of Access, or of Hello) before anything
// is sent: an account that is not active is refused like a bad token
// (4401), a read that cannot be made is a 1013. With Hello and withLog, the
// same read
// brings the heads and the history of (at most helloStreams of) the
// streams the client resumes, the user's own first, and may bring the
// heads of the grant's streams: a phone's whole hello is then one
// statement.
func (c *conn) admit(ctx context.Context, resume map[string]int64, withLog bool) (Start, bool) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var st Start
	var err error
	if withLog && c.hub.o.Hello != nil && c.hub.o.Access != nil {
		from := make(map[string]int64, min(len(resume), helloStreams))
		if seq, ok := resume[c.own]; ok {
			from[c.own] = seq
		}
		for s, seq := range resume {
			if len(from) == helloStreams {
				break
			}
			from[s] = seq
		}
		st, err = c.hub.o.Hello(ctx, c.userID, from, helloBatch)
		if err != nil {
			err = fmt.Errorf("read hello: %w", err)
		}
		st.read = from
	} else {
		st.Grant, err = c.grant(ctx)
	}
	if err != nil {
		c.unavailable("feed hello", err)
		return Start{}, false
	}
	if !st.Active {
		c.close(4401, "token missing, invalid or expired")
		return Start{}, false
	}
	c.id.Role, c.id.Region = st.Role, st.Region
	return st, true
}
