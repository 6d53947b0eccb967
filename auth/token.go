package auth

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Access token limits.
const (
	// DefaultTokenTTL is the access token lifetime used when
	// TokenConfig.TTL is zero.
	DefaultTokenTTL = 15 * time.Minute
	// MaxTokenTTL caps the access token lifetime: access tokens cannot be
	// revoked, so they must be short-lived.
	MaxTokenTTL = 15 * time.Minute
	// MaxTokenBytes is the longest token string Verify will parse (4 KiB);
	// longer input is rejected before any decoding work.
	MaxTokenBytes = 4096
	// TokenLeeway is the clock skew tolerated when checking exp, nbf and
	// iat (5 s): the issuer and verifier usually share a host or cluster,
	// so a small value suffices.
	TokenLeeway = 5 * time.Second
	// TokenType is the JOSE "typ" header of access tokens (RFC 9068), which
	// keeps other JWTs signed by the same keys from passing as access
	// tokens.
	TokenType = "at+jwt"
)

// ErrInvalidToken is returned (wrapped with the reason) by Tokens.Verify for
// any token that must not be accepted.
var ErrInvalidToken = errors.New("auth: invalid token")

// ErrBadTokenConfig reports an unusable TokenConfig.
var ErrBadTokenConfig = errors.New("auth: bad token config")

// TokenConfig configures access tokens.
type TokenConfig struct {
	// Issuer is the "iss" claim written and required, e.g. the public base
	// URL of the API. Required.
	Issuer string
	// Audience is the single "aud" value written and required. Required.
	Audience string
	// TTL is the access token lifetime, above zero and at most MaxTokenTTL.
	// WithDefaults turns zero into DefaultTokenTTL.
	TTL time.Duration
}

// WithDefaults returns c with a zero TTL replaced by DefaultTokenTTL.
func (c TokenConfig) WithDefaults() TokenConfig {
	if c.TTL == 0 {
		c.TTL = DefaultTokenTTL
	}
	return c
}

// Validate reports whether c is usable as is: issuer and audience set and
// 0 < TTL <= MaxTokenTTL. Errors wrap ErrBadTokenConfig.
func (c TokenConfig) Validate() error {
	switch {
	case c.Issuer == "":
		return fmt.Errorf("%w: empty issuer", ErrBadTokenConfig)
	case c.Audience == "":
		return fmt.Errorf("%w: empty audience", ErrBadTokenConfig)
	case c.TTL <= 0 || c.TTL > MaxTokenTTL:
		return fmt.Errorf("%w: ttl %s not in (0, %s]", ErrBadTokenConfig, c.TTL, MaxTokenTTL)
	}
	return nil
}

// Claims are the claims of a verified access token. Subject is the user
// id; Role is the user's role when the token was issued.
type Claims struct {
	jwt.RegisteredClaims
	// Role is the user's role at issue time.
	Role string `json:"role"`
}

// Tokens issues and verifies access tokens: EdDSA (Ed25519) JWTs signed by
// the signing key of the key set in force (KeySet.SigningAt its clock) and
// verified against any key of that set. It is safe for concurrent use, and
// follows a KeyRing's reloads.
type Tokens struct {
	keys   KeySource
	cfg    TokenConfig
	cfgErr error
	now    func() time.Time
	parser *jwt.Parser

	mu       sync.Mutex
	verified map[[32]byte]verifiedToken // by SHA-256 of the token; see Verify
}

// verifiedToken is what the cache keeps of a verified token's claims (iss
// and aud are the configured ones, or it would not have verified), and of
// the key that verified it: a hit counts only while the set in force still
// holds that key, so a retired key's tokens fail at once.
type verifiedToken struct {
	sub, id, role string
	iat, nbf, exp int64
	kid           string
	pub           ed25519.PublicKey
}

func (v verifiedToken) claims(cfg TokenConfig) *Claims {
	return &Claims{Role: v.role, RegisteredClaims: jwt.RegisteredClaims{Issuer: cfg.Issuer, Subject: v.sub,
		Audience: jwt.ClaimStrings{cfg.Audience}, ExpiresAt: jwt.NewNumericDate(time.Unix(v.exp, 0)),
		NotBefore: jwt.NewNumericDate(time.Unix(v.nbf, 0)), IssuedAt: jwt.NewNumericDate(time.Unix(v.iat, 0)), ID: v.id}}
}

// verifiedCap bounds the verified-token cache (about 200 bytes a token).
const verifiedCap = 100_000

// NewTokens returns a Tokens using the keys of keys (a *KeySet, or a
// *KeyRing to follow its reloads) and cfg (after
// TokenConfig.WithDefaults) with now as its clock (nil means time.Now). An
// invalid cfg is not reported here: Issue and Verify then fail closed with
// its Validate error.
func NewTokens(keys KeySource, cfg TokenConfig, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	cfg = cfg.WithDefaults()
	t := &Tokens{keys: keys, cfg: cfg, cfgErr: cfg.Validate(), now: now}
	if (keys == nil || keys.Current() == nil) && t.cfgErr == nil {
		t.cfgErr = fmt.Errorf("%w: nil key set", ErrBadTokenConfig)
	}
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(TokenLeeway),
		jwt.WithTimeFunc(now),
		jwt.WithStrictDecoding(),
	)
	return t
}

