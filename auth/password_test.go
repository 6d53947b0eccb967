package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// cheapParams keep test hashes fast; production uses DefaultHashParams.
var cheapParams = HashParams{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// newCheapHasher returns a Hasher with cheap params and generous slots.
func newCheapHasher() *Hasher { return NewHasher(cheapParams, 4, time.Second) }

func TestHashVerifyRoundTrip(t *testing.T) {
	h := newCheapHasher()
	ctx := context.Background()
	for _, pw := range []string{"correct horse battery", "kata sandi rahasia ✓", strings.Repeat("x", 256), ""} {
		enc, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatalf("Hash(%q): %v", pw, err)
		}
		if re := `^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`; !regexp.MustCompile(re).MatchString(enc) {
			t.Errorf("encoded: got %q, want match for %s", enc, re)
		}
		tests := []struct {
			name  string
			input string
			want  bool
		}{
			{"right password", pw, true},
			{"wrong password", pw + "!", false},
			{"case changed", strings.ToUpper(pw) + "A", false},
		}
		for _, tc := range tests {
			ok, err := h.Verify(ctx, tc.input, enc)
			if err != nil || ok != tc.want {
				t.Errorf("%s (%q): got %v, %v, want %v, nil", tc.name, pw, ok, err, tc.want)
			}
		}
	}
}

func TestHashUsesFreshSalt(t *testing.T) {
	h := newCheapHasher()
	a, errA := h.Hash(context.Background(), "same password here")
	b, errB := h.Hash(context.Background(), "same password here")
	if errA != nil || errB != nil || a == b {
		t.Errorf("two hashes of one password: got %q and %q (%v, %v), want different", a, b, errA, errB)
	}
}

func TestVerifyUsesStoredParams(t *testing.T) {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte("pemilu jurdil 2029"), salt, 3, 32, 2, 24)
	enc := "$argon2id$v=19$m=32,t=3,p=2$" + base64.RawStdEncoding.EncodeToString(salt) +
		"$" + base64.RawStdEncoding.EncodeToString(key)
	h := NewHasher(DefaultHashParams(), 1, time.Second)
	ok, err := h.Verify(context.Background(), "pemilu jurdil 2029", enc)
	if err != nil || !ok {
		t.Errorf("got %v, %v, want true, nil", ok, err)
	}
	if !h.NeedsRehash(enc) {
		t.Errorf("NeedsRehash of a weak hash: got false, want true")
	}
}

