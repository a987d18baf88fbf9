package nahook_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/nahook/nahook"
)

// Verify accepts what the Standard Webhooks reference library signs, and
// refuses tampering, other secrets and stale timestamps.
func TestVerifyAgainstReference(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ref := must(standardwebhooks.NewWebhook(secret))
	body := []byte(`{"test": 2432232314}`)
	now := time.Now()
	headers := func(ts time.Time, sig string) http.Header {
		h := http.Header{}
		h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
		h.Set("webhook-timestamp", fmt.Sprint(ts.Unix()))
		h.Set("webhook-signature", sig)
		return h
	}
	sig := must(ref.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", now, body))
	if err := nahook.Verify(secret, headers(now, sig), body, 0); err != nil {
		t.Fatalf("the reference library's signature: %v", err)
	}
	if err := nahook.Verify(secret, headers(now, "v1,bm90IGl0 "+sig), body, 0); err != nil {
		t.Fatalf("one good signature among several: %v", err)
	}
	old := must(ref.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", now.Add(-10*time.Minute), body))
	for name, c := range map[string]struct {
		h    http.Header
		body string
	}{
		"tampered body": {headers(now, sig), `{"test": 1}`},
		"other secret":  {headers(now, must(must(standardwebhooks.NewWebhook("whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0")).Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", now, body))), string(body)},
		"stale":         {headers(now.Add(-10*time.Minute), old), string(body)},
		"no signature":  {headers(now, ""), string(body)},
	} {
		if err := nahook.Verify(secret, c.h, []byte(c.body), 0); !errors.Is(err, nahook.ErrSignature) {
			t.Errorf("%s: Verify = %v, want ErrSignature", name, err)
		}
	}
}
