package nahook

import (
	"testing"
	"time"
)

// The test vector the Standard Webhooks specification publishes with its
// reference libraries.
func TestSignSpecVector(t *testing.T) {
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if _, err := Sign("whsec_not base64!", "msg_1", time.Unix(0, 0), nil); err == nil {
		t.Fatal("a secret that is not base64 signed")
	}
}

func TestSecretFormat(t *testing.T) {
	key := newSigningKey()
	if len(key) < 24 || len(key) > 64 {
		t.Fatalf("a key of %d bytes; the specification wants 24 to 64", len(key))
	}
	s := formatSecret(key)
	sig1, err := Sign(s, "msg_1", time.Unix(1, 0), []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	if sig2 := signature([][]byte{key}, "msg_1", 1, []byte("{}")); sig1 != sig2 {
		t.Fatal("a formatted secret does not sign as its key")
	}
}