func TestVerifyMalformed(t *testing.T) {
	salt := base64.RawStdEncoding.EncodeToString([]byte("0123456789abcdef"))
	key := base64.RawStdEncoding.EncodeToString(make([]byte, 32))
	tail := "$" + salt + "$" + key
	tests := []struct{ name, enc string }{
		{"empty", ""},
		{"plain text", "hunter2"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1" + tail},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1" + tail},
		{"no version", "$argon2id$m=64,t=1,p=1" + tail},
		{"missing p", "$argon2id$v=19$m=64,t=1" + tail},
		{"params reordered", "$argon2id$v=19$t=1,m=64,p=1" + tail},
		{"param not a number", "$argon2id$v=19$m=x,t=1,p=1" + tail},
		{"negative param", "$argon2id$v=19$m=-1,t=1,p=1" + tail},
		{"memory over 1 GiB", "$argon2id$v=19$m=1048577,t=1,p=1" + tail},
		{"memory zero", "$argon2id$v=19$m=0,t=1,p=1" + tail},
		{"iterations over 20", "$argon2id$v=19$m=64,t=21,p=1" + tail},
		{"iterations zero", "$argon2id$v=19$m=64,t=0,p=1" + tail},
		{"parallelism zero", "$argon2id$v=19$m=64,t=1,p=0" + tail},
		{"parallelism over 255", "$argon2id$v=19$m=64,t=1,p=256" + tail},
		{"salt not base64", "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key},
		{"padded salt", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"salt too short", "$argon2id$v=19$m=64,t=1,p=1$YWJj$" + key},
		{"empty hash", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{"hash too long", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 100)},
		{"extra field", "$argon2id$v=19$m=64,t=1,p=1" + tail + "$x"},
		{"leading text", "x$argon2id$v=19$m=64,t=1,p=1" + tail},
	}
	h := newCheapHasher()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := h.Verify(context.Background(), "whatever password", tc.enc)
			if ok || !errors.Is(err, ErrBadHash) {
				t.Errorf("got %v, %v, want false, ErrBadHash", ok, err)
			}
			if !h.NeedsRehash(tc.enc) {
				t.Errorf("NeedsRehash: got false, want true")
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	h := NewHasher(HashParams{MemoryKiB: 128, Iterations: 2, Parallelism: 2}, 1, time.Second)
	salt16 := base64.RawStdEncoding.EncodeToString(make([]byte, 16))
	salt8 := base64.RawStdEncoding.EncodeToString(make([]byte, 8))
	key32 := base64.RawStdEncoding.EncodeToString(make([]byte, 32))
	key16 := base64.RawStdEncoding.EncodeToString(make([]byte, 16))
	tests := []struct {
		name, params, salt, key string
		want                    bool
	}{
		{"same", "m=128,t=2,p=2", salt16, key32, false},
		{"stronger", "m=256,t=3,p=4", salt16, key32, false},
		{"less memory", "m=64,t=2,p=2", salt16, key32, true},
		{"fewer iterations", "m=128,t=1,p=2", salt16, key32, true},
		{"less parallelism", "m=128,t=2,p=1", salt16, key32, true},
		{"short salt", "m=128,t=2,p=2", salt8, key32, true},
		{"short key", "m=128,t=2,p=2", salt16, key16, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			enc := "$argon2id$v=19$" + tc.params + "$" + tc.salt + "$" + tc.key
			if got := h.NeedsRehash(enc); got != tc.want {
				t.Errorf("NeedsRehash(%s): got %v, want %v", enc, got, tc.want)
			}
		})
	}
}

func TestHasherBusy(t *testing.T) {
	ctx := context.Background()
	stored, err := newCheapHasher().Hash(ctx, "a stored password")
	if err != nil {
		t.Fatal(err)
	}
	for _, wait := range []time.Duration{0, time.Millisecond} {
		h := NewHasher(cheapParams, 1, wait)
		h.slots <- struct{}{} // another login holds the only slot
		if _, err := h.Hash(ctx, "some password"); !errors.Is(err, ErrBusy) {
			t.Errorf("wait %v: Hash: got %v, want ErrBusy", wait, err)
		}
		if _, err := h.Verify(ctx, "some password", stored); !errors.Is(err, ErrBusy) {
			t.Errorf("wait %v: Verify: got %v, want ErrBusy", wait, err)
		}
		if err := h.VerifyDummy(ctx, "some password"); !errors.Is(err, ErrBusy) {
			t.Errorf("wait %v: VerifyDummy: got %v, want ErrBusy", wait, err)
		}
		<-h.slots // the other login finishes
		if _, err := h.Hash(ctx, "some password"); err != nil {
			t.Errorf("wait %v: Hash after release: got %v, want nil", wait, err)
		}
	}
}

func TestHasherWaitsForSlot(t *testing.T) {
	h := NewHasher(cheapParams, 1, time.Minute)
	h.slots <- struct{}{}
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "some password")
		done <- err
	}()
	<-h.slots // free the slot; the waiting Hash takes it
	if err := <-done; err != nil {
		t.Errorf("got %v, want nil", err)
	}
	if got := len(h.slots); got != 0 {
		t.Errorf("slots in use after Hash: got %d, want 0", got)
	}
}

func TestHasherWaitCancelled(t *testing.T) {
	h := NewHasher(cheapParams, 1, time.Minute)
	h.slots <- struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "some password"); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestNewHasherDefaultConcurrency(t *testing.T) {
	for _, n := range []int{0, -1} {
		if got, want := cap(NewHasher(cheapParams, n, 0).slots), 2*runtime.GOMAXPROCS(0); got != want {
			t.Errorf("maxConcurrent %d: got %d slots, want %d", n, got, want)
		}
	}
}

func TestVerifyDummy(t *testing.T) {
	h := newCheapHasher()
	for range 2 {
		if err := h.VerifyDummy(context.Background(), "unknown user password"); err != nil {
			t.Fatalf("got %v, want nil", err)
		}
	}
	if h.NeedsRehash(h.dummy) {
		t.Errorf("dummy hash %q: got params unlike the hasher's, want the same", h.dummy)
	}
}

