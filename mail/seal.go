package mail

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"strings"
)

// Sealer keeps the secret of a queued message (a reset link) out of the
// outbox in usable form: the bodies are stored with a harmless stand-in
// (a link to ask for a new reset, say) and the secret sealed (AES-256-GCM)
// under a key every instance derives alike and the database never holds;
// the worker opens it and puts it in place of the stand-in as it sends.
// The outbox, or a backup of it, then holds no working link.
type Sealer struct{ aead cipher.AEAD }

// NewSealer makes a sealer from a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("mail sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("mail sealer: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal makes m carry secret sealed in place of standIn, which each body
// must hold as is (in the HTML body HTML-escaped).
func (s *Sealer) Seal(m *Message, standIn, secret string) error {
	if !strings.Contains(m.Text, standIn) || !strings.Contains(m.HTML, html.EscapeString(standIn)) {
		return errors.New("seal mail: the bodies do not hold the stand-in")
	}
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	m.StandIn = standIn
	m.Sealed = base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(secret), []byte(m.To)))
	return nil
}

// open puts the sealed secret of m in place of its stand-in. A secret
// that does not open here was sealed under another key: during a rolling
// rotation of the Web Push keys, another instance may still hold it, so
// the mail is left for a later try (by any instance) until it expires,
// and never sent with the stand-in alone.
func (s *Sealer) open(m *Message) error {
	if m.Sealed == "" {
		return nil
	}
	bad := errors.New("the sealed part of this mail does not open with this instance's key (sealed under another; left for a later try until it expires)")
	if s == nil {
		return bad
	}
	b, err := base64.RawURLEncoding.DecodeString(m.Sealed)
	n := s.aead.NonceSize()
	if err != nil || len(b) < n {
		return bad
	}
	secret, err := s.aead.Open(nil, b[:n], b[n:], []byte(m.To))
	if err != nil {
		return bad
	}
	m.Text = strings.ReplaceAll(m.Text, m.StandIn, string(secret))
	m.HTML = strings.ReplaceAll(m.HTML, html.EscapeString(m.StandIn), html.EscapeString(string(secret)))
	m.Sealed, m.StandIn = "", ""
	return nil
}