// Issue signs an access token for userID with role. The token carries iss,
// aud, sub, iat, nbf (= iat), exp (= iat + TTL), a random UUID jti and
// role; its header names the signing key ("kid") and has typ "at+jwt".
// expiresAt is the exp claim (whole seconds).
func (t *Tokens) Issue(userID, role string) (token string, expiresAt time.Time, err error) {
	if t.cfgErr != nil {
		return "", time.Time{}, t.cfgErr
	}
	if userID == "" || role == "" {
		return "", time.Time{}, errors.New("auth: issue token: empty user id or role")
	}
	now := t.now()
	iat := now.Unix()
	exp := iat + int64(t.cfg.TTL/time.Second)
	claims := jwt.MapClaims{
		"iss": t.cfg.Issuer, "aud": t.cfg.Audience, "sub": userID,
		"iat": iat, "nbf": iat, "exp": exp,
		"jti": uuid.NewString(), "role": role,
	}
	key := t.keys.Current().SigningAt(now)
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["typ"] = TokenType
	tok.Header["kid"] = key.ID
	signed, err := tok.SignedString(key.Private)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: issue token: %w", err)
	}
	return signed, time.Unix(exp, 0), nil
}

// Verify checks token and returns its claims. Any failure (size over
// MaxTokenBytes, malformed, alg other than EdDSA, wrong or missing typ,
// unknown or missing kid, bad signature, wrong iss or aud, missing or past
// exp, nbf or iat in the future beyond TokenLeeway, empty sub, jti or role)
// returns an error wrapping ErrInvalidToken and the reason; an expired
// token also matches jwt.ErrTokenExpired.
func (t *Tokens) Verify(token string) (*Claims, error) {
	if t.cfgErr != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, t.cfgErr)
	}
	if token == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidToken)
	}
	if len(token) > MaxTokenBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, MaxTokenBytes)
	}
	// A token that verified once stays valid until it expires, as long as
	// the key that signed it is in the set (revocation is checked against
	// the database by the caller), so its claims are remembered: a phone
	// reconnecting presents the same token again, and in a reconnect storm
	// the signature check was a tenth of the server's work per connection.
	sum := sha256.Sum256([]byte(token))
	now := t.now()
	set := t.keys.Current()
	t.mu.Lock()
	v, ok := t.verified[sum]
	t.mu.Unlock()
	if ok && now.Before(time.Unix(v.exp, 0).Add(TokenLeeway)) {
		if pub, known := set.PublicKey(v.kid); known && pub.Equal(v.pub) {
			return v.claims(t.cfg), nil
		}
	}
	claims := &Claims{}
	var kid string
	var pub ed25519.PublicKey
	keyfunc := func(tok *jwt.Token) (any, error) {
		var err error
		kid, pub, err = lookupKey(set, tok)
		return pub, err
	}
	if _, err := t.parser.ParseWithClaims(token, claims, keyfunc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if err := checkClaims(claims); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	v = verifiedToken{sub: claims.Subject, id: claims.ID, role: claims.Role, exp: claims.ExpiresAt.Unix(), kid: kid, pub: pub}
	if claims.IssuedAt != nil {
		v.iat = claims.IssuedAt.Unix()
	}
	if claims.NotBefore != nil {
		v.nbf = claims.NotBefore.Unix()
	}
	t.remember(sum, v, now)
	return claims, nil
}

// remember adds verified claims to the cache, first dropping expired
// entries when it is full (and everything if that is not enough).
func (t *Tokens) remember(sum [32]byte, c verifiedToken, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.verified == nil {
		t.verified = map[[32]byte]verifiedToken{}
	}
	if len(t.verified) >= verifiedCap {
		for k, v := range t.verified {
			if !now.Before(time.Unix(v.exp, 0).Add(TokenLeeway)) {
				delete(t.verified, k)
			}
		}
		if len(t.verified) >= verifiedCap {
			clear(t.verified)
		}
	}
	t.verified[sum] = c
}

// lookupKey is the heart of Verify's jwt.Keyfunc: it requires typ
// "at+jwt" (or its full media type "application/at+jwt",
// case-insensitively) and returns the kid header and the public key of set
// it names.
func lookupKey(set *KeySet, tok *jwt.Token) (string, ed25519.PublicKey, error) {
	typ, _ := tok.Header["typ"].(string)
	if !isAccessTokenType(typ) {
		return "", nil, fmt.Errorf("typ %q, want %q", typ, TokenType)
	}
	kid, _ := tok.Header["kid"].(string)
	if kid == "" {
		return "", nil, errors.New("missing kid")
	}
	pub, ok := set.PublicKey(kid)
	if !ok {
		return "", nil, fmt.Errorf("unknown kid %q", kid)
	}
	return kid, pub, nil
}

// isAccessTokenType reports whether a typ header names an access token:
// "at+jwt", optionally with the "application/" prefix, in any case.
func isAccessTokenType(typ string) bool {
	const prefix = "application/"
	if len(typ) > len(prefix) && strings.EqualFold(typ[:len(prefix)], prefix) {
		typ = typ[len(prefix):]
	}
	return strings.EqualFold(typ, TokenType)
}

// checkClaims enforces the claims golang-jwt does not: sub, jti, role and
// iat must be present.
func checkClaims(c *Claims) error {
	switch {
	case c.Subject == "":
		return errors.New("missing sub")
	case c.ID == "":
		return errors.New("missing jti")
	case c.Role == "":
		return errors.New("missing role")
	case c.IssuedAt == nil:
		return errors.New("missing iat")
	}
	return nil
}