func TestHashParamsValidate(t *testing.T) {
	tests := []struct {
		name    string
		p       HashParams
		wantErr bool
	}{
		{"default", DefaultHashParams(), false},
		{"stronger", HashParams{MemoryKiB: 65536, Iterations: 3, Parallelism: 4}, false},
		{"less memory", HashParams{MemoryKiB: 19455, Iterations: 2, Parallelism: 1}, true},
		{"one iteration", HashParams{MemoryKiB: 19456, Iterations: 1, Parallelism: 1}, true},
		{"zero parallelism", HashParams{MemoryKiB: 19456, Iterations: 2}, true},
		{"test params", cheapParams, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrWeakHashParams)) {
				t.Errorf("got %v, want error: %v (ErrWeakHashParams)", err, tc.wantErr)
			}
		})
	}
	if got, want := DefaultHashParams(), (HashParams{19456, 2, 1}); got != want {
		t.Errorf("DefaultHashParams: got %+v, want %+v", got, want)
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name     string
		password string
		want     error
	}{
		{"9 chars", "xk3#pq9zm", ErrPasswordTooShort},
		{"10 chars", "xk3#pq9zmw", nil},
		{"empty", "", ErrPasswordTooShort},
		{"256 chars", strings.Repeat("ab", 128), nil},
		{"257 chars", strings.Repeat("ab", 128) + "c", ErrPasswordTooLong},
		{"9 runes, 27 bytes", "日本語日本語日本語", ErrPasswordTooShort},
		{"10 runes, 30 bytes", "日本語日本語日本語日", nil},
		{"256 runes of 3 bytes", strings.Repeat("語", 256), nil},
		{"257 runes of 3 bytes", strings.Repeat("語", 257), ErrPasswordTooLong},
		{"spaces allowed", "pengawas pemilu jujur", nil},
		{"common", "1234567890", ErrPasswordCommon},
		{"common upper case", "QWERTYUIOP", ErrPasswordCommon},
		{"common mixed case", "PassWord123", ErrPasswordCommon},
		{"common with spaces", "  bismillah123  ", ErrPasswordCommon},
		{"common indonesian", "Indonesia123", ErrPasswordCommon},
		{"NUL", "abcdefghij\x00k", ErrPasswordInvalid},
		{"newline", "abcdefghij\nk", ErrPasswordInvalid},
		{"tab", "abcdef\tghijk", ErrPasswordInvalid},
		{"DEL", "abcdefghij\x7fk", ErrPasswordInvalid},
		{"C1 control", "abcdefghij\u0085k", ErrPasswordInvalid},
		{"invalid UTF-8", "abcdefghij\xffk", ErrPasswordInvalid},
		{"truncated UTF-8", "abcdefghij\xe6\x97", ErrPasswordInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPassword(tc.password)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("CheckPassword(%q): got %v, want %v", tc.password, err, tc.want)
			}
		})
	}
}

func TestCommonPasswordList(t *testing.T) {
	seen := map[string]bool{}
	long := 0
	for i, line := range strings.Split(strings.TrimRight(commonPasswordsText, "\n"), "\n") {
		switch {
		case line != strings.TrimSpace(line) || line == "":
			t.Errorf("line %d: got %q, want no blank lines or surrounding space", i+1, line)
		case line != strings.ToLower(line):
			t.Errorf("line %d: got %q, want lower case", i+1, line)
		case seen[line]:
			t.Errorf("line %d: got duplicate %q, want unique entries", i+1, line)
		}
		seen[line] = true
		if utf8.RuneCountInString(line) >= MinPasswordRunes {
			long++
		}
	}
	if got := len(commonPasswords()); got < 1000 || got != len(seen) {
		t.Errorf("unique entries: got %d (file lines %d), want >= 1000 and equal", got, len(seen))
	}
	if long < 300 {
		t.Errorf("entries of %d+ characters: got %d, want >= 300", MinPasswordRunes, long)
	}
	for _, pw := range []string{"123456", "password", "qwerty", "iloveyou", "1q2w3e4r", "bismillah", "indonesia", "sayang", "anjing", "doraemon"} {
		if !seen[pw] {
			t.Errorf("list: %q missing, want it present", pw)
		}
	}
}

func BenchmarkHashDefault(b *testing.B) {
	h := NewHasher(DefaultHashParams(), 1, time.Minute)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "pengawas pemilu jujur"); err != nil {
			b.Fatal(err)
		}
	}
}
