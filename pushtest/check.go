package pushtest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/hkdf"
)

var topicRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// check verifies one push's headers and VAPID authorization and decrypts
// its body.
func (s *Service) check(r *http.Request, d *Device, body []byte) (Message, error) {
	m, err := s.checkHeaders(r, d)
	if err != nil {
		return m, err
	}
	if err := s.checkVAPID(r.Header.Get("Authorization")); err != nil {
		return m, err
	}
	m.Payload, err = decrypt(d, body)
	return m, err
}

// checkHeaders verifies the headers of a push (not its signature).
func (s *Service) checkHeaders(r *http.Request, d *Device) (Message, error) {
	m := Message{Device: d.ID, Topic: r.Header.Get("Topic"), Urgency: r.Header.Get("Urgency"), At: time.Now()}
	ttl, err := strconv.Atoi(r.Header.Get("TTL"))
	if err != nil || ttl < 0 {
		return m, fmt.Errorf("TTL header %q is not a non-negative number", r.Header.Get("TTL"))
	}
	m.TTL = ttl
	switch m.Urgency {
	case "", "very-low", "low", "normal", "high":
	default:
		return m, fmt.Errorf("Urgency %q is not one of RFC 8030's", m.Urgency)
	}
	if m.Topic != "" && !topicRE.MatchString(m.Topic) {
		return m, fmt.Errorf("Topic %q is not 1-32 base64url characters", m.Topic)
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		return m, fmt.Errorf("Content-Encoding %q, want aes128gcm", ce)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "vapid t=") {
		return m, fmt.Errorf("no VAPID Authorization")
	}
	return m, nil
}

// checkVAPID verifies "vapid t=<jwt>, k=<public key>" (RFC 8292).
func (s *Service) checkVAPID(h string) error {
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return fmt.Errorf("Authorization %q is not a vapid scheme", h)
	}
	params := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		params[k] = v
	}
	s.mu.Lock()
	want := s.vapidKey
	s.mu.Unlock()
	if want != "" && params["k"] != want {
		return fmt.Errorf("VAPID k=%q is not the installation's public key", params["k"])
	}
	raw, err := base64.RawURLEncoding.DecodeString(params["k"])
	if err != nil {
		return fmt.Errorf("VAPID k: %w", err)
	}
	if _, err := ecdh.P256().NewPublicKey(raw); err != nil {
		return fmt.Errorf("VAPID k is not a P-256 point: %w", err)
	}
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(raw[1:33]), Y: new(big.Int).SetBytes(raw[33:])}
	tok, err := jwt.Parse(params["t"], func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithExpirationRequired(), jwt.WithAudience(s.Server.URL))
	if err != nil {
		return fmt.Errorf("VAPID JWT: %w", err)
	}
	claims := tok.Claims.(jwt.MapClaims)
	exp, _ := claims.GetExpirationTime()
	if time.Until(exp.Time) > 24*time.Hour {
		return fmt.Errorf("VAPID exp is more than 24 hours ahead")
	}
	sub, _ := claims["sub"].(string)
	if !strings.HasPrefix(sub, "mailto:") && !strings.HasPrefix(sub, "https:") {
		return fmt.Errorf("VAPID sub %q is not a mailto: or https: contact", sub)
	}
	return nil
}

// decrypt opens an aes128gcm body (RFC 8188) encrypted to d (RFC 8291):
// the header carries the salt, the record size and the sender's ephemeral
// public key; the key and nonce come from HKDF over the ECDH secret and
// the device's auth secret.
func decrypt(d *Device, body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("body shorter than the aes128gcm header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen || idlen != 65 {
		return nil, fmt.Errorf("keyid of %d bytes, want the sender's 65-byte public key", idlen)
	}
	senderPub, err := ecdh.P256().NewPublicKey(body[21 : 21+idlen])
	if err != nil {
		return nil, fmt.Errorf("sender key: %w", err)
	}
	records := body[21+idlen:]
	if rs < 18 || uint32(len(records)) > rs {
		return nil, fmt.Errorf("a single record of at most rs=%d bytes was expected, got %d", rs, len(records))
	}
	secret, err := d.private.ECDH(senderPub)
	if err != nil {
		return nil, err
	}
	info := append([]byte("WebPush: info\x00"), d.private.PublicKey().Bytes()...)
	info = append(info, senderPub.Bytes()...)
	ikm := expand(hkdf.New(sha256.New, secret, d.auth, info), 32)
	cek := expand(hkdf.New(sha256.New, ikm, salt, []byte("Content-Encoding: aes128gcm\x00")), 16)
	nonce := expand(hkdf.New(sha256.New, ikm, salt, []byte("Content-Encoding: nonce\x00")), 12)
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, records, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	plain = bytes.TrimRight(plain, "\x00")
	if len(plain) == 0 || plain[len(plain)-1] != 2 {
		return nil, errors.New("the last record does not end with the 0x02 delimiter")
	}
	return plain[:len(plain)-1], nil
}

func expand(r io.Reader, n int) []byte {
	b := make([]byte, n)
	io.ReadFull(r, b)
	return b
}
